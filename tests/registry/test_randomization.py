"""Randomization: the list (pure, property-tested) and the services on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import doctest
import json
import logging
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

import atopic.registry.randomization as randomization_module
from atopic.errors import InvalidInput
from atopic.registry.audit import Actor, AuditedSession, now, verify_chain
from atopic.registry.db import session_factory, transaction
from atopic.registry.models import (
    AuditEntry,
    RandomizationSlot,
    Site,
    Study,
    Subject,
    Unblinding,
    User,
)
from atopic.registry.randomization import (
    RandomizationDesign,
    Slot,
    allocation_table,
    arm_for,
    can_see_allocation,
    emergency_unblind,
    generate_list,
    generate_stratum,
    randomize,
    setup_randomization,
    stratum_key,
)
from atopic.registry.roles import Forbidden

DOC = Path(__file__).resolve().parents[2] / "docs" / "randomization.md"

ADMIN = Actor("ada", "admin")
INVESTIGATOR = Actor("ivan", "investigator")
OTHER_INVESTIGATOR = Actor("iris", "investigator")
COORDINATOR = Actor("cora", "coordinator")
PHARMACIST = Actor("phil", "pharmacist")
MONITOR = Actor("mona", "monitor")
STATISTICIAN = Actor("stan", "statistician")
ACTORS = (ADMIN, INVESTIGATOR, OTHER_INVESTIGATOR, COORDINATOR, PHARMACIST, MONITOR, STATISTICIAN)

ARMS = (("PBO", 1), ("LOW", 1), ("HIGH", 1))
CODES = ("PBO", "LOW", "HIGH")
STRATA = {"IGA": ("3", "4"), "SITE": ("S01", "S02")}
DESIGN = RandomizationDesign(arms=ARMS, strata=STRATA, block_sizes=(3, 6), list_length=12)
S1 = {"IGA": "3", "SITE": "S01"}


def _balanced(slots: list[Slot], design: RandomizationDesign) -> None:
    ratios = dict(design.arms)
    by_block: dict[tuple[str, int], list[str]] = {}
    for slot in slots:
        by_block.setdefault((slot.stratum, slot.block), []).append(slot.arm)
    for arms in by_block.values():
        assert len(arms) in design.block_sizes
        k = len(arms) // design.ratio_sum
        assert Counter(arms) == {code: ratio * k for code, ratio in ratios.items()}


def _no_arm_code(text: str) -> None:
    assert not any(code in text for code in CODES), text


# --- the list (pure) ---------------------------------------------------------------------------


@st.composite
def designs(draw: st.DrawFn) -> RandomizationDesign:
    n = draw(st.integers(2, 4))
    ratios = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    total = sum(ratios)
    ks = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3, unique=True))
    factors = draw(
        st.dictionaries(st.sampled_from(["IGA", "SITE", "AGEGR"]), st.integers(1, 3), max_size=2)
    )
    return RandomizationDesign(
        arms=tuple((f"ARM{i}", ratio) for i, ratio in enumerate(ratios)),
        strata={name: tuple(f"L{j}" for j in range(m)) for name, m in factors.items()},
        block_sizes=tuple(k * total for k in ks),
        list_length=draw(st.integers(1, 25)),
    )


seeds = st.one_of(st.integers(), st.text(min_size=1).filter(lambda s: s.strip() != ""))


def test_the_same_seed_gives_the_same_list_and_another_seed_another() -> None:
    first = generate_list(DESIGN, 2026)
    assert first == generate_list(DESIGN, 2026)
    assert first == generate_list(DESIGN, "2026")  # the seed is used as text
    lists = {tuple(s.arm for s in generate_list(DESIGN, seed)) for seed in (1, 2, 3, "x", "y")}
    assert len(lists) == 5


def test_the_list_is_pinned_so_a_changed_generator_is_noticed() -> None:
    # Reproducibility across Python versions and releases: these lists must never change.
    design = RandomizationDesign(arms=(("A", 1), ("B", 1)), block_sizes=(2, 4), list_length=8)
    assert [(s.seq, s.block, s.arm) for s in generate_list(design, "golden")] == [
        (1, 1, "A"),
        (2, 1, "A"),
        (3, 1, "B"),
        (4, 1, "B"),
        (5, 2, "A"),
        (6, 2, "B"),
        (7, 2, "B"),
        (8, 2, "A"),
    ]
    first = [s.arm for s in generate_list(DESIGN, 2026) if s.stratum == "IGA=3|SITE=S01"]
    block_1 = ["LOW", "HIGH", "PBO", "HIGH", "LOW", "PBO"]
    block_2 = ["PBO", "PBO", "LOW", "HIGH", "LOW", "HIGH"]
    assert first == [*block_1, *block_2]


@given(design=designs(), seed=seeds)
def test_every_block_is_balanced_and_every_stratum_is_complete(
    design: RandomizationDesign, seed: int | str
) -> None:
    slots = generate_list(design, seed)
    assert slots == generate_list(design, seed)
    _balanced(slots, design)
    keys = design.strata_keys()
    assert list(dict.fromkeys(s.stratum for s in slots)) == list(keys)
    for key in keys:
        stratum = [s for s in slots if s.stratum == key]
        assert [s.seq for s in stratum] == list(range(1, len(stratum) + 1))
        blocks = [s.block for s in stratum]
        assert blocks == sorted(blocks)
        assert set(blocks) == set(range(1, max(blocks) + 1))
        assert design.list_length <= len(stratum) < design.list_length + max(design.block_sizes)


@given(design=designs(), seed=seeds)
def test_no_arm_runs_ahead_of_its_share_by_more_than_one_block(
    design: RandomizationDesign, seed: int | str
) -> None:
    k_max = max(design.block_sizes) // design.ratio_sum
    ratios = dict(design.arms)
    for key in design.strata_keys():
        counts = dict.fromkeys(ratios, 0)
        for slot in generate_stratum(design, seed, key):
            counts[slot.arm] += 1
            shares = [counts[code] / ratio for code, ratio in ratios.items()]
            assert max(shares) - min(shares) <= k_max


@given(design=designs(), seed=seeds)
def test_each_stratum_depends_only_on_seed_and_stratum(
    design: RandomizationDesign, seed: int | str
) -> None:
    slots = generate_list(design, seed)
    for key in design.strata_keys():
        assert [s for s in slots if s.stratum == key] == generate_stratum(design, seed, key)


def test_strata_are_independent() -> None:
    wider = RandomizationDesign(
        arms=ARMS,
        strata={"SITE": ("S01", "S02", "S03"), "IGA": ("3", "4")},
        block_sizes=(3, 6),
        list_length=12,
    )
    base = generate_list(DESIGN, 7)
    more = generate_list(wider, 7)
    for key in DESIGN.strata_keys():  # adding a site changes no other stratum's list
        assert [s for s in base if s.stratum == key] == [s for s in more if s.stratum == key]
    long = RandomizationDesign(arms=ARMS, strata=STRATA, block_sizes=(3, 6), list_length=60)
    per_stratum = {
        tuple(s.arm for s in generate_stratum(long, 7, key)) for key in long.strata_keys()
    }
    assert len(per_stratum) == len(long.strata_keys())  # strata are not copies of each other


def test_stratum_keys_are_stable() -> None:
    assert DESIGN.strata_keys() == (
        "IGA=3|SITE=S01",
        "IGA=3|SITE=S02",
        "IGA=4|SITE=S01",
        "IGA=4|SITE=S02",
    )
    assert stratum_key({"SITE": "S01", "IGA": "3"}) == "IGA=3|SITE=S01"
    plain = RandomizationDesign(arms=ARMS, block_sizes=(6, 3), list_length=5)
    assert plain.strata_keys() == ("ALL",)
    assert plain.block_sizes == (3, 6)
    whole = [s.stratum for s in generate_list(plain, 1)]
    assert set(whole) == {"ALL"}
    assert len(whole) in (6, 9)  # whole blocks: 3 + 3, 3 + 6, 6


BAD_DESIGNS: list[tuple[dict[str, Any], str]] = [
    ({"arms": (("PBO", 1),)}, "arms"),
    ({"arms": ()}, "arms"),
    ({"arms": "PBO"}, "arms"),
    ({"arms": (("PBO", 1), ("LOW",))}, "arms[1]"),
    ({"arms": (("PBO", 0), ("LOW", 1))}, "arms[0].ratio"),
    ({"arms": (("PBO", 1), ("LOW", 1.5))}, "arms[1].ratio"),
    ({"arms": (("PBO", True), ("LOW", 1))}, "arms[0].ratio"),
    ({"arms": (("PBO", 1), ("PBO", 1), ("HIGH", 1))}, "arms[1].code"),
    ({"arms": (("PBO", 1), ("  ", 1))}, "arms[1].code"),
    ({"arms": (("PBO", 1), (" LOW", 1))}, "arms[1].code"),
    ({"arms": (("PBO" * 7, 1), ("LOW", 1))}, "arms[0].code"),
    ({"arms": ((1, 1), ("LOW", 1))}, "arms[0].code"),
    ({"strata": ["IGA"]}, "strata"),
    ({"strata": {"IG|A": ("3",)}}, "strata"),
    ({"strata": {"": ("3",)}}, "strata"),
    ({"strata": {"IGA": ()}}, "strata.IGA"),
    ({"strata": {"IGA": "34"}}, "strata.IGA"),
    ({"strata": {"IGA": ("3", "3")}}, "strata.IGA"),
    ({"strata": {"IGA": ("3=4",)}}, "strata.IGA"),
    ({"strata": {"IGA": (3, 4)}}, "strata.IGA"),
    ({"strata": {"F": ("x" * 250,)}}, "strata"),
    ({"block_sizes": ()}, "block_sizes"),
    ({"block_sizes": (4,)}, "block_sizes"),
    ({"block_sizes": (3, 7)}, "block_sizes"),
    ({"block_sizes": (0,)}, "block_sizes"),
    ({"block_sizes": (-3,)}, "block_sizes"),
    ({"block_sizes": (3, 3)}, "block_sizes"),
    ({"block_sizes": 6}, "block_sizes"),
    ({"list_length": 0}, "list_length"),
    ({"list_length": True}, "list_length"),
    ({"list_length": 2.5}, "list_length"),
]


@pytest.mark.parametrize(("change", "field"), BAD_DESIGNS)
def test_invalid_designs_are_refused_by_field(change: dict[str, Any], field: str) -> None:
    given_ = {"arms": ARMS, "strata": STRATA, "block_sizes": (3, 6), "list_length": 12, **change}
    with pytest.raises(InvalidInput) as caught:
        RandomizationDesign(**given_)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"randomization design {field} must be")
    _no_arm_code(str(caught.value))


@pytest.mark.parametrize("seed", ["", "   ", True, 1.5, None, b"1"])
def test_invalid_seeds_are_refused(seed: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        generate_list(DESIGN, seed)
    assert caught.value.field == "seed"


def test_slot_repr_hides_the_arm() -> None:
    slot = generate_list(DESIGN, 1)[0]
    _no_arm_code(repr(slot))


def test_module_and_docs_examples_run() -> None:
    assert doctest.testmod(randomization_module).failed == 0
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --- services (SQLite and PostgreSQL) ----------------------------------------------------------


def _registry(
    engine: Engine,
    *,
    design: RandomizationDesign | None = DESIGN,
    subjects: int = 4,
    strata: Mapping[str, str] | None = None,
) -> tuple[sessionmaker[AuditedSession], int, list[int]]:
    """A study with users for every actor, ``subjects`` subjects and (unless None) a list."""
    factory = session_factory(engine)
    with transaction(factory, ADMIN) as session:
        site, study = Site(code="S01", name="Site one"), Study(studyid="ATO-001", title="Demo")
        session.add_all([site, study])
        session.add_all(
            User(username=a.username, password_hash="x", role=a.role, created_at=now())
            for a in ACTORS
        )
        session.flush()
        people = [
            Subject(
                study_id=study.id,
                site_id=site.id,
                usubjid=f"ATO-001-{i:04d}",
                sex="F",
                age=30,
                enrolled_on=dt.date(2026, 1, 5),
                strata=json.dumps(dict(strata or {})),
            )
            for i in range(1, subjects + 1)
        ]
        session.add_all(people)
        session.flush()
        study_id, ids = study.id, [p.id for p in people]
    if design is not None:
        with transaction(factory, ADMIN) as session:
            setup_randomization(session, ADMIN, study_id, design, 2026)
    return factory, study_id, ids


def _lock(factory: sessionmaker[AuditedSession], study_id: int) -> None:
    with transaction(factory, ADMIN, reason="database lock") as session:
        session.get(Study, study_id).locked = True


def _randomize(
    factory: sessionmaker[AuditedSession], subject_id: int, strata: Mapping[str, str] = S1
) -> Any:
    with transaction(factory, INVESTIGATOR) as session:
        return randomize(session, INVESTIGATOR, subject_id, strata)


def test_setup_stores_the_generated_list_once(engine: Engine) -> None:
    factory, study_id, _ = _registry(engine)
    with factory() as session:
        rows = session.scalars(select(RandomizationSlot).order_by(RandomizationSlot.id)).all()
        assert [(r.stratum, r.seq, r.block, r.arm) for r in rows] == [
            (s.stratum, s.seq, s.block, s.arm) for s in generate_list(DESIGN, 2026)
        ]
        assert all(r.subject_id is None and r.study_id == study_id for r in rows)
        reasons = session.scalars(
            select(AuditEntry.reason).where(AuditEntry.table_name == "randomization_slot")
        ).all()
        assert set(reasons) == {"randomization list setup"}
        assert verify_chain(session).ok
    with (
        pytest.raises(InvalidInput, match="randomization study must be a study without") as caught,
        transaction(factory, ADMIN) as session,
    ):
        setup_randomization(session, ADMIN, study_id, DESIGN, 99)
    assert caught.value.field == "study"


@pytest.mark.parametrize(
    "actor", [INVESTIGATOR, COORDINATOR, PHARMACIST, MONITOR, STATISTICIAN], ids=lambda a: a.role
)
def test_only_an_admin_sets_up_the_list(engine: Engine, actor: Actor) -> None:
    factory, study_id, _ = _registry(engine, design=None)
    with pytest.raises(Forbidden), transaction(factory, actor) as session:
        setup_randomization(session, actor, study_id, DESIGN, 1)


@pytest.mark.parametrize(
    "actor", [COORDINATOR, MONITOR, STATISTICIAN, PHARMACIST, ADMIN], ids=lambda a: a.role
)
def test_only_investigators_randomize(engine: Engine, actor: Actor) -> None:
    factory, _, ids = _registry(engine)
    with pytest.raises(Forbidden) as caught, transaction(factory, actor) as session:
        randomize(session, actor, ids[0], S1)
    assert "may not randomize" in str(caught.value)


def test_an_investigator_gets_a_number_not_the_arm(engine: Engine) -> None:
    factory, _, ids = _registry(engine)
    result = _randomize(factory, ids[0])
    assert result.arm is None
    assert (result.stratum, result.seq, result.number) == (
        "IGA=3|SITE=S01",
        1,
        "IGA=3|SITE=S01#0001",
    )
    assert _randomize(factory, ids[1]).number == "IGA=3|SITE=S01#0002"
    assert _randomize(factory, ids[2], {"IGA": "4", "SITE": "S02"}).seq == 1
    with factory() as session:
        slot = session.scalars(
            select(RandomizationSlot).where(RandomizationSlot.subject_id == ids[0])
        ).one()
        assert (slot.stratum, slot.seq) == ("IGA=3|SITE=S01", 1)
        assert slot.assigned_at is not None
        assert session.get(Subject, ids[0]).strata == '{"IGA": "3", "SITE": "S01"}'
        change = session.scalars(
            select(AuditEntry).where(
                AuditEntry.table_name == "randomization_slot",
                AuditEntry.field == "subject_id",
                AuditEntry.action == "update",
            )
        ).first()
        assert (change.action, change.reason, change.username) == (
            "update",
            "randomization",
            "ivan",
        )
        assert verify_chain(session).ok
        for actor in (INVESTIGATOR, COORDINATOR, MONITOR, ADMIN, STATISTICIAN):
            assert arm_for(session, actor, ids[0]) is None
            assert not can_see_allocation(session, actor, ids[0])
            assert not can_see_allocation(session, actor)


def test_the_pharmacist_sees_the_arm_and_the_allocation_table(engine: Engine) -> None:
    factory, _, ids = _registry(engine)
    first, second = _randomize(factory, ids[0]), _randomize(factory, ids[1])
    with factory() as session:
        arms = {
            r.subject_id: r.arm
            for r in session.scalars(
                select(RandomizationSlot).where(RandomizationSlot.subject_id.is_not(None))
            )
        }
        assert can_see_allocation(session, PHARMACIST, ids[0])
        assert can_see_allocation(session, PHARMACIST)
        assert arm_for(session, PHARMACIST, ids[0]) == arms[ids[0]]
        assert arm_for(session, PHARMACIST, ids[3]) is None  # not randomized
        table = allocation_table(session, PHARMACIST)
        assert [(r.usubjid, r.number, r.arm) for r in table] == [
            ("ATO-001-0001", first.number, arms[ids[0]]),
            ("ATO-001-0002", second.number, arms[ids[1]]),
        ]
        for actor in (INVESTIGATOR, COORDINATOR, MONITOR, STATISTICIAN, ADMIN):
            with pytest.raises(Forbidden) as caught:
                allocation_table(session, actor)
            article = "an" if actor.role[0] in "aeiou" else "a"
            assert str(caught.value) == (
                f"{article} {actor.role} may not read the allocation table (allowed: pharmacist)"
            )


def test_the_statistician_sees_the_allocation_only_after_lock(engine: Engine) -> None:
    factory, study_id, ids = _registry(engine)
    _randomize(factory, ids[0])
    with factory() as session:
        assert not can_see_allocation(session, STATISTICIAN, ids[0])
        assert not can_see_allocation(session, STATISTICIAN)
        assert arm_for(session, STATISTICIAN, ids[0]) is None
    _lock(factory, study_id)
    with factory() as session:
        assert can_see_allocation(session, STATISTICIAN, ids[0])
        assert can_see_allocation(session, STATISTICIAN)
        assert arm_for(session, STATISTICIAN, ids[0]) == arm_for(session, PHARMACIST, ids[0])
        assert arm_for(session, STATISTICIAN, ids[0]) in CODES
        assert arm_for(session, MONITOR, ids[0]) is None  # lock unblinds only the statistician


def test_emergency_unblinding_needs_a_reason_is_audited_and_unblinds_that_investigator_only(
    engine: Engine,
) -> None:
    factory, _, ids = _registry(engine)
    _randomize(factory, ids[0])
    _randomize(factory, ids[1])
    for blank in (None, "", "   "):
        with pytest.raises(InvalidInput) as caught, transaction(factory, INVESTIGATOR) as s:
            emergency_unblind(s, INVESTIGATOR, ids[0], blank)  # type: ignore[arg-type]
        assert (caught.value.subject, caught.value.field) == ("unblinding", "reason")
    for actor in (COORDINATOR, PHARMACIST, MONITOR, STATISTICIAN, ADMIN):
        with pytest.raises(Forbidden), transaction(factory, actor) as session:
            emergency_unblind(session, actor, ids[0], "anaphylaxis")
    with pytest.raises(InvalidInput) as caught, transaction(factory, INVESTIGATOR) as session:
        emergency_unblind(session, INVESTIGATOR, ids[3], "anaphylaxis")
    assert caught.value.field == "subject"
    with factory() as session:
        assert session.scalars(select(Unblinding)).all() == []
        expected = arm_for(session, PHARMACIST, ids[0])
    with transaction(factory, INVESTIGATOR) as session:
        arm = emergency_unblind(session, INVESTIGATOR, ids[0], "  anaphylaxis, needs treatment ")
    assert arm == expected
    with factory() as session:
        row = session.scalars(select(Unblinding)).one()
        ivan = session.scalars(select(User).where(User.username == "ivan")).one()
        assert (row.subject_id, row.user_id, row.reason) == (
            ids[0],
            ivan.id,
            "anaphylaxis, needs treatment",
        )
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.table_name == "unblinding")
        ).all()
        assert {e.field for e in audit} >= {"subject_id", "user_id", "reason", "at"}
        assert all(e.action == "insert" and e.username == "ivan" for e in audit)
        assert {e.reason for e in audit} == {"emergency unblinding: anaphylaxis, needs treatment"}
        assert verify_chain(session).ok
        assert can_see_allocation(session, INVESTIGATOR, ids[0])
        assert arm_for(session, INVESTIGATOR, ids[0]) == expected
        assert arm_for(session, INVESTIGATOR, ids[1]) is None  # only that subject
        assert not can_see_allocation(session, INVESTIGATOR)  # never everyone
        assert arm_for(session, OTHER_INVESTIGATOR, ids[0]) is None  # only that investigator
        assert arm_for(session, COORDINATOR, ids[0]) is None


def test_a_subject_is_randomized_once(engine: Engine) -> None:
    factory, _, ids = _registry(engine)
    _randomize(factory, ids[0])
    with pytest.raises(InvalidInput) as caught:
        _randomize(factory, ids[0], {"IGA": "4", "SITE": "S02"})
    assert (caught.value.field, caught.value.value) == ("subject", "ATO-001-0001")
    with factory() as session:
        assert (
            len(
                session.scalars(
                    select(RandomizationSlot).where(RandomizationSlot.subject_id == ids[0])
                ).all()
            )
            == 1
        )


def test_a_concurrent_second_randomization_of_a_subject_is_refused_by_the_database(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory, _, ids = _registry(engine)
    _randomize(factory, ids[0])
    # Another transaction has not committed yet when this one checks: the check sees nothing.
    monkeypatch.setattr(randomization_module, "_slot_of", lambda session, subject_id: None)
    with pytest.raises(InvalidInput) as caught:
        _randomize(factory, ids[0])
    assert (caught.value.field, caught.value.value) == ("subject", "ATO-001-0001")
    with factory() as session:
        used = session.scalars(
            select(RandomizationSlot.subject_id).where(RandomizationSlot.subject_id.is_not(None))
        ).all()
        assert used == [ids[0]]


def test_designs_compare_and_hash_by_value() -> None:
    same = RandomizationDesign(
        arms=[("PBO", 1), ("LOW", 1), ("HIGH", 1)],
        strata={"SITE": ["S01", "S02"], "IGA": ["3", "4"]},
        block_sizes=[6, 3],
        list_length=12,
    )
    assert same == DESIGN
    assert hash(same) == hash(DESIGN)
    assert same.strata_keys() == DESIGN.strata_keys()


def test_an_exhausted_stratum_is_refused(engine: Engine) -> None:
    design = RandomizationDesign(arms=ARMS, strata=STRATA, block_sizes=(3,), list_length=3)
    factory, _, ids = _registry(engine, design=design, subjects=5)
    for subject_id in ids[:3]:
        _randomize(factory, subject_id)
    with pytest.raises(InvalidInput) as caught:
        _randomize(factory, ids[3])
    assert (caught.value.field, caught.value.value) == ("stratum", "IGA=3|SITE=S01")
    assert "used up" in str(caught.value)
    assert _randomize(factory, ids[3], {"IGA": "3", "SITE": "S02"}).seq == 1  # others go on


@pytest.mark.parametrize(
    ("strata", "field"),
    [
        ({"IGA": "5", "SITE": "S01"}, "strata.IGA"),
        ({"IGA": 3, "SITE": "S01"}, "strata.IGA"),
        ({"IGA": "3"}, "strata.SITE"),
        ({"IGA": "3", "SITE": "S01", "SEX": "F"}, "strata"),
        (["IGA", "3"], "strata"),
    ],
)
def test_strata_are_checked_against_the_design(engine: Engine, strata: Any, field: str) -> None:
    factory, _, ids = _registry(engine)
    with pytest.raises(InvalidInput) as caught:
        _randomize(factory, ids[0], strata)
    assert caught.value.field == field
    with factory() as session:
        assert (
            session.scalars(
                select(RandomizationSlot).where(RandomizationSlot.subject_id.is_not(None))
            ).all()
            == []
        )


def test_strata_must_agree_with_those_recorded_at_enrolment(engine: Engine) -> None:
    factory, _, ids = _registry(engine, strata={"IGA": "4"})
    with pytest.raises(InvalidInput, match="recorded for the subject at enrolment") as caught:
        _randomize(factory, ids[0], S1)
    assert caught.value.field == "strata.IGA"
    assert _randomize(factory, ids[0], {"IGA": "4", "SITE": "S01"}).stratum == "IGA=4|SITE=S01"
    with factory() as session:
        assert session.get(Subject, ids[0]).strata == '{"IGA": "4", "SITE": "S01"}'


def test_randomizing_before_setup_is_refused(engine: Engine) -> None:
    factory, _, ids = _registry(engine, design=None)
    with pytest.raises(InvalidInput, match="randomization list an admin has set up"):
        _randomize(factory, ids[0])


def test_thirty_subjects_in_one_stratum_stay_within_the_block_imbalance_bound(
    engine: Engine,
) -> None:
    design = RandomizationDesign(arms=ARMS, strata=STRATA, block_sizes=(3, 6), list_length=30)
    factory, _, ids = _registry(engine, design=design, subjects=30)
    counts = dict.fromkeys(CODES, 0)
    k_max = max(design.block_sizes) // design.ratio_sum
    for n, subject_id in enumerate(ids, 1):
        result = _randomize(factory, subject_id)
        assert (result.seq, result.arm) == (n, None)
        with factory() as session:
            arm = arm_for(session, PHARMACIST, subject_id)
        assert arm is not None
        counts[arm] += 1
        assert max(counts.values()) - min(counts.values()) <= k_max, (n, counts)
    with factory() as session:
        stratum = session.execute(
            select(RandomizationSlot.seq, RandomizationSlot.block, RandomizationSlot.arm)
            .where(RandomizationSlot.stratum == "IGA=3|SITE=S01")
            .order_by(RandomizationSlot.seq)
        ).all()
    last_of_block = {block: seq for seq, block, _ in stratum}
    running = dict.fromkeys(CODES, 0)
    for seq, block, arm in stratum[: len(ids)]:  # balanced at the end of every block
        running[arm] += 1
        if last_of_block[block] == seq:
            assert len(set(running.values())) == 1, (seq, running)


def test_no_message_or_log_line_names_an_arm(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="atopic")
    design = RandomizationDesign(arms=ARMS, strata=STRATA, block_sizes=(3,), list_length=3)
    factory, study_id, ids = _registry(engine, design=design, subjects=5)
    messages: list[str] = []

    def attempt(actor: Actor, call: Any) -> None:
        try:
            with transaction(factory, actor) as session:
                call(session)
        except (InvalidInput, Forbidden) as error:
            messages.append(str(error))

    for subject_id in ids[:3]:
        _randomize(factory, subject_id)
    attempt(INVESTIGATOR, lambda s: randomize(s, INVESTIGATOR, ids[3], S1))  # exhausted
    attempt(INVESTIGATOR, lambda s: randomize(s, INVESTIGATOR, ids[0], S1))  # twice
    attempt(INVESTIGATOR, lambda s: randomize(s, INVESTIGATOR, ids[3], {"IGA": "9"}))
    attempt(PHARMACIST, lambda s: randomize(s, PHARMACIST, ids[3], S1))
    attempt(INVESTIGATOR, lambda s: emergency_unblind(s, INVESTIGATOR, ids[0], " "))
    attempt(INVESTIGATOR, lambda s: emergency_unblind(s, INVESTIGATOR, ids[4], "why"))
    attempt(MONITOR, lambda s: allocation_table(s, MONITOR))
    attempt(ADMIN, lambda s: setup_randomization(s, ADMIN, study_id, design, 1))
    attempt(INVESTIGATOR, lambda s: emergency_unblind(s, INVESTIGATOR, ids[0], "rash"))
    assert len(messages) == 8
    lines = [record.getMessage() for record in caplog.records]
    assert any("emergency unblinding" in line for line in lines)
    assert any("randomized" in line for line in lines)
    for text in messages + lines:
        _no_arm_code(text)


def test_concurrent_randomizations_in_one_stratum_take_different_slots(engine: Engine) -> None:
    """PostgreSQL: row locks and the writers' advisory lock; SQLite: the second writer waits for
    the first's write lock (BEGIN IMMEDIATE). Either way the two subjects get slots 1 and 2."""
    factory, _, ids = _registry(engine)
    results: dict[str, Any] = {}

    def second() -> None:
        try:
            with transaction(factory, INVESTIGATOR) as session:
                results["second"] = randomize(session, INVESTIGATOR, ids[1], S1)
        except Exception as error:  # pragma: no cover - reported below
            results["error"] = error

    with transaction(factory, INVESTIGATOR) as session:
        results["first"] = randomize(session, INVESTIGATOR, ids[0], S1)
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive()  # the transactions overlap: the other waits behind this one
    thread.join(timeout=30)
    assert "error" not in results, results.get("error")
    assert (results["first"].seq, results["second"].seq) == (1, 2)
