"""A synthetic demo trial for the README, the docs and the tests (no real patient data).

36 adults with moderate-to-severe AD, randomized 1:1:1 (stratified by baseline vIGA-AD 3 vs 4,
permuted blocks of 3 and 6) to placebo, low-dose (2.5x10^7 cells) or high-dose (5.0x10^7 cells)
subcutaneous MSC at week 0, seen at weeks 0, 2, 4, 8 and 12 with complete SCORAD, EASI, vIGA-AD,
POEM, PP-NRS and sleep NRS items, IgE and eosinophils, a few adverse events, one user per role.

Disease severity is one latent number per visit, ``s`` in [0, 1]; every item is drawn around it, so
the scores agree with each other the way real ones do. The mean improvement of latent severity at
week 12 is 12 % (placebo), 22 % (low dose) and 31 % (high dose), varying between subjects (x 0.4 to
1.6); since EASI grows roughly with the square of severity, about half the high-dose group reaches
EASI-50. Illustrative figures for a demo, not a model of the therapy (``atopic.simulate``'s job).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

STUDYID = "ATO-MSC-201"
SITES = (("S01", "Site 01 (synthetic)"), ("S02", "Site 02 (synthetic)"))
ARMS = {
    "PBO": ("Placebo", 0.0),
    "LOW": ("MSC 2.5x10^7 cells SC", 2.5e7),
    "HIGH": ("MSC 5.0x10^7 cells SC", 5.0e7),
}
EFFECT_AT_WEEK_12 = {"PBO": 0.12, "LOW": 0.22, "HIGH": 0.31}
VISITS = (
    (1, "WEEK 0", 0),
    (2, "WEEK 2", 2),
    (3, "WEEK 4", 4),
    (4, "WEEK 8", 8),
    (5, "WEEK 12", 12),
)
SUBJECTS = 36
FIRST_ENROLMENT = dt.date(2026, 1, 5)
DEMO_PASSWORDS = {
    "admin": "demo-admin-password",
    "investigator": "demo-investigator-password",
    "coordinator": "demo-coordinator-password",
    "pharmacist": "demo-pharmacist-password",
    "monitor": "demo-monitor-password",
    "statistician": "demo-statistician-password",
}
"""One demo user per role, named after the role. Demo only: never use these anywhere else."""

EASI_SIGNS = (0, 1, 1.5, 2, 2.5, 3)
EASI_REGIONS = ("head_neck", "upper_limbs", "trunk", "lower_limbs")
SCORAD_REGIONS = (
    "head_neck",
    "anterior_trunk",
    "back",
    "left_upper_limb",
    "right_upper_limb",
    "left_lower_limb",
    "right_lower_limb",
    "genitals",
)
SCORAD_SIGNS = (
    "erythema",
    "oedema_papulation",
    "oozing_crusts",
    "excoriation",
    "lichenification",
    "dryness",
)


def _clip(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _grade(rng: random.Random, s: float, top: int, noise: float = 0.5) -> int:
    return int(_clip(round(top * s + rng.gauss(0, noise)), 0, top))


def _easi_sign(rng: random.Random, s: float) -> float:
    raw = _clip(3 * s + rng.gauss(0, 0.35), 0, 3)
    return min(EASI_SIGNS, key=lambda v: abs(v - raw))


def _tenths(x: float) -> float:
    return round(x * 10) / 10


def easi_form(rng: random.Random, s: float) -> dict[str, Any]:
    """EASI items around severity ``s`` (signs on the 0-3 half-point grid, area in %)."""
    form: dict[str, Any] = {}
    for region in EASI_REGIONS:
        involved = _tenths(_clip(100 * s * rng.uniform(0.4, 1.2), 0, 100))
        form[region] = {
            "erythema": _easi_sign(rng, s),
            "induration": _easi_sign(rng, s),
            "excoriation": _easi_sign(rng, s),
            "lichenification": _easi_sign(rng, s),
            "area_percent": involved,
        }
    return form


def scorad_form(rng: random.Random, s: float) -> dict[str, Any]:
    """SCORAD items around severity ``s``."""
    return {
        "extent": {
            r: _tenths(_clip(100 * s * rng.uniform(0.2, 1.0), 0, 100)) for r in SCORAD_REGIONS
        },
        "intensity": {sign: _grade(rng, s, 3) for sign in SCORAD_SIGNS},
        "pruritus": _tenths(_clip(10 * s + rng.gauss(0, 1), 0, 10)),
        "sleeplessness": _tenths(_clip(8 * s + rng.gauss(0, 1.2), 0, 10)),
    }


@dataclass
class DemoSubject:
    """One synthetic subject and the latent severity at each visit."""

    usubjid: str
    site: str
    sex: str
    birth_date: dt.date
    enrolled_on: dt.date
    baseline_iga: int
    severity: list[float] = field(default_factory=list)


def severity_path(rng: random.Random, s0: float, effect: float) -> list[float]:
    """Latent severity at each visit: an exponential approach to ``(1 - effect) x s0`` by week 12
    (time constant 4 weeks) plus visit-to-visit noise."""
    scale = 1 - math.exp(-12 / 4)
    path = []
    for _, _, week in VISITS:
        drop = effect * (1 - math.exp(-week / 4)) / scale
        noise = 0 if week == 0 else rng.gauss(0, 0.04)
        path.append(_clip(s0 * (1 - drop) + noise, 0.0, 1.0))
    return path


def subjects(seed: int = 2026) -> list[DemoSubject]:
    """The demo cohort before randomization (severity paths are filled in per arm later)."""
    rng = random.Random(seed)
    cohort = []
    for n in range(1, SUBJECTS + 1):
        enrolled = FIRST_ENROLMENT + dt.timedelta(days=7 * ((n - 1) // 3))
        age = rng.randint(18, 65)
        birth = enrolled - dt.timedelta(days=int(365.25 * age) + rng.randint(0, 300))
        cohort.append(
            DemoSubject(
                usubjid=f"{STUDYID}-{n:04d}",
                site=SITES[(n - 1) % len(SITES)][0],
                sex=rng.choice("FM"),
                birth_date=birth,
                enrolled_on=enrolled,
                baseline_iga=rng.choice((3, 3, 4)),
            )
        )
    return cohort


def visit_forms(
    rng: random.Random, s: float, baseline_iga: int | None
) -> dict[str, dict[str, Any]]:
    """Every instrument's form at one visit, drawn around severity ``s``."""
    iga = baseline_iga if baseline_iga is not None else _grade(rng, s * 1.1, 4, 0.4)
    return {
        "easi": easi_form(rng, s),
        "scorad": scorad_form(rng, s),
        "viga-ad": {"grade": iga},
        "poem": {"items": [_grade(rng, s, 4, 0.7) for _ in range(7)]},
        "pp-nrs": {"score": _grade(rng, s, 10, 1.0)},
        "sleep-nrs": {"score": _grade(rng, s * 0.8, 10, 1.2)},
    }


def labs(rng: random.Random, s: float) -> dict[str, tuple[float, str]]:
    """IgE (IU/mL) and eosinophils (10^9/L), log-normal around values that rise with severity."""
    ige = round(math.exp(rng.gauss(math.log(400 + 2500 * s), 0.5)), 1)
    eos = round(math.exp(rng.gauss(math.log(0.15 + 0.6 * s), 0.3)), 2)
    return {"IGE": (ige, "IU/mL"), "EOS": (eos, "10^9/L")}


# --- building the demo registry -----------------------------------------------------------------

DEMO_SEED = 2026
DESIGN_TOML = (resources.files("atopic.trial") / "designs" / "demo.toml").read_text()
"""The demo trial's design (``examples/trial/design.toml``): stored with the study, and the
source of its randomization list (``Design.randomization_plan``)."""

ADVERSE_EVENTS = (
    (
        "Injection site erythema",
        "Injection site erythema",
        "General disorders and administration site conditions",
        "MILD",
        "PROBABLY RELATED",
    ),
    ("Headache", "Headache", "Nervous system disorders", "MILD", "UNLIKELY RELATED"),
    ("Common cold", "Nasopharyngitis", "Infections and infestations", "MODERATE", "NOT RELATED"),
)


@dataclass(frozen=True)
class DemoSummary:
    """What ``build_demo`` made."""

    url: str
    subjects: int
    assessments: int
    users: dict[str, str]


def build_demo(url: str, seed: int = DEMO_SEED) -> DemoSummary:
    """Create (or extend an empty) registry at ``url`` and fill it with the demo trial.

    Every write goes through the service layer as the role that would make it at a site (admin
    sets up, investigator enrols and randomizes, pharmacist doses, coordinator records), so the
    demo's audit trail reads like a real one. Refused when the database already holds a study.
    """
    from sqlalchemy import select

    from atopic.registry import randomization as rnd
    from atopic.registry import services as svc
    from atopic.registry.audit import Actor
    from atopic.registry.db import make_engine, session_factory, transaction, upgrade
    from atopic.registry.models import Study, Subject
    from atopic.registry.users import add_user, create_first_admin
    from atopic.trial.design import load_design

    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    admin = Actor("admin", "admin")
    with factory() as session:
        if session.scalars(select(Study.id)).first() is not None:
            raise ValueError(f"{url} already holds a study: the demo needs an empty database")
    with factory() as session, session.begin():
        create_first_admin(session, "admin", DEMO_PASSWORDS["admin"])
    with transaction(factory, admin) as session:
        for role, password in DEMO_PASSWORDS.items():
            if role != "admin":
                add_user(session, admin, role, password, role)
        for code, name in SITES:
            svc.add_site(session, admin, code, name)
        study = svc.create_study(session, admin, STUDYID, "Demo MSC trial", DESIGN_TOML)
        design = rnd.RandomizationDesign(**load_design(DESIGN_TOML).randomization_plan())
        rnd.setup_randomization(session, admin, study.id, design, seed)

    investigator = Actor("investigator", "investigator")
    pharmacist = Actor("pharmacist", "pharmacist")
    coordinator = Actor("coordinator", "coordinator")
    rng = random.Random(seed)
    assessments = 0
    for person in subjects(seed):
        with transaction(factory, investigator) as session:
            subject = svc.enrol_subject(
                session,
                investigator,
                studyid=STUDYID,
                site_code=person.site,
                usubjid=person.usubjid,
                sex=person.sex,
                enrolled_on=person.enrolled_on,
                birth_date=person.birth_date,
                strata={"IGA": str(person.baseline_iga)},
            )
            rnd.randomize(session, investigator, subject.id, {"IGA": str(person.baseline_iga)})
            subject_id = subject.id
        with factory() as session:
            arm = rnd.arm_for(session, pharmacist, subject_id)
        assert arm is not None
        low, high = (0.55, 0.7) if person.baseline_iga == 3 else (0.7, 0.85)
        effect = EFFECT_AT_WEEK_12[arm] * rng.uniform(0.4, 1.6)
        path = severity_path(rng, rng.uniform(low, high), effect)
        for (visitnum, name, week), s in zip(VISITS, path, strict=True):
            on = person.enrolled_on + dt.timedelta(weeks=week)
            with transaction(factory, coordinator) as session:
                svc.schedule_visit(
                    session, coordinator, person.usubjid, visitnum, name, actual_date=on
                )
                forms = visit_forms(rng, s, person.baseline_iga if week == 0 else None)
                for instrument, form in forms.items():
                    evaluator = (
                        "INVESTIGATOR" if instrument in ("easi", "scorad", "viga-ad") else "PATIENT"
                    )
                    svc.record_assessment(
                        session,
                        coordinator,
                        usubjid=person.usubjid,
                        visitnum=visitnum,
                        instrument=instrument,
                        data=form,
                        assessed_on=on,
                        evaluator=evaluator,
                    )
                    assessments += 1
                for testcd, (value, unit) in labs(rng, s).items():
                    svc.record_lab(
                        session,
                        coordinator,
                        usubjid=person.usubjid,
                        testcd=testcd,
                        value=value,
                        unit=unit,
                        collected_on=on,
                        visitnum=visitnum,
                    )
            if week == 0:
                cells = ARMS[arm][1]
                with transaction(factory, pharmacist) as session:
                    svc.record_dose(
                        session,
                        pharmacist,
                        usubjid=person.usubjid,
                        product="Placebo" if cells == 0 else "MSC",
                        lot=f"LOT-{arm}-001" if cells else "LOT-P-001",
                        dose=cells,
                        unit="cells",
                        route="SC",
                        given_at=dt.datetime.combine(on, dt.time(10, 0)).isoformat(),
                        visitnum=visitnum,
                    )
        if rng.random() < 0.3:
            term, decod, bodsys, severity, related = rng.choice(ADVERSE_EVENTS)
            start = person.enrolled_on + dt.timedelta(days=rng.randint(1, 60))
            with transaction(factory, investigator) as session:
                svc.record_adverse_event(
                    session,
                    investigator,
                    usubjid=person.usubjid,
                    term=term,
                    decod=decod,
                    bodsys=bodsys,
                    severity=severity,
                    related=related,
                    start_date=start,
                    end_date=start + dt.timedelta(days=rng.randint(1, 10)),
                )
    with factory() as session:
        count = len(session.scalars(select(Subject.id)).all())
    engine.dispose()
    return DemoSummary(url=url, subjects=count, assessments=assessments, users=dict(DEMO_PASSWORDS))
