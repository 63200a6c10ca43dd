"""Declarations and the one counting rule shared by every set of diagnostic criteria.

Every criteria set is: groups of features, each group with a threshold (at least N met, or all).
The diagnosis is made when every group reaches its threshold. Input is a mapping of feature code
to ``True``/``False``: every feature the rules apply must be answered, nothing else is accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from atopic.diagnosis.age import Years
from atopic.diagnosis.result import DiagnosisResult, Feature, GroupCount
from atopic.errors import InvalidInput

__all__ = ["CriteriaSet", "Group", "check_answers", "evaluate"]

_BOOL_ALLOWED = "answered True or False"


@dataclass(frozen=True)
class Group:
    """A group of features and its threshold: at least ``needed`` met (``None``: all of them)."""

    code: str
    label: str
    needed: int | None = None


@dataclass(frozen=True)
class CriteriaSet:
    """One set of diagnostic criteria declared as data.

    ``name`` is the registry key (``"hanifin_rajka"``), ``title`` the name people use and the
    subject of every error message (``"Hanifin-Rajka"``), ``source`` the paper as cited in the
    reference. ``features`` lists every declared feature, including those used only at some ages.
    """

    name: str
    title: str
    source: str
    groups: tuple[Group, ...]
    features: tuple[Feature, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """All declared feature codes, in declaration order."""
        return tuple(feature.code for feature in self.features)

    def feature(self, code: str) -> Feature:
        """The declared feature with this code (``KeyError`` if there is none)."""
        for feature in self.features:
            if feature.code == code:
                return feature
        raise KeyError(code)


def _unknown_allowed(criteria: CriteriaSet, name: str) -> str:
    """What is allowed instead of an unknown feature name, with a suggestion when one is close."""
    close = difflib.get_close_matches(name, criteria.codes, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"a declared feature name{hint}; declared: {', '.join(criteria.codes)}"


def check_answers(
    criteria: CriteriaSet, features: object, applied: tuple[Feature, ...]
) -> dict[str, bool]:
    """Validate ``features`` and return the answers as a plain dict of code -> bool.

    Every feature in ``applied`` must be present with a ``bool`` value (``1``, ``0``, ``"yes"``
    and ``None`` are refused). Declared features outside ``applied`` may be given (they are
    reported as not applied) but must still be ``bool``. Any other name is refused. Errors are
    ``InvalidInput`` with the criteria title as subject and ``features.<code>`` as field.
    """
    if not isinstance(features, Mapping):
        raise InvalidInput(
            criteria.title, "features", features, "a mapping of feature name to True or False"
        )
    declared = set(criteria.codes)
    for name in features:
        if not isinstance(name, str) or name not in declared:
            raise InvalidInput(
                criteria.title, f"features.{name}", name, _unknown_allowed(criteria, str(name))
            )
    for feature in criteria.features:
        if feature.code not in features:
            if feature in applied:
                raise InvalidInput(
                    criteria.title,
                    f"features.{feature.code}",
                    None,
                    f"{_BOOL_ALLOWED} ({feature.label}; every feature must be answered)",
                )
            continue
        value = features[feature.code]
        if not isinstance(value, bool):
            raise InvalidInput(
                criteria.title,
                f"features.{feature.code}",
                value,
                f"{_BOOL_ALLOWED} ({feature.label})",
            )
    return {code: value is True for code, value in features.items()}


def evaluate(
    criteria: CriteriaSet,
    features: object,
    applied: tuple[Feature, ...] | None = None,
    rules: tuple[str, ...] = (),
    *,
    age_years: Years | None = None,
) -> DiagnosisResult:
    """Check the answers and count each group against its threshold.

    ``applied`` is the features the rules use for this patient (default: all declared). The
    diagnosis is made when every group has at least ``needed`` of its applied features met.
    ``age_years`` is recorded on the result (already validated by the caller).
    """
    used = criteria.features if applied is None else applied
    answers = check_answers(criteria, features, used)
    met = tuple(feature for feature in used if answers[feature.code])
    missed = tuple(feature for feature in used if not answers[feature.code])
    counts = []
    for group in criteria.groups:
        members = [feature for feature in used if feature.group == group.code]
        counts.append(
            GroupCount(
                group=group.code,
                label=group.label,
                met=sum(answers[feature.code] for feature in members),
                of=len(members),
                needed=len(members) if group.needed is None else group.needed,
            )
        )
    return DiagnosisResult(
        criteria=criteria.name,
        title=criteria.title,
        source=criteria.source,
        diagnosed=all(count.satisfied for count in counts),
        met=met,
        missed=missed,
        groups=tuple(counts),
        rules=rules,
        not_applied=tuple(feature for feature in criteria.features if feature not in used),
        age_years=age_years,
    )
