"""Dermatology Life Quality Index (DLQI) and its versions for children (CDLQI) and infants (IDQOL).

Sources: DLQI: Finlay AY, Khan GK, Clin Exp Dermatol 1994; bands: Hongbo Y et al., J Invest
Dermatol 2005;125:659-664. CDLQI: Lewis-Jones MS, Finlay AY, Br J Dermatol 1995; bands: Waters A
et al., Br J Dermatol 2010 (``atopic.instruments.unverified.CDLQI_BANDS``, not checked against the
primary source). IDQOL: Lewis-Jones MS, Finlay AY, Dykes PJ, Br J Dermatol 2001;144:104-110.
Decisions: ../shared/reference/instruments.md, section Patient-reported measures; CDISC codes:
../shared/reference/trials.md.

**DLQI** (age 16 and over): ten questions on the last week. Answers are kept as the words on the
form, so "not relevant" stays distinct from "not at all" in the record: very much 3, a lot 2,
a little 1, not at all 0; questions 3-10 also offer not relevant 0. Question 7 (prevented from
working or studying) is answered "yes" 3, "no" or "not relevant" 0; after "no" the follow-up 7a
(problem at work or studying) is answered a lot 2, a little 1, not at all 0, and question 7 scores
the 7a answer. ``DLQI = sum of the ten question scores``, 0-30. One unanswered question counts 0;
two or more: not scored. Bands (Hongbo 2005): 0-1 no effect, 2-5 small, 6-10 moderate, 11-20 very
large, 21-30 extremely large effect. Official CDISC codes: QSCAT ``DLQI``, QSTESTCD ``DLQI101`` ...
``DLQI110`` and ``DLQI107A`` (the 7a follow-up).

**CDLQI** (age 4-16): ten questions 0-3, total 0-30, bands from ``unverified.CDLQI_BANDS``
(0-1, 2-6, 7-12, 13-18, 19-30). Sponsor codes ``CDLQI101`` ... ``CDLQI110``.

**IDQOL** (under 4, completed by a parent): ten questions 0-3, total 0-30, no bands (the reference
gives none). A separate eczema-severity question 0-4 is reported as the part ``severity`` and never
added to the total. Sponsor codes ``IDQOL101`` ... ``IDQOL110``.

Decisions where the reference is silent:

- CDLQI and IDQOL: all ten questions are required, no imputation (the one-missing rule is stated
  for POEM and DLQI only); an unanswered question is an ``InvalidInput`` naming it.
- DLQI 7a must be given when question 7 is "no" and left out otherwise (also when question 7 is
  unanswered: a 7a answer never stands in for question 7). The 7a follow-up is not one of the ten
  questions, so it does not count towards the unanswered limit.
- DLQI question 7: a "no" is stored as the response code ``ITEM_7_NO`` (-1), not as points,
  because "no" and "not relevant" both score 0 yet only "no" calls for 7a; the kernel turns the
  code into points. Read points from the score, never from a response's units.
- IDQOL severity is optional. Outputs are always numbers, so when it is not answered the part
  ``severity`` is 0 and ``severity_given`` is 0 (1 when answered); the repr says
  "severity not given". Its code is ``IDQOL100``: it is not one of the ten scored questions, and
  111 is left free for a total, as ``DLQI111`` is the DLQI total.
- Item labels: DLQI and CDLQI questions 1-9 follow the published forms; the CDLQI question 10 label
  (treatment) and the order of IDQOL questions 5-10 (play, family activities, mealtimes,
  treatment, dressing, bath time) are as the forms are usually printed and not checked against
  the primary sources.

JSON input: ``{"items": [a1, ..., a10]}`` (exactly ten entries, in the order of the form);
DLQI also takes ``"item_7a"`` (field ``items.7a``), IDQOL also ``"severity"``. DLQI entries are
answer words or null (unanswered); CDLQI and IDQOL entries are whole numbers 0-3.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from atopic.instruments import rules
from atopic.instruments.domains import integers, labels
from atopic.instruments.scalar import list_parser, score
from atopic.instruments.spec import Banding, BandSet, Cut, Instrument, Item, Output, Rule, Score
from atopic.instruments.unverified import CDLQI_BANDS

FIELDS = tuple(f"items.{n}" for n in range(1, 11))
"""The ten questions of each version, numbered as on the form."""

# --- DLQI -----------------------------------------------------------------------------------

DLQI_QUESTIONS = (
    "Itchy, sore, painful or stinging skin",
    "Embarrassed or self-conscious",
    "Shopping, looking after home or garden",
    "Clothes worn",
    "Social or leisure activities",
    "Sport",
    "Prevented from working or studying",
    "Problems with partner, close friends or relatives",
    "Sexual difficulties",
    "Problems caused by treatment",
)
"""The ten DLQI questions in short form (Finlay and Khan's form)."""
ITEM_7A_LABEL = "If not prevented: problem at work or studying"

ITEM_7_NO = -1
"""Response code of "no" to question 7: points come from 7a (see the module docstring)."""
ANSWERS = labels({"very much": 3, "a lot": 2, "a little": 1, "not at all": 0})
"""Questions 1-2."""
ANSWERS_OR_NOT_RELEVANT = labels(
    {"very much": 3, "a lot": 2, "a little": 1, "not at all": 0, "not relevant": 0}
)
"""Questions 3-6 and 8-10."""
ITEM_7 = labels({"yes": 3, "no": ITEM_7_NO, "not relevant": 0})
ITEM_7A = labels({"a lot": 2, "a little": 1, "not at all": 0})


def _dlqi_items() -> tuple[Item, ...]:
    items = []
    for n, (field, question) in enumerate(zip(FIELDS, DLQI_QUESTIONS, strict=True), start=1):
        domain = ANSWERS if n <= 2 else ITEM_7 if n == 7 else ANSWERS_OR_NOT_RELEVANT
        items.append(Item(field, f"DLQI1{n:02d}", question, domain, optional=True))
        if n == 7:
            items.append(Item("items.7a", "DLQI107A", ITEM_7A_LABEL, ITEM_7A, optional=True))
    return tuple(items)


def dlqi_kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """Total (question 7 scores 3 for yes, the 7a answer for no, 0 for not relevant; an
    unanswered question 0) and the number of unanswered questions."""
    item_7 = ops.where(v["items.7"] == ITEM_7_NO, v["items.7a"], v["items.7"])
    return {
        "total": ops.total([*(v[f] for f in FIELDS if f != "items.7"), item_7]),
        "unanswered": ops.total(ops.as_int(ops.where(present[f], False, True)) for f in FIELDS),
    }


_7A_WORDS = "'a lot', 'a little' or 'not at all'"
DLQI_RULES = (
    rules.at_most_missing(FIELDS, 1, "items", "two or more unanswered: DLQI is not scored"),
    Rule(
        field="items.7a",
        allowed=f"given ({_7A_WORDS}) when items.7 is 'no'",
        check=lambda v, p, ops: ops.where(v["items.7"] == ITEM_7_NO, p["items.7a"], True),
        got=lambda raw: raw.get("items.7a"),
    ),
    Rule(
        field="items.7a",
        allowed="left out unless items.7 is 'no' (it follows up a 'no')",
        check=lambda v, p, ops: ops.where(p["items.7a"], v["items.7"] == ITEM_7_NO, True),
        got=lambda raw: raw.get("items.7a"),
    ),
)

HONGBO_2005 = BandSet(
    "hongbo2005",
    "Hongbo Y et al., J Invest Dermatol 2005;125:659: 0-1, 2-5, 6-10, 11-20, 21-30",
    (
        Cut(Decimal(0), "no effect"),
        Cut(Decimal(2), "small effect"),
        Cut(Decimal(6), "moderate effect"),
        Cut(Decimal(11), "very large effect"),
        Cut(Decimal(21), "extremely large effect"),
    ),
)

DLQI = Instrument(
    name="DLQI",
    qscat="DLQI",
    title="Dermatology Life Quality Index",
    version="DLQI (Finlay 1994)",
    source="Finlay AY, Khan GK, Clin Exp Dermatol 1994; bands: Hongbo Y et al., "
    "J Invest Dermatol 2005;125:659",
    items=_dlqi_items(),
    outputs=(
        Output("total", 1, "DLQI (0-30)"),
        Output("unanswered", 1, "Unanswered questions (one counts 0)"),
    ),
    kernel=dlqi_kernel,
    rules=DLQI_RULES,
    bandings=(Banding("total", "band", {"hongbo2005": HONGBO_2005}),),
    parse=list_parser(
        "DLQI",
        len(FIELDS),
        "each an answer word, or null if unanswered",
        extra={"item_7a": "items.7a"},
    ),
    describe_input=(
        '{"items": ["a little", "not at all", "not relevant", "a lot", "not at all", '
        '"not relevant", "no", "not at all", "not relevant", "a little"], "item_7a": "a little"}: '
        "exactly 10 answers in the order of the form, each one of 'very much', 'a lot', "
        "'a little', 'not at all' (questions 3-6 and 8-10 also 'not relevant'), or null when "
        "unanswered (one unanswered counts 0, two or more: not scored); question 7 is 'yes', "
        "'no' or 'not relevant'; item_7a ('a lot', 'a little', 'not at all') is given only, and "
        "always, when question 7 is 'no'"
    ),
)

# --- CDLQI ----------------------------------------------------------------------------------

CDLQI_QUESTIONS = (
    "Itchy, scratchy, sore or painful skin",
    "Embarrassed, self-conscious, upset or sad",
    "Friendships",
    "Changed or special clothes or shoes",
    "Going out, playing or hobbies",
    "Avoided swimming or other sports",
    "School work (or enjoyment of the holiday)",
    "Name-calling, teasing, bullying, questions or being avoided",
    "Sleep",
    "Problems caused by treatment",
)
WATERS_2010 = BandSet(
    "waters2010",
    "Waters A et al., Br J Dermatol 2010 (unverified.CDLQI_BANDS): 0-1, 2-6, 7-12, 13-18, 19-30",
    tuple(Cut(Decimal(lower), label) for lower, label in CDLQI_BANDS),
)


def sum_kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """The total is the sum of the ten answers (all required)."""
    return {"total": ops.total(v[f] for f in FIELDS)}


CDLQI = Instrument(
    name="CDLQI",
    qscat="CDLQI",
    title="Children's Dermatology Life Quality Index",
    version="CDLQI (Lewis-Jones 1995)",
    source="Lewis-Jones MS, Finlay AY, Br J Dermatol 1995; bands: Waters A et al., "
    "Br J Dermatol 2010 (unverified)",
    items=tuple(
        Item(field, f"CDLQI1{n:02d}", question, integers(0, 3))
        for n, (field, question) in enumerate(zip(FIELDS, CDLQI_QUESTIONS, strict=True), start=1)
    ),
    outputs=(Output("total", 1, "CDLQI (0-30)"),),
    kernel=sum_kernel,
    bandings=(Banding("total", "band", {"waters2010": WATERS_2010}),),
    parse=list_parser("CDLQI", len(FIELDS), "each a whole number 0-3; all required"),
    describe_input=(
        '{"items": [1, 2, 0, 0, 1, 0, 1, 0, 2, 1]}: exactly 10 answers in the order of the form, '
        "each a whole number 0-3 (not at all 0 ... very much 3); all are required"
    ),
)

# --- IDQOL ----------------------------------------------------------------------------------

IDQOL_QUESTIONS = (
    "Itching and scratching",
    "Mood",
    "Time to get to sleep",
    "Time sleep was disturbed",
    "Playing or swimming",
    "Family activities",
    "Mealtimes",
    "Problems caused by treatment",
    "Dressing and undressing",
    "Bath time",
)


def idqol_kernel(v: Mapping[str, Any], present: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """Total of the ten answers; severity reported beside it, never added."""
    return {
        "total": ops.total(v[f] for f in FIELDS),
        "severity": v["severity"],
        "severity_given": ops.as_int(present["severity"]),
    }


IDQOL = Instrument(
    name="IDQOL",
    qscat="IDQOL",
    title="Infants' Dermatitis Quality of Life Index",
    version="IDQOL (Lewis-Jones 2001)",
    source="Lewis-Jones MS, Finlay AY, Dykes PJ, Br J Dermatol 2001;144:104",
    items=(
        *(
            Item(field, f"IDQOL1{n:02d}", question, integers(0, 3))
            for n, (field, question) in enumerate(
                zip(FIELDS, IDQOL_QUESTIONS, strict=True), start=1
            )
        ),
        Item(
            "severity",
            "IDQOL100",
            "Eczema severity (0 none ... 4 extremely severe), not added to the total",
            integers(0, 4),
            optional=True,
        ),
    ),
    outputs=(
        Output("total", 1, "IDQOL (0-30)"),
        Output("severity", 1, "Eczema severity (0-4), not added; 0 when not given"),
        Output("severity_given", 1, "Severity answered (1) or not (0)"),
    ),
    kernel=idqol_kernel,
    parse=list_parser("IDQOL", len(FIELDS), "each a whole number 0-3; all required"),
    describe_input=(
        '{"items": [2, 1, 1, 0, 0, 1, 0, 1, 0, 2], "severity": 2}: exactly 10 answers in the '
        "order of the form, each a whole number 0-3, all required; severity (0-4) is optional "
        "and never added to the total"
    ),
    note=lambda flat: (
        "severity not given" if flat.get("severity") is None else f"severity {flat['severity']}"
    ),
)


def compute_dlqi(data: Mapping[str, object]) -> Score:
    """Score one DLQI (0-30; Finlay 1994, bands Hongbo 2005); see the module docstring.

    ``data`` is ``{"items": [10 answer words or null], "item_7a": ...}`` (7a only after "no").

    >>> compute_dlqi({"items": ["a lot", "a little", "not relevant", "not at all", "very much",
    ...     "not relevant", "no", "a little", None, "not at all"], "item_7a": "a lot"})
    <DLQI 9 moderate effect>
    """
    return score(DLQI, data)


def compute_cdlqi(data: Mapping[str, object]) -> Score:
    """Score one CDLQI (0-30, ten answers 0-3, all required; bands Waters 2010, unverified).

    >>> compute_cdlqi({"items": [1, 2, 0, 0, 1, 0, 1, 0, 2, 1]})
    <CDLQI 8 moderate effect>
    """
    return score(CDLQI, data)


def compute_idqol(data: Mapping[str, object]) -> Score:
    """Score one IDQOL (0-30, ten answers 0-3, all required; severity 0-4 reported, not added).

    >>> compute_idqol({"items": [2, 1, 1, 0, 0, 1, 0, 1, 0, 2], "severity": 3})
    <IDQOL 8 (severity 3)>
    """
    return score(IDQOL, data)
