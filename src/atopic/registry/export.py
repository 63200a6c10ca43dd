"""Export the registry to the collected tables (DM, EX, QS, LB, AE), blinded by role.

``export_tables(session, actor)`` reads the registry rows and returns one Polars frame per
collected table, in the shapes ``atopic.tables`` declares (declared columns in declared order,
with their types, so even an empty table has the right schema); ``write_tables`` writes them,
one Parquet or CSV file per table (``dm.parquet``, ``ex.parquet`` ...). Exporting is for
statisticians, monitors, pharmacists and admins (``roles.PERMISSIONS["export"]``).

Blinding
    The allocation reaches an export only when the actor may see the allocation of *every*
    exported subject (``randomization.can_see_allocation`` per subject: pharmacists always,
    statisticians once the subject's study is locked). Otherwise the export is blinded, all or
    nothing, never per subject:

    * DM has no ARMCD, ARM or ACTARMCD columns at all (a column of placeholders would look like
      a one-arm trial to a derivation; an absent column cannot be misread).
    * EX keeps when and how (EXSTDTC, EXROUTE, the same in every arm of a double-blind design and
      seen at the bedside anyway) and masks everything the pharmacist typed about the product:
      EXTRT is ``BLINDED_EXTRT`` ("MSC OR PLACEBO (BLINDED)"), EXDOSE, EXDOSU and EXLOT are null.
      A placebo dose is recorded as 0 cells and placebo lots differ from active lots, so the
      dose, its unit and the lot would each give the arm away.

    ``is_blinded(tables)`` tells which kind an export is.

Decisions
    * DM: AGE is the completed years at enrolment (``services.age_on`` on the enrolment date:
      from the birth date when recorded, else the age recorded at enrolment), as Float64. BRTHDTC
      is not exported: a full birth date is a quasi-identifier the analysis does not need (age,
      age group and age phase come from AGE), and AGE is what ``tables.qs_to_wide`` reads for the
      instruments' age context. RFSTDTC is the first dose (its EXSTDTC), null for a subject
      never dosed (as the DM declaration says). SUBJID is USUBJID without the ``STUDYID-`` prefix (an extra
      column: DM does not declare it). ARM repeats ARMCD: the registry keeps arm codes only (the
      randomization list is the design). Subjects not randomized get ARMCD/ACTARMCD "NOTASSGN"
      and ARM "Not Assigned"; randomized but never dosed, ACTARMCD "NOTTRT"; dosed, ACTARMCD is
      ARMCD (the registry records no deviation from the planned arm).
    * QS is item-level only: one row per stored ``AssessmentItem``, QSORRES and QSSTRESC the
      value as entered, QSSTRESN its numeric reading; no total rows (totals are derived in the
      analysis tables). QSCAT is the instrument's ``qscat``, QSTEST ``tables.qstest`` of the item.
    * EX: EXDOSE in 10^6 cells (2.5e7 cells is EXDOSE 25, EXDOSU "10^6 Therapeutic Cells";
      cells/kg gives "10^6 Therapeutic Cells/kg"); EXROUTE SC -> SUBCUTANEOUS, IV -> INTRAVENOUS.
    * LB: a lab recorded without a visit takes the VISITNUM of the subject's one visit done on
      the collection date; with no such visit (or several) VISITNUM stays null, and the validator
      names the row.
    * AE: AESER "Y"/"N", AETOXGR the grade as text; AEDECOD stays null when the event is not
      coded yet (the validator names it; no dictionary term is invented).
    * ``--DTC`` values are ISO 8601 (a time given as ``2026-01-05 10:30`` becomes
      ``2026-01-05T10:30:00``). ``--SEQ`` numbers each subject's rows in date order.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, Instrument
from atopic.registry.audit import Actor
from atopic.registry.models import (
    AdverseEvent,
    Assessment,
    AssessmentItem,
    Dose,
    Lab,
    RandomizationSlot,
    Site,
    Study,
    Subject,
    Visit,
)
from atopic.registry.roles import require
from atopic.registry.services import age_on
from atopic.tables import AE, DM, EX, LB, QS, Table, qstest
from atopic.tables.frames import frame_of
from atopic.tables.validate import ISO8601

BLINDED_EXTRT = "MSC OR PLACEBO (BLINDED)"
"""EXTRT of every dose in a blinded export."""
ARM_COLUMNS: tuple[str, ...] = ("ARMCD", "ARM", "ACTARMCD")
"""The DM columns that carry the allocation (absent from a blinded export)."""
NOT_ASSIGNED = ("NOTASSGN", "Not Assigned")
"""ARMCD and ARM of a subject who was not randomized."""
NOT_TREATED = "NOTTRT"
"""ACTARMCD of a randomized subject never dosed."""
ROUTES: dict[str, str] = {"SC": "SUBCUTANEOUS", "IV": "INTRAVENOUS"}
"""Registry route -> CDISC ROUTE (C66729)."""
DOSE_UNITS: dict[str, tuple[float, str]] = {
    "cells": (1e6, "10^6 Therapeutic Cells"),
    "cells/kg": (1e6, "10^6 Therapeutic Cells/kg"),
}
"""Registry dose unit -> (divisor, EXDOSU): 2.5e7 cells is EXDOSE 25 in 10^6 Therapeutic Cells."""
FORMATS: tuple[str, ...] = ("parquet", "csv")
"""File formats ``write_tables`` writes."""

_ISO = re.compile(ISO8601)


def export_tables(
    session: Session, actor: Actor, studyid: str | None = None
) -> dict[str, pl.DataFrame]:
    """The collected tables of the registry (or of one study), blinded unless ``actor`` may see
    the allocation of every subject exported (see the module docstring).

    Returns ``{"DM": ..., "EX": ..., "QS": ..., "LB": ..., "AE": ...}``, Polars frames whose
    declared columns are those of ``atopic.tables`` in declared order (DM adds SUBJID after
    USUBJID; a blinded DM lacks ARMCD, ARM and ACTARMCD). Rows are sorted by STUDYID, USUBJID
    and ``--SEQ``. Raises ``roles.Forbidden`` for a role that may not export and
    ``InvalidInput`` for an unknown ``studyid``.
    """
    require(actor.role, "export")
    query = (
        select(Subject, Study.studyid, Site.code)
        .join(Study, Study.id == Subject.study_id)
        .join(Site, Site.id == Subject.site_id)
        .order_by(Study.studyid, Subject.usubjid)
    )
    if studyid is not None:
        if session.scalars(select(Study.id).where(Study.studyid == studyid)).first() is None:
            raise InvalidInput("export", "studyid", studyid, "the STUDYID of an existing study")
        query = query.where(Study.studyid == studyid)
    subjects = {s.id: _Subject(s, study, site) for s, study, site in session.execute(query)}
    unblinded = _may_see_allocation(session, actor, list(subjects))
    doses = _dose_rows(session, subjects, unblinded)
    return {
        "DM": _dm(session, subjects, doses, unblinded),
        "EX": _frame(EX, doses),
        "QS": _qs(session, subjects),
        "LB": _lb(session, subjects),
        "AE": _ae(session, subjects),
    }


def is_blinded(tables: Mapping[str, pl.DataFrame]) -> bool:
    """Whether an export from ``export_tables`` is blinded (its DM carries no arm)."""
    return not any(name in tables["DM"].columns for name in ARM_COLUMNS)


def write_tables(
    tables: Mapping[str, pl.DataFrame], out_dir: str | os.PathLike[str], fmt: str = "parquet"
) -> list[Path]:
    """Write each table to ``out_dir`` (created if needed) as ``<name>.parquet`` or
    ``<name>.csv`` (lowercase, as SDTM files are named); returns the paths in table order.

    Each file is written to a temporary name and renamed, so a failed export leaves no half
    file. CSV writes nulls as empty fields; an existing file of the same name is replaced.
    """
    if fmt not in FORMATS:
        raise InvalidInput("export", "format", fmt, "one of " + ", ".join(FORMATS))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = out / f"{name.lower()}.{fmt}"
        handle, temporary = tempfile.mkstemp(dir=out, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
        try:
            if fmt == "parquet":
                frame.write_parquet(temporary)
            else:
                frame.write_csv(temporary)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        paths.append(path)
    return paths


# --- helpers ------------------------------------------------------------------------------------


class _Subject:
    """A subject with its STUDYID and SITEID, as the export reads them."""

    __slots__ = ("age", "enrolled_on", "id", "sex", "siteid", "studyid", "usubjid")

    def __init__(self, subject: Subject, studyid: str, siteid: str) -> None:
        self.id = subject.id
        self.usubjid = subject.usubjid
        self.studyid = studyid
        self.siteid = siteid
        self.sex = subject.sex
        self.enrolled_on = subject.enrolled_on
        self.age = float(age_on(subject, subject.enrolled_on))


def _may_see_allocation(session: Session, actor: Actor, subject_ids: Sequence[int]) -> bool:
    """True when ``actor`` may see the allocation of every subject (with none: of the registry)."""
    from atopic.registry.randomization import can_see_allocation

    if not subject_ids:
        return can_see_allocation(session, actor)
    return all(can_see_allocation(session, actor, sid) for sid in subject_ids)


def _frame(
    table: Table, rows: list[dict[str, Any]], extra: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """A frame with ``table``'s declared columns (types from the declaration) plus ``extra``
    (name -> Polars dtype, placed after USUBJID), sorted by STUDYID, USUBJID and --SEQ."""
    frame = frame_of(table, rows, extra)
    seq = [name for name in frame.columns if name.endswith("SEQ")]
    return frame.sort(["STUDYID", "USUBJID", *seq], maintain_order=True)


def _number(rows: list[dict[str, Any]], seq: str, order: Sequence[str]) -> list[dict[str, Any]]:
    """Sort each subject's rows by ``order`` (nulls last) and number them 1, 2, ... in ``seq``."""
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_subject[row["USUBJID"]].append(row)
    for group in by_subject.values():
        group.sort(key=lambda row: tuple(_last_if_null(row[k]) for k in order))
        for n, row in enumerate(group, 1):
            row[seq] = n
    return rows


def _last_if_null(value: Any) -> tuple[bool, Any]:
    return (True, 0) if value is None else (False, value)


def dtc(value: str | dt.date | dt.datetime | None) -> str | None:
    """An SDTM ``--DTC`` value: ISO 8601 text (``2026-01-05``, ``2026-01-05T10:30:00``).

    Dates and date/times are formatted; text already in ISO 8601 is kept as it is; other text
    Python reads as a date/time (``2026-01-05 10:30``) is rewritten; anything else is kept, for
    the validator to name.
    """
    if value is None:
        return None
    if isinstance(value, dt.date):  # dt.datetime is a dt.date too
        return value.isoformat()
    if _ISO.match(value):
        return value
    try:
        return dt.datetime.fromisoformat(value).isoformat()
    except ValueError:
        return value


def _dose_rows(
    session: Session, subjects: Mapping[int, _Subject], unblinded: bool
) -> list[dict[str, Any]]:
    rows = []
    query = select(Dose).where(Dose.subject_id.in_(list(subjects))).order_by(Dose.id)
    for dose in session.scalars(query) if subjects else ():
        subject = subjects[dose.subject_id]
        divisor, unit = DOSE_UNITS.get(dose.unit, (1.0, dose.unit))
        row = {
            "STUDYID": subject.studyid,
            "DOMAIN": "EX",
            "USUBJID": subject.usubjid,
            "EXSEQ": None,
            "EXTRT": dose.product if unblinded else BLINDED_EXTRT,
            "EXDOSE": dose.dose / divisor if unblinded else None,
            "EXDOSU": unit if unblinded else None,
            "EXROUTE": ROUTES.get(dose.route, dose.route),
            "EXLOT": dose.lot if unblinded else None,
            "EXSTDTC": dtc(dose.given_at),
            "_order": dose.id,
        }
        rows.append(row)
    _number(rows, "EXSEQ", ("EXSTDTC", "_order"))
    for row in rows:
        del row["_order"]
    return rows


def _dm(
    session: Session,
    subjects: Mapping[int, _Subject],
    doses: list[dict[str, Any]],
    unblinded: bool,
) -> pl.DataFrame:
    first_dose: dict[str, str] = {}
    for row in doses:
        current = first_dose.get(row["USUBJID"])
        if row["EXSTDTC"] is not None and (current is None or row["EXSTDTC"] < current):
            first_dose[row["USUBJID"]] = row["EXSTDTC"]
    arms: dict[int, str] = {}
    if unblinded and subjects:
        query = select(RandomizationSlot.subject_id, RandomizationSlot.arm).where(
            RandomizationSlot.subject_id.in_(list(subjects))
        )
        arms = {sid: arm for sid, arm in session.execute(query) if sid is not None}
    rows = []
    for subject in subjects.values():
        prefix = f"{subject.studyid}-"
        subjid = subject.usubjid.removeprefix(prefix) or subject.usubjid
        row: dict[str, Any] = {
            "STUDYID": subject.studyid,
            "DOMAIN": "DM",
            "USUBJID": subject.usubjid,
            "SUBJID": subjid,
            "SITEID": subject.siteid,
            "BRTHDTC": None,
            "AGE": subject.age,
            "SEX": subject.sex,
            "RFSTDTC": first_dose.get(subject.usubjid),
        }
        if unblinded:
            arm = arms.get(subject.id)
            if arm is None:
                row["ARMCD"], row["ARM"] = NOT_ASSIGNED
                row["ACTARMCD"] = NOT_ASSIGNED[0]
            else:
                row["ARMCD"] = row["ARM"] = arm
                row["ACTARMCD"] = arm if subject.usubjid in first_dose else NOT_TREATED
        rows.append(row)
    frame = _frame(DM, rows, {"SUBJID": pl.String}).drop("BRTHDTC")
    return frame if unblinded else frame.drop(*ARM_COLUMNS)


def _instruments() -> dict[str, Instrument]:
    return {spec.name: spec for spec in INSTRUMENTS.values()}


def _qs(session: Session, subjects: Mapping[int, _Subject]) -> pl.DataFrame:
    if not subjects:
        return _frame(QS, [])
    specs = _instruments()
    query = (
        select(AssessmentItem, Assessment, Visit)
        .join(Assessment, Assessment.id == AssessmentItem.assessment_id)
        .join(Visit, Visit.id == Assessment.visit_id)
        .where(Visit.subject_id.in_(list(subjects)))
        .order_by(AssessmentItem.id)
    )
    rows = []
    for item, assessment, visit in session.execute(query):
        subject = subjects[visit.subject_id]
        spec = specs.get(assessment.instrument)
        codes = [i.code for i in spec.items] if spec else []
        declared = spec.items[codes.index(item.qstestcd)] if item.qstestcd in codes else None
        rows.append(
            {
                "STUDYID": subject.studyid,
                "DOMAIN": "QS",
                "USUBJID": subject.usubjid,
                "QSSEQ": None,
                "QSTESTCD": item.qstestcd,
                "QSTEST": qstest(declared) if declared else item.field[:40],
                "QSCAT": spec.qscat if spec else assessment.instrument.upper(),
                "QSORRES": item.value_text,
                "QSSTRESC": item.value_text,
                "QSSTRESN": item.value_num,
                "QSEVAL": assessment.evaluator,
                "VISITNUM": visit.visitnum,
                "VISIT": visit.name,
                "QSDTC": dtc(assessment.assessed_on),
                "_instrument": assessment.instrument,
                "_item": codes.index(item.qstestcd) if declared else len(codes),
                "_order": item.id,
            }
        )
    order = ("VISITNUM", "QSDTC", "_instrument", "QSEVAL", "_item", "_order")
    _number(rows, "QSSEQ", order)
    for row in rows:
        del row["_instrument"], row["_item"], row["_order"]
    return _frame(QS, rows)


def _lb(session: Session, subjects: Mapping[int, _Subject]) -> pl.DataFrame:
    if not subjects:
        return _frame(LB, [])
    visits: dict[int, Visit] = {}
    done_on: dict[tuple[int, dt.date], list[float]] = defaultdict(list)
    for visit in session.scalars(select(Visit).where(Visit.subject_id.in_(list(subjects)))):
        visits[visit.id] = visit
        if visit.actual_date is not None:
            done_on[(visit.subject_id, visit.actual_date)].append(visit.visitnum)
    query = select(Lab).where(Lab.subject_id.in_(list(subjects))).order_by(Lab.id)
    rows = []
    for lab in session.scalars(query):
        subject = subjects[lab.subject_id]
        if lab.visit_id is not None:
            visitnum: float | None = visits[lab.visit_id].visitnum
        else:
            same_day = done_on.get((lab.subject_id, lab.collected_on), [])
            visitnum = same_day[0] if len(same_day) == 1 else None
        rows.append(
            {
                "STUDYID": subject.studyid,
                "DOMAIN": "LB",
                "USUBJID": subject.usubjid,
                "LBSEQ": None,
                "LBTESTCD": lab.testcd,
                "LBSTRESN": lab.value,
                "LBSTRESU": lab.unit,
                "VISITNUM": visitnum,
                "LBDTC": dtc(lab.collected_on),
                "_order": lab.id,
            }
        )
    _number(rows, "LBSEQ", ("LBDTC", "VISITNUM", "LBTESTCD", "_order"))
    for row in rows:
        del row["_order"]
    return _frame(LB, rows)


def _ae(session: Session, subjects: Mapping[int, _Subject]) -> pl.DataFrame:
    if not subjects:
        return _frame(AE, [])
    query = (
        select(AdverseEvent)
        .where(AdverseEvent.subject_id.in_(list(subjects)))
        .order_by(AdverseEvent.id)
    )
    rows = []
    for event in session.scalars(query):
        subject = subjects[event.subject_id]
        rows.append(
            {
                "STUDYID": subject.studyid,
                "DOMAIN": "AE",
                "USUBJID": subject.usubjid,
                "AESEQ": None,
                "AETERM": event.term,
                "AEDECOD": event.decod,
                "AEBODSYS": event.bodsys,
                "AESEV": event.severity,
                "AETOXGR": None if event.toxgr is None else str(event.toxgr),
                "AESER": "Y" if event.serious else "N",
                "AEREL": event.related,
                "AESTDTC": dtc(event.start_date),
                "AEENDTC": dtc(event.end_date),
                "_order": event.id,
            }
        )
    _number(rows, "AESEQ", ("AESTDTC", "_order"))
    for row in rows:
        del row["_order"]
    return _frame(AE, rows)


__all__ = [
    "ARM_COLUMNS",
    "BLINDED_EXTRT",
    "DOSE_UNITS",
    "FORMATS",
    "ROUTES",
    "dtc",
    "export_tables",
    "is_blinded",
    "write_tables",
]
