"""The one error type that every front door shows to a user.

A message always names the instrument (or criteria set, or table), the field, the value received
and what is allowed, so the CLI can print it, the web app can return it with 422 and a batch can
store it as a reject ``reason`` without rewording.
"""

from __future__ import annotations

import math
from decimal import Decimal


class Described(str):
    """A description of what was received, shown as written (``2 unanswered items``)."""


def format_value(value: object) -> str:
    """Render a received value for a message: ``nothing`` for a missing value, strings quoted."""
    if isinstance(value, Described):
        return str(value)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value} (a boolean)"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "infinity" if value > 0 else "-infinity"
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return f"{value!r} (a {type(value).__name__})"


class InvalidInput(ValueError):
    """A value a user entered is not allowed.

    ``subject`` is the instrument, criteria set or table (``"EASI"``), ``field`` the dotted path of
    the field (``"trunk.erythema"``), ``value`` what was received and ``allowed`` what is allowed
    (``"one of 0, 1, 1.5, 2, 2.5, 3"``). ``str(error)`` is the whole sentence.
    """

    def __init__(self, subject: str, field: str, value: object, allowed: str) -> None:
        self.subject = subject
        self.field = field
        self.value = value
        self.allowed = allowed
        self.message = f"{subject} {field} must be {allowed}; got {format_value(value)}"
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        """The JSON shape used by the CLI and the web API: ``{"field": ..., "message": ...}``."""
        return {"field": self.field, "message": self.message}
