"""Synthetic collected tables (DM, EX, QS, LB, AE, CM, DS) for a trial design, fast and seeded.

``synthesize(design, n_subjects, seed=...)`` returns the tables as Polars frames;
``iter_synth`` yields them chunk by chunk of subjects; ``write_synth`` writes them to a folder
(one file per table, or a folder of Parquet parts per table when chunked) with bounded memory.
Every table passes ``atopic.tables.validate.validate_table`` against ``atopic.tables.COLLECTED``.

What is simulated (details and defaults in ``params``, ``cohort``, ``course``, ``items``)
    * DM: adults 18-75, sex, site, first dose (RFSTDTC), arm by stratified permuted blocks.
    * EX: every scheduled administration of the arm done before the subject stopped: EXTRT the
      arm's product, EXDOSE/EXDOSU/EXROUTE as the design declares, EXLOT one lot per arm and
      90 days of enrolment (``<ARMCD>-L<nnn>``), EXSTDTC date and time.
    * QS: item-level EASI (signs and area scores), SCORAD, vIGA-AD, POEM, PP-NRS and sleep NRS at
      every visit that took place, drawn around a latent severity.
    * LB: IgE (IU/mL) and eosinophils (10^9/L) at every visit. IgE: log-normal, baseline median
      1200 x exp(1.5 (s0 - 0.75)) with log-SD 1.2, times ``1 - ige_effect x D_i(t)`` and visit
      noise (log-SD 0.15); eosinophils: median 0.35 x exp(s0 - 0.75), log-SD 0.5, times
      ``sqrt(s / s0)`` and visit noise (log-SD 0.2). Rounded to 0.1 IU/mL and 0.01 x 10^9/L,
      never below those.
    * AE: each subject may have each term of ``AE_TERMS`` at most once, with probability
      ``p x exposure`` (exposure: days in the study / planned days); injection-site reactions and
      pyrexia rise with dose, worsening of AD with lack of improvement; serious in 1 % of events;
      a discontinuation for ADVERSE EVENT has its own event (urticaria or hypersensitivity,
      AEACN "DRUG WITHDRAWN") starting on or before the discontinuation day.
    * CM: one RESCUE record (a topical corticosteroid or a systemic drug) per rescued subject,
      CMSTDTC the visit date, lasting 14-28 days.
    * DS: one record per subject: COMPLETED on the last scheduled visit day, or the reason
      (ADVERSE EVENT, LACK OF EFFICACY, WITHDRAWAL BY SUBJECT) on the discontinuation day.

Reproducibility
    NumPy ``Generator`` streams from ``SeedSequence([seed, ...])``: one for the run (site
    weights) and one per chunk, so the same design, ``n_subjects``, ``seed`` and ``chunk`` give
    identical tables; a different chunk size gives a different (equally valid) trial.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from atopic.errors import InvalidInput
from atopic.simulate import columns as col
from atopic.simulate.cohort import Cohort, check_strata, draw_cohort, site_weights
from atopic.simulate.course import ADVERSE_EVENT, REASONS, Course, simulate_course
from atopic.simulate.items import draw_items
from atopic.simulate.params import Dropout, Effects, Rescue
from atopic.tables.collected import CMCAT, COLLECTED, LAB_UNITS
from atopic.trial.design import Design

TABLES: tuple[str, ...] = ("DM", "EX", "QS", "LB", "AE", "CM", "DS")
"""The tables made, in this order."""
FORMATS: tuple[str, ...] = ("parquet", "csv")
MAX_SUBJECTS = 100_000_000
START = np.datetime64("2026-01-05", "D")
"""First possible first-dose date (a Monday)."""
ENROLMENT_DAYS = 365
DOSING_TIMES: tuple[str, ...] = ("T09:00", "T10:30", "T13:00", "T15:30")

AE_TERMS: tuple[tuple[str, str, str, float, float, float], ...] = (
    # AETERM, AEDECOD (PT), AEBODSYS (SOC), probability, + x dose share, + x shortfall
    ("Common cold", "Nasopharyngitis", "Infections and infestations", 0.08, 0.0, 0.0),
    (
        "Upper respiratory infection",
        "Upper respiratory tract infection",
        "Infections and infestations",
        0.04,
        0.0,
        0.0,
    ),
    ("Headache", "Headache", "Nervous system disorders", 0.06, 0.0, 0.0),
    (
        "Redness at injection site",
        "Injection site erythema",
        "General disorders and administration site conditions",
        0.02,
        0.15,
        0.0,
    ),
    (
        "Pain at injection site",
        "Injection site pain",
        "General disorders and administration site conditions",
        0.02,
        0.10,
        0.0,
    ),
    ("Fever", "Pyrexia", "General disorders and administration site conditions", 0.01, 0.05, 0.0),
    ("Tiredness", "Fatigue", "General disorders and administration site conditions", 0.02, 0, 0),
    ("Conjunctivitis", "Conjunctivitis", "Eye disorders", 0.02, 0.0, 0.0),
    (
        "Eczema flare",
        "Dermatitis atopic",
        "Skin and subcutaneous tissue disorders",
        0.02,
        0.0,
        0.10,
    ),
    ("Joint pain", "Arthralgia", "Musculoskeletal and connective tissue disorders", 0.015, 0, 0),
)
"""Adverse events with MedDRA-like preferred terms (AEDECOD) and system organ classes (AEBODSYS).
``dose share`` is dose / (ed50 + dose); ``shortfall`` is 1 - improvement / 0.5 at the end, in
[0, 1]. Injection-site events start on the first-dose day or the day after."""
WITHDRAWAL_AES: tuple[tuple[str, str, str], ...] = (
    ("Hives", "Urticaria", "Skin and subcutaneous tissue disorders"),
    ("Allergic reaction", "Hypersensitivity", "Immune system disorders"),
)
"""Events that lead to discontinuation (not among ``AE_TERMS``, so keys never collide)."""
SEVERITY: tuple[str, ...] = ("MILD", "MODERATE", "SEVERE")
SEVERITY_P: tuple[float, ...] = (0.6, 0.32, 0.08)
RELATEDNESS: tuple[str, ...] = (
    "NOT RELATED",
    "UNLIKELY RELATED",
    "POSSIBLY RELATED",
    "PROBABLY RELATED",
)
SERIOUS_P = 0.01
RESCUE_DRUGS: tuple[str, ...] = (
    "TRIAMCINOLONE ACETONIDE 0.1% CREAM",
    "MOMETASONE FUROATE 0.1% OINTMENT",
    "BETAMETHASONE VALERATE 0.1% CREAM",
    "CICLOSPORIN",
)
RESCUE_P: tuple[float, ...] = (0.4, 0.3, 0.2, 0.1)


@dataclass(frozen=True)
class Settings:
    """Everything a chunk needs besides its subjects' indices."""

    design: Design
    n_subjects: int
    seed: int
    effects: Effects
    dropout: Dropout
    rescue: Rescue
    ages: tuple[int, int]
    cmcat: str
    site_weights: np.ndarray
    width: int
    latent: bool


def _whole(value: Any, field: str, minimum: int, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise InvalidInput("synth", field, value, f"a whole number from {minimum} to {maximum}")
    return value


def _settings(
    design: Design,
    n_subjects: int,
    seed: int,
    effects: Effects | None,
    dropout: Dropout | None,
    rescue: Rescue | None,
    ages: tuple[int, int],
    latent: bool,
) -> Settings:
    if not isinstance(design, Design):
        raise InvalidInput("synth", "design", design, "a Design (atopic.trial.design.load_design)")
    _whole(n_subjects, "n_subjects", 1, MAX_SUBJECTS)
    _whole(seed, "seed", 0, 2**63 - 1)
    if (
        not isinstance(ages, tuple)
        or len(ages) != 2
        or not all(isinstance(a, int) and not isinstance(a, bool) for a in ages)
        or not 0 <= ages[0] <= ages[1] <= 120
    ):
        raise InvalidInput(
            "synth", "ages", ages, "(youngest, oldest) whole years, 0 <= a <= b <= 120"
        )
    for name, value, kind in (
        ("effects", effects, Effects),
        ("dropout", dropout, Dropout),
        ("rescue", rescue, Rescue),
    ):
        if value is not None and not isinstance(value, kind):
            raise InvalidInput("synth", name, value, f"an atopic.simulate.{kind.__name__} or None")
    check_strata(design)
    cmcat = next(
        (e.cmcat for e in design.intercurrent_events if e.event == "rescue" and e.cmcat),
        "RESCUE",
    )
    if cmcat not in CMCAT:
        raise InvalidInput(
            "synth", "intercurrent_events.cmcat", cmcat, "one of " + ", ".join(CMCAT)
        )
    run = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    return Settings(
        design=design,
        n_subjects=n_subjects,
        seed=seed,
        effects=effects or Effects(),
        dropout=dropout or Dropout(),
        rescue=rescue or Rescue(),
        ages=ages,
        cmcat=cmcat,
        site_weights=site_weights(run, n_subjects),
        width=max(4, len(str(n_subjects))),
        latent=latent,
    )


# --- one chunk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    settings: Settings
    cohort: Cohort
    course: Course
    usubjid: list[str]
    rng: np.random.Generator

    @property
    def n(self) -> int:
        return len(self.cohort.arm)

    @property
    def studyid(self) -> str:
        return self.settings.design.study.studyid

    def ids(self, subject: np.ndarray) -> list[pl.Series]:
        n = len(subject)
        return [
            col.constant("STUDYID", self.studyid, n),
            col.categorical("USUBJID", subject, self.usubjid),
        ]

    def domain(self, name: str, n: int) -> pl.Series:
        return col.constant("DOMAIN", name, n)

    def date(self, name: str, subject: np.ndarray, study_day: np.ndarray) -> pl.Series:
        return col.dates(name, self.calendar(subject, study_day))

    def calendar(self, subject: np.ndarray, study_day: np.ndarray) -> np.ndarray:
        """Days since 1970-01-01 of a study day (day 1 = first dose, no day 0)."""
        day = np.asarray(study_day, dtype=np.int64)
        return self.cohort.day0[subject] + np.where(day > 0, day - 1, day)


def _subject_ids(studyid: str, first: int, n: int, width: int) -> list[str]:
    numbers = pl.int_range(first, first + n, eager=True).cast(pl.String).str.zfill(width)
    return (studyid + "-" + numbers).to_list()


def _chunk(settings: Settings, index: int, first: int, n: int) -> _Chunk:
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, 1, index]))
    start = int((START - col.EPOCH).astype(int))
    cohort = draw_cohort(
        settings.design,
        rng,
        n,
        site_weights=settings.site_weights,
        ages=settings.ages,
        start_day=start,
        enrolment_days=ENROLMENT_DAYS,
    )
    course = simulate_course(
        settings.design, cohort, rng, settings.effects, settings.dropout, settings.rescue
    )
    ids = _subject_ids(settings.design.study.studyid, first + 1, n, settings.width)
    return _Chunk(settings, cohort, course, ids, rng)


def _frame(name: str, series: list[pl.Series]) -> pl.DataFrame:
    frame = pl.DataFrame(series)
    order = [c.name for c in COLLECTED[name].columns if c.name in frame.columns]
    extra = [c for c in frame.columns if c not in order]
    return frame.select(*order, *extra)


def _dm(c: _Chunk) -> pl.DataFrame:
    design, n = c.settings.design, c.n
    subject = np.arange(n)
    sites = [
        f"S{j + 1:0{max(3, len(str(len(c.settings.site_weights))))}d}"
        for j in range(len(c.settings.site_weights))
    ]
    arms = design.arms
    return _frame(
        "DM",
        [
            *c.ids(subject),
            c.domain("DM", n),
            col.categorical("SITEID", c.cohort.site, sites),
            pl.Series("AGE", c.cohort.age, dtype=pl.Float64),
            col.categorical("SEX", np.where(c.cohort.female, 0, 1), ["F", "M"]),
            col.labels("ARMCD", c.cohort.arm, [a.code for a in arms]),
            col.labels("ARM", c.cohort.arm, [a.label for a in arms]),
            col.labels("ACTARMCD", c.cohort.arm, [a.code for a in arms]),
            c.date("RFSTDTC", subject, np.ones(n, dtype=np.int64)),
        ],
    )


def _administration_days(design: Design) -> np.ndarray:
    """Arms x administrations: study day of each (padded with a day no subject reaches)."""
    longest = max(a.schedule.administrations for a in design.arms)
    days = np.full((len(design.arms), longest), np.iinfo(np.int64).max // 4, dtype=np.int64)
    for i, arm in enumerate(design.arms):
        at = np.asarray(arm.schedule.at, dtype=np.int64)
        days[i, : len(at)] = at * 7 + 1 if arm.schedule.unit == "week" else at
    return days


def _ex(c: _Chunk) -> pl.DataFrame:
    design = c.settings.design
    days = _administration_days(design)[c.cohort.arm]
    done = days <= c.course.end_day[:, None]
    subject, which = np.nonzero(done)
    arm = c.cohort.arm[subject]
    day = days[subject, which]
    arms = design.arms
    lot = (c.cohort.day0[subject] - int((START - col.EPOCH).astype(int))) // 90 + 1
    lot_key = arm * 1000 + np.minimum(lot, 999)
    lots, lot_code = np.unique(lot_key, return_inverse=True)
    lot_text = [f"{arms[k // 1000].code}-L{k % 1000:03d}" for k in lots]
    slot = c.rng.integers(0, len(DOSING_TIMES), size=len(subject))
    n = len(subject)
    return _frame(
        "EX",
        [
            *c.ids(subject),
            c.domain("EX", n),
            pl.Series("EXSEQ", which + 1, dtype=pl.Int64),
            col.labels("EXTRT", arm, [a.product for a in arms]),
            pl.Series("EXDOSE", np.asarray([a.dose for a in arms])[arm], dtype=pl.Float64),
            col.labels("EXDOSU", arm, [a.dose_unit for a in arms]),
            col.labels("EXROUTE", arm, [a.route for a in arms]),
            col.categorical("EXLOT", lot_code, lot_text),
            col.dates("EXSTDTC", c.calendar(subject, day), DOSING_TIMES, slot),
        ],
    )


def _visits(c: _Chunk) -> tuple[np.ndarray, np.ndarray]:
    """Subject and visit index of every visit that took place, subject-major."""
    return np.nonzero(c.course.observed)


def _qs(c: _Chunk) -> pl.DataFrame:
    course = c.course
    blocks = draw_items(c.rng, course.severity, course.itch, c.cohort.iga0)
    values = np.concatenate([b.values for b in blocks], axis=2)  # subjects x visits x items
    k = values.shape[2]
    subject_v, visit_v = _visits(c)
    flat = values[subject_v, visit_v].reshape(-1)
    subject = np.repeat(subject_v, k)
    visit = np.repeat(visit_v, k)
    item = np.tile(np.arange(k), len(subject_v))
    codes = [code for b in blocks for code in b.codes]
    tests = [t for b in blocks for t in b.tests]
    cats = [b.instrument.qscat for b in blocks for _ in b.items]
    evals = [b.evaluator for b in blocks for _ in b.items]
    visit_names = [v.avisit for v in c.settings.design.visits]
    day = course.day[subject_v, visit_v]
    n = len(flat)
    dtc = col.dates("QSDTC", c.calendar(subject_v, day))
    return _frame(
        "QS",
        [
            *c.ids(subject),
            c.domain("QS", n),
            pl.Series("QSSEQ", col.sequence(subject, c.n), dtype=pl.Int64),
            col.categorical("QSTESTCD", item, codes),
            col.labels("QSTEST", item, tests),
            col.labels("QSCAT", item, cats),
            col.categorical("QSORRES", flat, col.TENTHS_TEXT),
            col.categorical("QSSTRESC", flat, col.TENTHS_TEXT),
            pl.Series("QSSTRESN", flat / 10.0, dtype=pl.Float64),
            col.labels("QSEVAL", item, evals),
            pl.Series("VISITNUM", visit + 1.0, dtype=pl.Float64),
            col.categorical("VISIT", visit, visit_names),
            dtc.gather(np.repeat(np.arange(len(subject_v)), k)),
        ],
    )


def _lb(c: _Chunk) -> pl.DataFrame:
    course, effects = c.course, c.settings.effects
    s0 = course.s0
    n_sub, v = course.severity.shape
    ige0 = np.exp(np.log(1200.0) + 1.5 * (s0 - 0.75) + c.rng.normal(0, 1.2, size=n_sub))
    eos0 = np.exp(np.log(0.35) + (s0 - 0.75) + c.rng.normal(0, 0.5, size=n_sub))
    ige = ige0[:, None] * (1 - effects.ige_effect * course.drug)
    ige = ige * np.exp(c.rng.normal(0, 0.15, size=(n_sub, v)))
    eos = eos0[:, None] * np.sqrt(course.severity / s0[:, None])
    eos = eos * np.exp(c.rng.normal(0, 0.2, size=(n_sub, v)))
    ige = np.maximum(np.round(ige, 1), 0.1)
    eos = np.maximum(np.round(eos, 2), 0.01)
    subject_v, visit_v = _visits(c)
    values = np.stack([ige[subject_v, visit_v], eos[subject_v, visit_v]], axis=1).reshape(-1)
    subject = np.repeat(subject_v, 2)
    visit = np.repeat(visit_v, 2)
    test = np.tile(np.arange(2), len(subject_v))
    n = len(values)
    days = c.calendar(subject, c.course.day[subject, visit])
    return _frame(
        "LB",
        [
            *c.ids(subject),
            c.domain("LB", n),
            pl.Series("LBSEQ", col.sequence(subject, c.n), dtype=pl.Int64),
            col.categorical("LBTESTCD", test, ["IGE", "EOS"]),
            pl.Series("LBSTRESN", values, dtype=pl.Float64),
            col.categorical("LBSTRESU", test, [LAB_UNITS["IGE"], LAB_UNITS["EOS"]]),
            pl.Series("VISITNUM", visit + 1.0, dtype=pl.Float64),
            col.dates("LBDTC", days),
        ],
    )


def _ae(c: _Chunk) -> pl.DataFrame:
    design, course, rng = c.settings.design, c.course, c.rng
    ed50 = c.settings.effects.ed50
    doses = np.asarray([a.dose for a in design.arms])[c.cohort.arm]
    share = doses / (ed50 + doses)
    planned = max(int(course.day[:, -1].max()), 1)
    exposure = np.clip(course.end_day / planned, 0.05, 1.0)
    last = np.maximum(course.end_day, 1)
    improvement = 1 - course.severity[np.arange(c.n), _last_visit(course)] / course.s0
    shortfall = np.clip(1 - improvement / 0.5, 0, 1)
    terms = np.asarray(AE_TERMS, dtype=object)
    p = (
        terms[:, 3].astype(float)[None, :]
        + share[:, None] * terms[:, 4].astype(float)[None, :]
        + shortfall[:, None] * terms[:, 5].astype(float)[None, :]
    ) * exposure[:, None]
    subject, term = np.nonzero(rng.random(p.shape) < p)
    injection = np.char.startswith(terms[term, 1].astype(str), "Injection site")
    start = np.where(
        injection,
        1 + rng.integers(0, 2, size=len(term)),
        1 + np.floor(rng.random(len(term)) * last[subject]).astype(np.int64),
    )
    start = np.minimum(start, last[subject])
    # discontinuations for an adverse event get their own event
    wd_subject = np.flatnonzero(course.reason == ADVERSE_EVENT)
    wd_term = rng.integers(0, len(WITHDRAWAL_AES), size=len(wd_subject))
    wd_start = np.maximum(1, course.end_day[wd_subject] - rng.integers(0, 4, size=len(wd_subject)))
    all_terms = [t[:3] for t in AE_TERMS] + list(WITHDRAWAL_AES)
    subject = np.concatenate([subject, wd_subject])
    kind = np.concatenate([term, len(AE_TERMS) + wd_term])
    start = np.concatenate([start, wd_start])
    withdrawn = kind >= len(AE_TERMS)
    order = np.lexsort((kind, start, subject))
    subject, kind, start, withdrawn = subject[order], kind[order], start[order], withdrawn[order]
    n = len(subject)
    severity = rng.choice(3, size=n, p=SEVERITY_P)
    severity = np.where(withdrawn, np.maximum(severity, 1), severity)
    serious = rng.random(n) < SERIOUS_P
    severity = np.where(serious, 2, severity)
    dose_related = np.isin(kind, [3, 4, 5])
    related = np.where(
        dose_related & (doses[subject] > 0),
        3,
        np.where(withdrawn, 2, rng.choice(3, size=n, p=(0.6, 0.3, 0.1))),
    )
    end = start + rng.integers(1, 15, size=n)
    return _frame(
        "AE",
        [
            *c.ids(subject),
            c.domain("AE", n),
            pl.Series("AESEQ", col.sequence(subject, c.n), dtype=pl.Int64),
            col.labels("AETERM", kind, [t[0] for t in all_terms]),
            col.labels("AEDECOD", kind, [t[1] for t in all_terms]),
            col.labels("AEBODSYS", kind, [t[2] for t in all_terms]),
            col.categorical("AESEV", severity, SEVERITY),
            col.categorical("AETOXGR", severity, ("1", "2", "3")),
            col.categorical("AESER", np.where(serious, 0, 1), ("Y", "N")),
            col.categorical("AEREL", related, RELATEDNESS),
            c.date("AESTDTC", subject, start),
            c.date("AEENDTC", subject, end),
            col.categorical(
                "AEACN", np.where(withdrawn, 0, 1), ("DRUG WITHDRAWN", "DOSE NOT CHANGED")
            ),
        ],
    )


def _last_visit(course: Course) -> np.ndarray:
    v = course.observed.shape[1]
    return v - 1 - np.argmax(course.observed[:, ::-1], axis=1)


def _cm(c: _Chunk) -> pl.DataFrame:
    course = c.course
    subject = np.flatnonzero(course.rescue >= 0)
    n = len(subject)
    drug = c.rng.choice(len(RESCUE_DRUGS), size=n, p=RESCUE_P)
    start = course.day[subject, course.rescue[subject]]
    end = start + c.rng.integers(14, 29, size=n)
    return _frame(
        "CM",
        [
            *c.ids(subject),
            c.domain("CM", n),
            pl.Series("CMSEQ", np.ones(n, dtype=np.int64), dtype=pl.Int64),
            col.categorical("CMTRT", drug, RESCUE_DRUGS),
            col.constant("CMCAT", c.settings.cmcat, n),
            c.date("CMSTDTC", subject, start),
            c.date("CMENDTC", subject, end),
        ],
    )


def _ds(c: _Chunk) -> pl.DataFrame:
    subject = np.arange(c.n)
    reason = c.course.reason
    return _frame(
        "DS",
        [
            *c.ids(subject),
            c.domain("DS", c.n),
            pl.Series("DSSEQ", np.ones(c.n, dtype=np.int64), dtype=pl.Int64),
            col.categorical("DSTERM", reason, REASONS),
            col.categorical("DSDECOD", reason, REASONS),
            c.date("DSSTDTC", subject, c.course.end_day),
        ],
    )


def _latent(c: _Chunk) -> pl.DataFrame:
    subject, visit = _visits(c)
    return pl.DataFrame(
        [
            col.categorical("USUBJID", subject, c.usubjid),
            pl.Series("VISITNUM", visit + 1.0, dtype=pl.Float64),
            pl.Series("SEVERITY", c.course.severity[subject, visit], dtype=pl.Float64),
            pl.Series("ITCH", c.course.itch[subject, visit], dtype=pl.Float64),
            col.labels("ARMCD", c.cohort.arm[subject], [a.code for a in c.settings.design.arms]),
        ]
    )


_BUILDERS = {"DM": _dm, "EX": _ex, "QS": _qs, "LB": _lb, "AE": _ae, "CM": _cm, "DS": _ds}


def _tables(c: _Chunk) -> dict[str, pl.DataFrame]:
    out = {name: _BUILDERS[name](c) for name in TABLES}
    if c.settings.latent:
        out["LATENT"] = _latent(c)
    return out


# --- public API ---------------------------------------------------------------------------------


def make_settings(
    design: Design,
    n_subjects: int,
    *,
    seed: int,
    effects: Effects | None = None,
    dropout: Dropout | None = None,
    rescue: Rescue | None = None,
    ages: tuple[int, int] = (18, 75),
) -> Settings:
    """The checked run settings of ``synthesize`` (for generators that reuse the table builders)."""
    return _settings(design, n_subjects, seed, effects, dropout, rescue, ages, False)


def chunk_tables(
    settings: Settings,
    cohort: Cohort,
    course: Course,
    rng: np.random.Generator,
    *,
    first: int,
    builders: Mapping[str, Callable[[Any], pl.DataFrame]] | None = None,
) -> dict[str, pl.DataFrame]:
    """The tables of one chunk of subjects whose cohort and course were drawn elsewhere.

    ``first``: index of the chunk's first subject in the trial (USUBJIDs number from
    ``first + 1``); ``builders`` replaces the builder of some tables (called with the chunk,
    whose ``cohort``, ``course``, ``rng``, ``ids``, ``domain`` and ``calendar`` they may use).
    Text columns are Polars String.
    """
    ids = _subject_ids(settings.design.study.studyid, first + 1, len(cohort.arm), settings.width)
    c = _Chunk(settings, cohort, course, ids, rng)
    made = {name: (builders or {}).get(name, _BUILDERS[name])(c) for name in TABLES}
    return {k: col.as_strings(v) for k, v in made.items()}


def iter_synth(
    design: Design,
    n_subjects: int,
    *,
    seed: int,
    chunk: int = 50_000,
    effects: Effects | None = None,
    dropout: Dropout | None = None,
    rescue: Rescue | None = None,
    ages: tuple[int, int] = (18, 75),
    latent: bool = False,
    categorical: bool = False,
) -> Iterator[dict[str, pl.DataFrame]]:
    """Yield the collected tables of ``chunk`` subjects at a time (the last chunk may be
    smaller); arguments as ``synthesize``. ``categorical=True`` keeps text columns as Polars
    Categorical (4 bytes a row; what ``write_synth`` writes from) instead of String."""
    settings = _settings(design, n_subjects, seed, effects, dropout, rescue, ages, latent)
    size = _whole(chunk, "chunk", 1, MAX_SUBJECTS)
    for index, first in enumerate(range(0, n_subjects, size)):
        tables = _tables(_chunk(settings, index, first, min(size, n_subjects - first)))
        yield tables if categorical else {k: col.as_strings(v) for k, v in tables.items()}


def synthesize(
    design: Design,
    n_subjects: int,
    *,
    seed: int,
    effects: Effects | None = None,
    dropout: Dropout | None = None,
    rescue: Rescue | None = None,
    chunk: int | None = None,
    ages: tuple[int, int] = (18, 75),
    latent: bool = False,
) -> dict[str, pl.DataFrame]:
    """Synthetic collected tables DM, EX, QS, LB, AE, CM, DS of ``n_subjects`` for ``design``.

    ``seed`` (a whole number >= 0) fixes everything; ``effects``, ``dropout`` and ``rescue``
    change the model's parameters (``atopic.simulate.params``, defaults documented there);
    ``chunk`` draws the subjects in chunks of that many (None: one chunk); ``ages`` is the
    (youngest, oldest) age in whole years; ``latent=True`` adds a table LATENT (USUBJID,
    VISITNUM, SEVERITY, ITCH, ARMCD) with the latent values behind every visit, for checks.
    Text columns are Polars String. Bad arguments raise ``InvalidInput``.

    >>> from atopic.trial.design import load_design
    >>> d = load_design("examples/trial/dose_ranging.toml")  # doctest: +SKIP
    >>> synthesize(d, 100, seed=1)["DM"].height  # doctest: +SKIP
    100
    """
    size = n_subjects if chunk is None else chunk
    if chunk is None:
        _whole(n_subjects, "n_subjects", 1, MAX_SUBJECTS)
    parts = list(
        iter_synth(
            design,
            n_subjects,
            seed=seed,
            chunk=size,
            effects=effects,
            dropout=dropout,
            rescue=rescue,
            ages=ages,
            latent=latent,
        )
    )
    return {name: pl.concat([p[name] for p in parts]) for name in parts[0]}


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    # Without the Arrow schema, readers see plain (dictionary-encoded) strings, not Categorical.
    pq.write_table(frame.to_arrow(), path, store_schema=False, compression="zstd")


def write_synth(
    design: Design,
    n_subjects: int,
    out_dir: str | Path,
    *,
    seed: int,
    chunk: int = 50_000,
    fmt: str = "parquet",
    effects: Effects | None = None,
    dropout: Dropout | None = None,
    rescue: Rescue | None = None,
    ages: tuple[int, int] = (18, 75),
) -> dict[str, int]:
    """Write the synthetic tables to ``out_dir`` (created) and return the row count per table.

    ``fmt="parquet"``: ``<table>.parquet`` when all subjects fit in one chunk, otherwise a folder
    ``<table>/part-00000.parquet``, ``part-00001.parquet`` ... (one part per chunk; read it with
    ``atopic.tables.files.read_tables`` or ``polars.scan_parquet``). ``fmt="csv"``: one
    ``<table>.csv`` per table, appended chunk by chunk. Table names are lower case. Only one
    chunk is in memory at a time.
    """
    if fmt not in FORMATS:
        raise InvalidInput("synth", "format", fmt, "one of " + ", ".join(FORMATS))
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInput("synth", "out", str(out), "a folder (or a path to create one)")
    size = _whole(chunk, "chunk", 1, MAX_SUBJECTS)
    chunked = _whole(n_subjects, "n_subjects", 1, MAX_SUBJECTS) > size
    out.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(TABLES, 0)
    parts = iter_synth(
        design,
        n_subjects,
        seed=seed,
        chunk=size,
        effects=effects,
        dropout=dropout,
        rescue=rescue,
        ages=ages,
        categorical=True,
    )
    for index, tables in enumerate(parts):
        for name, frame in tables.items():
            stem = name.lower()
            if fmt == "csv":
                with open(out / f"{stem}.csv", "ab" if index else "wb") as handle:
                    frame.write_csv(handle, include_header=index == 0)
            elif chunked:
                (out / stem).mkdir(exist_ok=True)
                _write_parquet(frame, out / stem / f"part-{index:05d}.parquet")
            else:
                _write_parquet(frame, out / f"{stem}.parquet")
            counts[name] += frame.height
    return counts
