"""Roles and what each may do, declared once as data (least privilege).

| role | may |
|---|---|
| admin | manage users and sites, lock and unlock the database; blinded |
| investigator | enrol subjects, record visits, scores, labs, AEs, medication, diagnoses; randomize; emergency-unblind one subject with a reason |
| coordinator | enrol subjects and record visits, scores, labs, AEs, medication |
| pharmacist | record doses of the investigational product; unblinded |
| monitor | read everything but the allocation, read the audit trail |
| statistician | read and export; blinded until database lock |
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from atopic.errors import InvalidInput


class Role(StrEnum):
    """A user's role."""

    ADMIN = "admin"
    INVESTIGATOR = "investigator"
    COORDINATOR = "coordinator"
    PHARMACIST = "pharmacist"
    MONITOR = "monitor"
    STATISTICIAN = "statistician"


ALL = frozenset(Role)
DATA_ENTRY = frozenset({Role.INVESTIGATOR, Role.COORDINATOR})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": ALL,
    "manage_users": frozenset({Role.ADMIN}),
    "manage_study": frozenset({Role.ADMIN}),
    "lock": frozenset({Role.ADMIN}),
    "enrol": DATA_ENTRY,
    "record_visit": DATA_ENTRY,
    "record_assessment": DATA_ENTRY,
    "record_lab": DATA_ENTRY,
    "record_adverse_event": DATA_ENTRY,
    "record_medication": DATA_ENTRY,
    "record_diagnosis": frozenset({Role.INVESTIGATOR}),
    "randomize": frozenset({Role.INVESTIGATOR}),
    "emergency_unblind": frozenset({Role.INVESTIGATOR}),
    "record_dose": frozenset({Role.PHARMACIST}),
    "read_audit": frozenset({Role.MONITOR, Role.ADMIN}),
    "export": frozenset({Role.STATISTICIAN, Role.MONITOR, Role.PHARMACIST, Role.ADMIN}),
}
"""Action -> roles allowed to do it."""

UNBLINDED = frozenset({Role.PHARMACIST})
"""Roles that always see the allocation. Statisticians see it after database lock."""


def parse_role(value: object) -> Role:
    """The Role named by ``value``, or InvalidInput listing the roles."""
    try:
        return Role(str(value))
    except ValueError:
        raise InvalidInput(
            "user", "role", value, "one of " + ", ".join(r.value for r in Role)
        ) from None


def refusal(role: str, what: str, allowed: Iterable[Role]) -> str:
    """The one sentence of every refusal: ``an investigator may not lock (allowed: admin)``."""
    article = "an" if role[:1] in "aeiou" else "a"
    names = ", ".join(sorted(r.value for r in allowed))
    return f"{article} {role} may not {what} (allowed: {names})"


class Forbidden(PermissionError):
    """The user's role may not do this. The message names the action and the roles that may."""

    def __init__(self, action: str, role: str, what: str | None = None) -> None:
        allowed = PERMISSIONS.get(action, ())
        super().__init__(refusal(role, what or action.replace("_", " "), allowed))
        self.action = action


def require(role: str, action: str) -> None:
    """Raise Forbidden unless ``role`` may do ``action``."""
    if Role(role) not in PERMISSIONS[action]:
        raise Forbidden(action, role)
