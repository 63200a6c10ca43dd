"""Cross-item rules shared by several instruments (one of two alternatives, missing-item limits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from atopic.errors import Described
from atopic.instruments.spec import Present, Rule, Values


def one_of(first: str, second: str) -> tuple[Rule, Rule]:
    """Exactly one of two alternative fields must be given (e.g. EASI area as % or as score)."""
    given = Rule(
        field=first,
        allowed=f"given (or {second} instead)",
        check=lambda v, p, ops: p[first] | p[second],
        got=lambda raw: None,
    )
    not_both = Rule(
        field=second,
        allowed=f"left out when {first} is given (give one of the two)",
        check=lambda v, p, ops: ops.where(p[first] & p[second], False, True),
        got=lambda raw: raw.get(second),
    )
    return given, not_both


def at_most_missing(fields: Sequence[str], limit: int, field: str, consequence: str) -> Rule:
    """At most ``limit`` of ``fields`` may be unanswered; more and the instrument is not scored."""

    def check(v: Values, p: Present, ops: Any) -> Any:
        missing = ops.total([ops.as_int(ops.where(p[f], False, True)) for f in fields])
        return missing <= limit

    def got(raw: Mapping[str, object]) -> object:
        missing = [f for f in fields if raw.get(f) is None]
        return Described(f"{len(missing)} unanswered ({', '.join(missing)})")

    return Rule(
        field=field,
        allowed=f"answered with at most {limit} unanswered item{'s' if limit != 1 else ''} "
        f"({consequence})",
        check=check,
        got=got,
    )
