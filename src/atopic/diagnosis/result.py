"""The result shared by every set of diagnostic criteria.

A result never says only yes or no: it names the features met, missed and not applied, counts each
group against its threshold and lists the rules applied (reference, "Diagnostic criteria").
"""

from __future__ import annotations

from dataclasses import dataclass

from atopic.diagnosis.age import AgePhase, ExactAge, Years

__all__ = ["DiagnosisResult", "Feature", "GroupCount"]


@dataclass(frozen=True)
class Feature:
    """One feature of a criteria set, declared as data.

    ``code`` is the key in the input mapping (``"xerosis"``), ``label`` the clinician-readable
    wording from the reference, ``group`` the group it counts in (``"major"``, ``"minor"``,
    ``"mandatory"``, ``"other"`` ...) and ``applies`` the ages it is used at, in words.
    """

    code: str
    label: str
    group: str
    applies: str = "all ages"

    def to_dict(self) -> dict[str, str]:
        """JSON shape: ``{"code": ..., "label": ..., "group": ...}``."""
        return {"code": self.code, "label": self.label, "group": self.group}


@dataclass(frozen=True)
class GroupCount:
    """How many features of one group were met, out of how many applied, against the threshold."""

    group: str
    label: str
    met: int
    of: int
    needed: int

    @property
    def satisfied(self) -> bool:
        """True when at least ``needed`` features of the group were met."""
        return self.met >= self.needed

    def describe(self) -> str:
        """Short text such as ``"major 4/4 >= 3"`` (or ``"major 2/4 < 3"`` when not satisfied)."""
        sign = ">=" if self.satisfied else "<"
        return f"{self.group} {self.met}/{self.of} {sign} {self.needed}"

    def to_dict(self) -> dict[str, object]:
        """JSON shape with the counts, the threshold and whether it was satisfied."""
        return {
            "group": self.group,
            "label": self.label,
            "met": self.met,
            "of": self.of,
            "needed": self.needed,
            "satisfied": self.satisfied,
        }


@dataclass(frozen=True)
class DiagnosisResult:
    """The outcome of one set of diagnostic criteria for one patient.

    ``diagnosed`` is True exactly when every group in ``groups`` is satisfied. ``met`` and
    ``missed`` partition the features applied; ``not_applied`` holds declared features that the
    rules for this age do not use (for example onset before age 2 under age 4). ``rules`` names
    the rule variant applied. ``age_years``, ``age`` and ``age_phase`` record the age given or
    computed (``age`` and ``age_phase`` only when computed from dates).
    """

    criteria: str
    title: str
    source: str
    diagnosed: bool
    met: tuple[Feature, ...]
    missed: tuple[Feature, ...]
    groups: tuple[GroupCount, ...]
    rules: tuple[str, ...] = ()
    not_applied: tuple[Feature, ...] = ()
    age_years: Years | None = None
    age: ExactAge | None = None
    age_phase: AgePhase | None = None

    @property
    def met_codes(self) -> tuple[str, ...]:
        """Codes of the features met, in declaration order."""
        return tuple(feature.code for feature in self.met)

    @property
    def missed_codes(self) -> tuple[str, ...]:
        """Codes of the features applied but not met, in declaration order."""
        return tuple(feature.code for feature in self.missed)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: criteria, source, verdict, groups, met/missed with code and label."""
        out: dict[str, object] = {
            "criteria": self.criteria,
            "title": self.title,
            "source": self.source,
            "diagnosed": self.diagnosed,
            "groups": [group.to_dict() for group in self.groups],
            "met": [feature.to_dict() for feature in self.met],
            "missed": [feature.to_dict() for feature in self.missed],
            "not_applied": [feature.to_dict() for feature in self.not_applied],
            "rules": list(self.rules),
            "age_years": _json_number(self.age_years),
        }
        if self.age is not None:
            out["age"] = self.age.to_dict()
        if self.age_phase is not None:
            out["age_phase"] = {
                "code": self.age_phase.value,
                "label": self.age_phase.label,
                "presentation": self.age_phase.presentation,
            }
        return out

    def __repr__(self) -> str:
        verdict = "AD" if self.diagnosed else "not AD"
        counts = ", ".join(group.describe() for group in self.groups)
        rules = f"; {', '.join(self.rules)}" if self.rules else ""
        return f"<{self.title}: {verdict} ({counts}{rules})>"


def _json_number(value: Years | None) -> int | float | None:
    """An age as a JSON number: integers stay integers, other numbers become floats."""
    if value is None or isinstance(value, int):
        return value
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float
