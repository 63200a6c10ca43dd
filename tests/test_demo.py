"""The demo trial: complete, randomized, audited, one user per role."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from atopic.demo import ARMS, DEMO_PASSWORDS, SUBJECTS, VISITS, build_demo
from atopic.registry.audit import verify_chain
from atopic.registry.db import make_engine, session_factory
from atopic.registry.models import Assessment, Dose, Lab, RandomizationSlot, Subject, Visit
from atopic.registry.users import authenticate


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    summary = build_demo(str(path))
    assert summary.subjects == SUBJECTS
    return path


def test_every_subject_is_randomized_and_dosed_once(demo: Path) -> None:
    factory = session_factory(make_engine(str(demo)))
    with factory() as session:
        arms = Counter(
            session.scalars(
                select(RandomizationSlot.arm).where(RandomizationSlot.subject_id.is_not(None))
            )
        )
        assert set(arms) == set(ARMS)
        assert sum(arms.values()) == SUBJECTS
        assert all(9 <= n <= 15 for n in arms.values())  # blocks of 3 and 6 within 2 strata
        doses = session.scalars(select(Dose)).all()
        assert len(doses) == SUBJECTS
        assert {d.dose for d in doses} == {0.0, 2.5e7, 5.0e7}


def test_every_visit_has_every_instrument_and_labs(demo: Path) -> None:
    factory = session_factory(make_engine(str(demo)))
    with factory() as session:
        per_instrument = dict(
            session.execute(
                select(Assessment.instrument, func.count()).group_by(Assessment.instrument)
            ).all()
        )
        assert per_instrument == dict.fromkeys(
            ["EASI", "SCORAD", "vIGA-AD", "POEM", "PP-NRS", "Sleep-NRS"], SUBJECTS * len(VISITS)
        )
        assert session.scalar(select(func.count()).select_from(Lab)) == SUBJECTS * len(VISITS) * 2
        assert session.scalar(select(func.count()).select_from(Subject)) == SUBJECTS


def test_baseline_is_moderate_to_severe(demo: Path) -> None:
    factory = session_factory(make_engine(str(demo)))
    with factory() as session:
        baseline = session.execute(
            select(Assessment.instrument, Assessment.total)
            .join(Visit, Visit.id == Assessment.visit_id)
            .where(Visit.visitnum == 1, Assessment.instrument.in_(["EASI", "vIGA-AD"]))
        ).all()
    iga = [int(total) for name, total in baseline if name == "vIGA-AD"]
    easi = [float(total) for name, total in baseline if name == "EASI"]
    assert len(iga) == len(easi) == SUBJECTS
    assert set(iga) <= {3, 4}
    assert min(easi) > 7  # moderate or worse (Leshem 2015)


def test_one_user_per_role_can_log_in_and_the_audit_chain_verifies(demo: Path) -> None:
    factory = session_factory(make_engine(str(demo)))
    with factory() as session:
        for role, password in DEMO_PASSWORDS.items():
            actor = authenticate(session, role, password)
            assert actor is not None
            assert actor.role == role
        report = verify_chain(session)
        assert report.ok
        assert report.checked > 10_000


def test_the_demo_is_reproducible(demo: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.db"
    build_demo(str(again))

    def totals(path: Path) -> list[tuple[str, str]]:
        with session_factory(make_engine(str(path)))() as session:
            return list(
                session.execute(
                    select(Assessment.instrument, Assessment.total).order_by(Assessment.id)
                )
            )

    assert totals(demo) == totals(again)


def test_demo_refuses_a_database_that_holds_a_study(demo: Path) -> None:
    with pytest.raises(ValueError, match="already holds a study"):
        build_demo(str(demo))
