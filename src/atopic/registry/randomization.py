"""Stratified permuted-block randomization: a concealed list made at setup, revealed slot by slot.

What
    The trial design names the arms and their allocation ratio, the stratification factors and
    the allowed block sizes. At setup an admin generates the whole list from a secret seed and
    stores it, concealed, as ``RandomizationSlot`` rows. Randomizing a subject takes the next
    unused slot of the subject's stratum; the investigator gets a randomization number, never
    the arm. Only unblinded roles see the allocation: pharmacists always, statisticians after
    database lock, and an investigator for a subject they emergency-unblinded (with a reason,
    audited).

Method (source)
    Stratified permuted block randomization with randomly varying block sizes: ICH E9
    "Statistical Principles for Clinical Trials" (1998), section 2.3.2 (blocking, block lengths
    unknown to investigators, two or more block lengths chosen at random); Rosenberger WF, Lachin
    JM, *Randomization in Clinical Trials: Theory and Practice*, 2nd ed., Wiley 2016, chapter 3
    (random permuted blocks) and chapter 7 (stratification). Each stratum (one combination of
    factor levels) has its own list of consecutive blocks. A block of size ``b = k * R``
    (``R`` = sum of the ratios) holds every arm exactly ``ratio * k`` times in a random order, so
    the allocation is balanced to the ratio at the end of every block and within a block no arm
    runs ahead of its share by more than ``ratio * k_max``.

Decisions
    * Reproducible and independent strata: each stratum's generator is ``random.Random`` seeded
      with the SHA-256 of ``["atopic-randomization-v1", str(seed), stratum key]`` (canonical
      JSON), so a stratum's list depends only on the seed, the stratum and the arms and block
      sizes, not on the other strata or the order they are generated in.
    * Stable across Python versions: only ``Random.random()`` is used, the one method whose
      sequence Python guarantees for a given seed. Integers are drawn by exact rejection
      sampling on its 53 random bits (no bias), shuffles are Fisher-Yates on those integers.
    * Block sizes are drawn uniformly from the allowed sizes (sorted, so ``(6, 3)`` and
      ``(3, 6)`` are the same design); each stratum gets whole blocks until it has at least
      ``list_length`` slots, so a stratum's list may be up to ``max(block_sizes) - 1`` longer.
    * Stratum keys are ``FACTOR=level`` joined by ``|`` in factor-name order
      (``"IGA=3|SITE=S01"``); an unstratified design has one stratum, ``"ALL"``.
    * Where the design is kept: nowhere but in the list. ``Study.design`` holds the trial design
      file's text (TOML) and is readable by every role, and the audit shows it unredacted, while
      the block sizes must stay concealed from investigators (ICH E9 2.3.2) and the seed would
      regenerate the whole list. So the stored list is the design: ``randomize`` validates a
      subject's strata against the factors and levels found in the study's stratum keys, and
      the seed is never stored (whoever generated the list keeps it, like the master list).
    * No message (``InvalidInput``, ``Forbidden``) and no log line written here names an arm
      code; design errors name arms by position (``arms[1].ratio``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atopic.errors import Described, InvalidInput
from atopic.registry.audit import Actor, now
from atopic.registry.models import RandomizationSlot, Study, Subject, Unblinding, User
from atopic.registry.roles import UNBLINDED, Forbidden, Role, parse_role, refusal, require

log = logging.getLogger(__name__)

DESIGN = "randomization design"
"""The ``subject`` of InvalidInput raised for a design."""
RANDOMIZATION = "randomization"
"""The ``subject`` of InvalidInput raised when randomizing or unblinding."""
UNSTRATIFIED = "ALL"
"""The one stratum key of a design without stratification factors."""
SEED_DOMAIN = "atopic-randomization-v1"
"""Mixed into every stratum's SHA-256 so the lists are ours and versioned."""
ARM_CODE_LENGTH = 20
STRATUM_KEY_LENGTH = 200
RESERVED = ("=", "|")
_TWO53 = 1 << 53


# --- the design and the list (pure) ------------------------------------------------------------


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _name_ok(value: object) -> bool:
    return (
        isinstance(value, str)
        and value.strip() == value
        and value != ""
        and not any(c in value for c in RESERVED)
    )


@dataclass(frozen=True)
class RandomizationDesign:
    """What the list is made from: arms with their ratio, strata factors, block sizes, length.

    ``arms``: ``(code, ratio)`` pairs in design order, e.g. ``(("PBO", 1), ("LOW", 1),
    ("HIGH", 1))``; at least two arms, codes unique, at most 20 characters; ratios whole numbers
    of at least 1. ``strata``: factor name -> levels, e.g. ``{"IGA": ("3", "4"), "SITE": ("S01",
    "S02")}`` (may be empty); names and levels are non-blank text without ``=`` or ``|``.
    ``block_sizes``: the allowed block sizes, each a multiple of the sum of the ratios (``(3, 6)``
    for 1:1:1); kept sorted. ``list_length``: the least number of slots per stratum (the list is
    completed to whole blocks). Every rule is checked on construction; a violation raises
    ``InvalidInput`` naming the field (arms by position, never by code).
    """

    arms: tuple[tuple[str, int], ...]
    strata: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    block_sizes: tuple[int, ...] = ()
    list_length: int = 0

    def __post_init__(self) -> None:
        arms = _check_arms(self.arms)
        strata = _check_strata(self.strata)
        total = sum(ratio for _, ratio in arms)
        sizes = _check_block_sizes(self.block_sizes, total)
        if not _positive_int(self.list_length):
            raise InvalidInput(DESIGN, "list_length", self.list_length, "a whole number >= 1")
        object.__setattr__(self, "arms", arms)
        object.__setattr__(self, "strata", strata)
        object.__setattr__(self, "block_sizes", sizes)
        for key in self.strata_keys():
            if len(key) > STRATUM_KEY_LENGTH:
                raise InvalidInput(
                    DESIGN,
                    "strata",
                    Described(f"a stratum key of {len(key)} characters"),
                    f"stratum keys of at most {STRATUM_KEY_LENGTH} characters",
                )

    @property
    def ratio_sum(self) -> int:
        """The sum of the ratios: the smallest balanced block (3 for 1:1:1, 5 for 2:3)."""
        return sum(ratio for _, ratio in self.arms)

    @property
    def arm_codes(self) -> tuple[str, ...]:
        """The arm codes in design order."""
        return tuple(code for code, _ in self.arms)

    def strata_keys(self) -> tuple[str, ...]:
        """Every stratum's key: the cartesian product of the levels, factors in name order."""
        names = sorted(self.strata)
        combos = itertools.product(*(self.strata[name] for name in names))
        return tuple(stratum_key(dict(zip(names, combo, strict=True))) for combo in combos)


def _check_arms(arms: object) -> tuple[tuple[str, int], ...]:
    if isinstance(arms, str | bytes) or not isinstance(arms, Sequence):
        raise InvalidInput(DESIGN, "arms", Described(type(arms).__name__), "(code, ratio) pairs")
    if len(arms) < 2:
        raise InvalidInput(DESIGN, "arms", Described(f"{len(arms)} arms"), "at least 2 arms")
    checked: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    for i, pair in enumerate(arms):
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InvalidInput(
                DESIGN, f"arms[{i}]", Described("not a pair"), "a (code, ratio) pair"
            )
        code, ratio = pair
        if not isinstance(code, str) or not code.strip() or code.strip() != code:
            raise InvalidInput(
                DESIGN,
                f"arms[{i}].code",
                Described("a blank or padded code"),
                "non-blank text without surrounding spaces",
            )
        if len(code) > ARM_CODE_LENGTH:
            raise InvalidInput(
                DESIGN,
                f"arms[{i}].code",
                Described(f"{len(code)} characters"),
                f"at most {ARM_CODE_LENGTH} characters",
            )
        if code in seen:
            raise InvalidInput(
                DESIGN,
                f"arms[{i}].code",
                Described(f"the code of arms[{seen[code]}]"),
                "a code no other arm has",
            )
        if not _positive_int(ratio):
            raise InvalidInput(DESIGN, f"arms[{i}].ratio", ratio, "a whole number >= 1")
        seen[code] = i
        checked.append((code, ratio))
    return tuple(checked)


def _check_strata(strata: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(strata, Mapping):
        raise InvalidInput(
            DESIGN, "strata", Described(type(strata).__name__), "a mapping factor -> levels"
        )
    checked: dict[str, tuple[str, ...]] = {}
    for name, levels in strata.items():
        if not _name_ok(name):
            raise InvalidInput(
                DESIGN, "strata", name, "factor names of non-blank text without '=' or '|'"
            )
        if isinstance(levels, str | bytes) or not isinstance(levels, Sequence) or not levels:
            raise InvalidInput(DESIGN, f"strata.{name}", levels, "a non-empty tuple of levels")
        for level in levels:
            if not _name_ok(level):
                raise InvalidInput(
                    DESIGN, f"strata.{name}", level, "levels of non-blank text without '=' or '|'"
                )
        if len(set(levels)) != len(levels):
            raise InvalidInput(DESIGN, f"strata.{name}", tuple(levels), "distinct levels")
        checked[name] = tuple(levels)
    return checked


def _check_block_sizes(sizes: object, total: int) -> tuple[int, ...]:
    allowed = f"distinct multiples of {total} (the sum of the ratios), at least one"
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or not sizes:
        raise InvalidInput(DESIGN, "block_sizes", sizes, allowed)
    for size in sizes:
        if not _positive_int(size) or size % total:
            raise InvalidInput(DESIGN, "block_sizes", size, allowed)
    if len(set(sizes)) != len(sizes):
        raise InvalidInput(DESIGN, "block_sizes", tuple(sizes), allowed)
    return tuple(sorted(sizes))


def stratum_key(levels: Mapping[str, str]) -> str:
    """The stable key of one stratum: ``FACTOR=level`` joined by ``|``, factors in name order.

    >>> stratum_key({"SITE": "S01", "IGA": "3"})
    'IGA=3|SITE=S01'
    >>> stratum_key({})
    'ALL'
    """
    if not levels:
        return UNSTRATIFIED
    return "|".join(f"{name}={levels[name]}" for name in sorted(levels))


def parse_stratum_key(key: str) -> dict[str, str]:
    """The factor levels of a stratum key (the inverse of ``stratum_key``).

    >>> parse_stratum_key("IGA=3|SITE=S01")
    {'IGA': '3', 'SITE': 'S01'}
    """
    if key == UNSTRATIFIED:
        return {}
    return dict(part.split("=", 1) for part in key.split("|"))  # type: ignore[misc]


@dataclass(frozen=True)
class Slot:
    """One line of the list: stratum key, position ``seq`` and ``block`` in it (from 1), arm."""

    stratum: str
    seq: int
    block: int
    arm: str

    def __repr__(self) -> str:
        # Keep the arm out of reprs that end up in logs and tracebacks.
        return f"Slot(stratum={self.stratum!r}, seq={self.seq}, block={self.block}, arm=...)"


def _check_seed(seed: object) -> str:
    if isinstance(seed, bool) or not isinstance(seed, int | str) or str(seed).strip() == "":
        raise InvalidInput(DESIGN, "seed", seed, "a whole number or non-blank text")
    return str(seed)


def stratum_rng(seed: int | str, stratum: str) -> random.Random:
    """The generator of one stratum: ``random.Random`` seeded with SHA-256 of (seed, stratum)."""
    payload = json.dumps([SEED_DOMAIN, _check_seed(seed), stratum], separators=(",", ":"))
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _below(rng: random.Random, n: int) -> int:
    """A uniform whole number in ``[0, n)`` using only ``rng.random()`` (exact rejection)."""
    limit = _TWO53 - _TWO53 % n
    while True:
        k = int(rng.random() * _TWO53)  # random() is k / 2**53 with k uniform: exact
        if k < limit:
            return k % n


def _shuffle(rng: random.Random, items: list[str]) -> None:
    """Fisher-Yates (Durstenfeld) on ``_below``: every order equally likely."""
    for i in range(len(items) - 1, 0, -1):
        j = _below(rng, i + 1)
        items[i], items[j] = items[j], items[i]


def generate_stratum(design: RandomizationDesign, seed: int | str, stratum: str) -> list[Slot]:
    """One stratum's list: permuted blocks of randomly chosen allowed sizes, whole blocks until
    there are at least ``design.list_length`` slots."""
    rng = stratum_rng(seed, stratum)
    slots: list[Slot] = []
    block = 0
    while len(slots) < design.list_length:
        block += 1
        size = design.block_sizes[_below(rng, len(design.block_sizes))]
        k = size // design.ratio_sum
        content = [code for code, ratio in design.arms for _ in range(ratio * k)]
        _shuffle(rng, content)
        start = len(slots)
        slots.extend(Slot(stratum, start + i, block, arm) for i, arm in enumerate(content, 1))
    return slots


def generate_list(design: RandomizationDesign, seed: int | str) -> list[Slot]:
    """The whole list: every stratum of ``design`` (in ``strata_keys`` order), each from its own
    generator seeded by SHA-256 of (seed, stratum). The same design and seed give the same list
    on any machine and Python version; see the module docstring for the method and source."""
    _check_seed(seed)
    if not isinstance(design, RandomizationDesign):
        raise InvalidInput(DESIGN, "design", Described(type(design).__name__), "a design")
    return [slot for key in design.strata_keys() for slot in generate_stratum(design, seed, key)]


# --- services (database) -----------------------------------------------------------------------


@dataclass(frozen=True)
class RandomizationResult:
    """The outcome of ``randomize``: the randomization number (stratum and seq) and the arm,
    which is ``None`` unless the acting user may see the allocation."""

    usubjid: str
    stratum: str
    seq: int
    number: str
    arm: str | None = None


@dataclass(frozen=True)
class AllocationRow:
    """One line of the pharmacist's allocation table."""

    usubjid: str
    number: str
    arm: str


@dataclass(frozen=True)
class ListSummary:
    """What ``setup_randomization`` wrote: the study, its strata keys and the number of slots."""

    study_id: int
    strata: tuple[str, ...]
    slots: int


class AllocationForbidden(Forbidden):
    """Reading the allocation table is for unblinded roles only (a ``roles.Forbidden``)."""

    def __init__(self, role: str) -> None:
        PermissionError.__init__(self, refusal(role, "read the allocation table", UNBLINDED))
        self.action = "read_allocation"


def randomization_number(stratum: str, seq: int) -> str:
    """The number a subject is given: stratum key and position, e.g. ``IGA=3|SITE=S01#0007``."""
    return f"{stratum}#{seq:04d}"


@contextmanager
def _acting(session: Session, actor: Actor, reason: str) -> Iterator[None]:
    """Write as ``actor`` with ``reason``; the caller's pending changes keep the caller's reason."""
    current = session.info.get("actor")
    if current is not None and current != actor:
        raise RuntimeError("the session acts for another user than the one given")
    session.flush()
    previous = session.info.get("reason")
    session.info["actor"] = actor
    session.info["reason"] = reason
    try:
        yield
        session.flush()
    finally:
        if current is None:
            session.info.pop("actor", None)
        if previous is None:
            session.info.pop("reason", None)
        else:
            session.info["reason"] = previous


def _subject(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id) if isinstance(subject_id, int) else None
    if subject is None:
        raise InvalidInput(RANDOMIZATION, "subject", subject_id, "an enrolled subject's id")
    return subject


def _slot_of(session: Session, subject_id: int) -> RandomizationSlot | None:
    return session.scalars(
        select(RandomizationSlot).where(RandomizationSlot.subject_id == subject_id)
    ).first()


def _user_id(session: Session, actor: Actor) -> int | None:
    return session.scalars(select(User.id).where(User.username == actor.username)).first()


def setup_randomization(
    session: Session, actor: Actor, study_id: int, design: RandomizationDesign, seed: int | str
) -> ListSummary:
    """Generate the study's list from ``design`` and ``seed`` and store it, concealed (admin).

    Refused when the study already has a list (a list is never replaced or extended) and, by the
    session, after database lock. The slots' inserts are audited with reason "randomization list
    setup"; the seed is not stored.
    """
    require(actor.role, "manage_study")
    if not isinstance(design, RandomizationDesign):
        raise InvalidInput(DESIGN, "design", Described(type(design).__name__), "a design")
    study = session.get(Study, study_id) if isinstance(study_id, int) else None
    if study is None:
        raise InvalidInput(RANDOMIZATION, "study", study_id, "an existing study's id")
    exists = session.scalars(
        select(RandomizationSlot.id).where(RandomizationSlot.study_id == study.id).limit(1)
    ).first()
    if exists is not None:
        raise InvalidInput(
            RANDOMIZATION,
            "study",
            study.studyid,
            "a study without a randomization list (its list exists and is never replaced)",
        )
    slots = generate_list(design, seed)
    with _acting(session, actor, "randomization list setup"):
        session.add_all(
            RandomizationSlot(
                study_id=study.id, stratum=s.stratum, seq=s.seq, block=s.block, arm=s.arm
            )
            for s in slots
        )
    keys = design.strata_keys()
    log.info(
        "randomization list set up for study %s: %d strata, %d slots",
        study.studyid,
        len(keys),
        len(slots),
    )
    return ListSummary(study.id, keys, len(slots))


def _factors(session: Session, study: Study) -> dict[str, list[str]]:
    """The design's factors and levels (in list order) as found in the study's stratum keys."""
    rows = session.execute(
        select(RandomizationSlot.stratum, func.min(RandomizationSlot.id).label("first"))
        .where(RandomizationSlot.study_id == study.id)
        .group_by(RandomizationSlot.stratum)
        .order_by("first")
    ).all()
    if not rows:
        raise InvalidInput(
            RANDOMIZATION,
            "study",
            study.studyid,
            "a study whose randomization list an admin has set up",
        )
    factors: dict[str, list[str]] = {}
    for key, _ in rows:
        for name, level in parse_stratum_key(key).items():
            levels = factors.setdefault(name, [])
            if level not in levels:
                levels.append(level)
    return factors


def _strata_key(factors: Mapping[str, Sequence[str]], strata: object) -> tuple[str, dict[str, str]]:
    if not isinstance(strata, Mapping):
        raise InvalidInput(
            RANDOMIZATION, "strata", Described(type(strata).__name__), "a mapping factor -> level"
        )
    for name in strata:
        if name not in factors:
            names = ", ".join(sorted(factors)) or "none (the design is not stratified)"
            raise InvalidInput(RANDOMIZATION, "strata", name, f"a design factor: {names}")
    levels: dict[str, str] = {}
    for name, allowed in factors.items():
        value = strata.get(name)
        if not isinstance(value, str) or value not in allowed:
            choices = ", ".join(repr(level) for level in allowed)
            raise InvalidInput(RANDOMIZATION, f"strata.{name}", value, f"one of {choices}")
        levels[name] = value
    return stratum_key(levels), levels


def _record_strata(subject: Subject, levels: Mapping[str, str]) -> None:
    """Keep the strata used on the subject; refuse when they contradict the recorded ones."""
    try:
        recorded = json.loads(subject.strata or "{}")
    except ValueError:
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    for name, level in levels.items():
        if name in recorded and str(recorded[name]) != level:
            raise InvalidInput(
                RANDOMIZATION,
                f"strata.{name}",
                level,
                f"the level recorded for the subject at enrolment, {str(recorded[name])!r}",
            )
    merged = json.dumps({**recorded, **levels}, sort_keys=True)
    if merged != subject.strata:
        subject.strata = merged


def randomize(
    session: Session, actor: Actor, subject_id: int, strata: Mapping[str, str]
) -> RandomizationResult:
    """Randomize one subject (investigator): the next unused slot of the subject's stratum.

    ``strata`` gives each design factor's level (``{"IGA": "3", "SITE": "S01"}``; ``{}`` for an
    unstratified design); it is checked against the study's list and must agree with strata
    recorded at enrolment (missing ones are recorded). The slot with the lowest ``seq`` still
    free is taken (on PostgreSQL locked with ``FOR UPDATE SKIP LOCKED``, so concurrent
    randomizations in one stratum take different slots; SQLite serializes writers) and assigned
    with reason "randomization". Refused: a subject already randomized, a stratum whose list is
    used up, unknown factors or levels. The result carries the arm only if the actor may see the
    allocation (``can_see_allocation``); an investigator gets the number alone.
    """
    require(actor.role, "randomize")
    subject = _subject(session, subject_id)
    if _slot_of(session, subject.id) is not None:
        raise InvalidInput(
            RANDOMIZATION, "subject", subject.usubjid, "a subject not yet randomized"
        )
    study = session.get(Study, subject.study_id)
    assert study is not None
    key, levels = _strata_key(_factors(session, study), strata)
    query = (
        select(RandomizationSlot)
        .where(
            RandomizationSlot.study_id == study.id,
            RandomizationSlot.stratum == key,
            RandomizationSlot.subject_id.is_(None),
        )
        .order_by(RandomizationSlot.seq)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    slot = session.scalars(query).first()
    if slot is None:
        raise InvalidInput(
            RANDOMIZATION,
            "stratum",
            key,
            "a stratum with an unused slot left (this stratum's list is used up)",
        )
    try:
        with _acting(session, actor, "randomization"), session.begin_nested():
            slot.subject_id = subject.id
            slot.assigned_at = now()
            _record_strata(subject, levels)
            session.flush()
    except IntegrityError:  # the same subject randomized concurrently in another transaction
        raise InvalidInput(
            RANDOMIZATION, "subject", subject.usubjid, "a subject not yet randomized"
        ) from None
    number = randomization_number(slot.stratum, slot.seq)
    # No subject identifiers in logs: the internal record number only.
    log.info("subject record %d randomized", subject.id)
    arm = slot.arm if can_see_allocation(session, actor, subject.id) else None
    return RandomizationResult(subject.usubjid, slot.stratum, slot.seq, number, arm)


def emergency_unblind(session: Session, actor: Actor, subject_id: int, reason: str) -> str:
    """Reveal one randomized subject's arm to the acting investigator in an emergency.

    ``reason`` is required (non-blank); an ``Unblinding`` row (who, when, why) is written and
    audited with the reason, and from then on this investigator, and no other, sees this
    subject's arm (``can_see_allocation``). Returns the arm.
    """
    require(actor.role, "emergency_unblind")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "unblinding", "reason", reason, "a non-blank reason for the emergency unblinding"
        )
    subject = _subject(session, subject_id)
    slot = _slot_of(session, subject.id)
    if slot is None:
        raise InvalidInput("unblinding", "subject", subject.usubjid, "a randomized subject")
    user_id = _user_id(session, actor)
    if user_id is None:
        raise InvalidInput("unblinding", "user", actor.username, "a registered user")
    why = reason.strip()
    with _acting(session, actor, f"emergency unblinding: {why}"):
        session.add(Unblinding(subject_id=subject.id, user_id=user_id, reason=why, at=now()))
    log.warning("emergency unblinding of subject record %d by %s", subject.id, actor.username)
    return slot.arm


def _all_locked(session: Session) -> bool:
    states = session.scalars(select(Study.locked)).all()
    return bool(states) and all(states)


def can_see_allocation(session: Session, actor: Actor, subject_id: int | None = None) -> bool:
    """Whether ``actor`` may see the allocation of ``subject_id`` (or, when ``None``, of every
    subject, e.g. in the audit trail or an export).

    Pharmacists always; statisticians once the subject's study is locked (for ``None``: once
    every study is locked); an investigator only for a subject they emergency-unblinded (never
    for ``None``); nobody else.
    """
    role = parse_role(actor.role)
    if role in UNBLINDED:
        return True
    if role is Role.STATISTICIAN:
        if subject_id is None:
            return _all_locked(session)
        study = session.scalars(
            select(Study)
            .join(Subject, Subject.study_id == Study.id)
            .where(Subject.id == subject_id)
        ).first()
        return study is not None and bool(study.locked)
    if role is Role.INVESTIGATOR and subject_id is not None:
        found = session.scalars(
            select(Unblinding.id)
            .join(User, User.id == Unblinding.user_id)
            .where(Unblinding.subject_id == subject_id, User.username == actor.username)
            .limit(1)
        ).first()
        return found is not None
    return False


def arm_for(session: Session, actor: Actor, subject_id: int) -> str | None:
    """The subject's arm if ``actor`` may see it, else ``None`` (also when not randomized)."""
    subject = _subject(session, subject_id)
    if not can_see_allocation(session, actor, subject.id):
        return None
    slot = _slot_of(session, subject.id)
    return None if slot is None else slot.arm


def allocation_table(
    session: Session, actor: Actor, study_id: int | None = None
) -> list[AllocationRow]:
    """Every randomized subject with number and arm, by USUBJID (pharmacists; others refused
    with ``roles.Forbidden``). ``study_id`` narrows it to one study."""
    role = parse_role(actor.role)
    if role not in UNBLINDED:
        raise AllocationForbidden(role.value)
    query = (
        select(
            Subject.usubjid, RandomizationSlot.stratum, RandomizationSlot.seq, RandomizationSlot.arm
        )
        .join(Subject, Subject.id == RandomizationSlot.subject_id)
        .order_by(Subject.usubjid)
    )
    if study_id is not None:
        query = query.where(RandomizationSlot.study_id == study_id)
    return [
        AllocationRow(usubjid, randomization_number(stratum, seq), arm)
        for usubjid, stratum, seq, arm in session.execute(query)
    ]


__all__ = [
    "AllocationForbidden",
    "AllocationRow",
    "ListSummary",
    "RandomizationDesign",
    "RandomizationResult",
    "Slot",
    "allocation_table",
    "arm_for",
    "can_see_allocation",
    "emergency_unblind",
    "generate_list",
    "generate_stratum",
    "parse_stratum_key",
    "randomization_number",
    "randomize",
    "setup_randomization",
    "stratum_key",
    "stratum_rng",
]
