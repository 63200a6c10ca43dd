"""Load collected tables (DM, EX, QS, LB, AE) into the registry through the service layer.

``load_tables(session, actor, tables)`` enrols each DM subject and records its visits,
assessments, labs, doses and adverse events with the ``services`` functions, so every row is
role-checked, validated by the instruments and audited, in the caller's one transaction: the
caller commits, and any error (an ``InvalidInput`` naming the row, or its source resource when
``sources`` is given) leaves nothing behind. Doses are recorded by ``pharmacist`` (the only role
that may record doses), in the same transaction.

Decisions (what the tables do not say):
* enrolment date: the subject's earliest date in QS, LB, EX or AE; age: DM AGE (whole years).
* visits: every VISITNUM of QS and LB, named by VISIT (``VISIT n`` when only a lab names it),
  done on its earliest QSDTC or LBDTC.
* instrument of an assessment: given by ``instruments`` (as ``bundle_tables`` reads it) or the
  one instrument of that QSCAT whose items match the QSTESTCDs (SCORAD and oSCORAD share QSCAT).
* EX: EXDOSE in 10^6 cells back to cells (``export.DOSE_UNITS``), routes back to SC / IV. A
  blinded export (EXDOSE, EXDOSU or EXLOT missing) cannot be loaded: the dose is unknown.
* the allocation is not loaded (randomization is its own service).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, Instrument
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.export import DOSE_UNITS, ROUTES

_UNITS = {unit: (factor, name) for name, (factor, unit) in DOSE_UNITS.items()}
_ROUTES = {cdisc: code for code, cdisc in ROUTES.items()}


def load_tables(
    session: Session,
    actor: Actor,
    tables: Mapping[str, pl.DataFrame],
    *,
    pharmacist: Actor | None = None,
    instruments: Mapping[tuple[Any, ...], str] | None = None,
    sources: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Record every subject of ``tables`` (see the module docstring); returns their USUBJIDs.

    ``actor`` enrols and records (investigator or coordinator), ``pharmacist`` records the doses
    (default: ``actor``, refused unless a pharmacist). ``sources[table][i]`` names the resource a
    row came from, for messages.
    """
    rows = {n: _rows(tables, n) for n in ("DM", "EX", "QS", "LB", "AE")}
    names = {n: list((sources or {}).get(n, ())) for n in rows}
    loaded = []
    for dm in rows["DM"]:
        usubjid = dm["USUBJID"]
        mine = {n: [(i, r) for i, r in enumerate(rows[n]) if r["USUBJID"] == usubjid] for n in rows}
        with _named("DM", 0, names):
            _enrol(session, actor, dm, mine)
        _visits(session, actor, mine)
        _assessments(session, actor, mine["QS"], instruments or {}, names)
        for i, row in mine["LB"]:
            with _named("LB", i, names):
                svc.record_lab(
                    session,
                    actor,
                    usubjid=usubjid,
                    testcd=row["LBTESTCD"],
                    value=row["LBSTRESN"],
                    unit=row["LBSTRESU"],
                    collected_on=_date(row["LBDTC"]),
                    visitnum=row["VISITNUM"],
                )
        for i, row in mine["EX"]:
            with _named("EX", i, names):
                _dose(session, pharmacist or actor, row)
        for i, row in mine["AE"]:
            with _named("AE", i, names):
                _adverse_event(session, actor, row)
        loaded.append(usubjid)
    return loaded


def instrument_for(qscat: str, codes: set[str]) -> Instrument:
    """The one instrument of QSCAT ``qscat`` whose asked items match the QSTESTCDs ``codes``."""
    found = []
    for spec in INSTRUMENTS.values():
        asked = [i for i in spec.items if not i.context]
        if spec.qscat != qscat or not codes <= {i.code for i in asked}:
            continue
        if {i.code for i in asked if not i.optional} <= codes:
            found.append(spec)
    if len(found) != 1:
        raise InvalidInput(
            "QS", "QSTESTCD", ", ".join(sorted(codes)), f"the items of one instrument ({qscat})"
        )
    return found[0]


def form_data(spec: Instrument, values: Mapping[str, object]) -> dict[str, object]:
    """The JSON form ``record_assessment`` takes, from values by field (``items.3`` -> 2):
    dotted fields as they are, or ``{"items": [...]}`` for instruments entered as a list."""
    if spec.parse is None:
        return dict(values)
    numbered = [i.field for i in spec.items if i.field.removeprefix("items.").isdigit()]
    data: dict[str, object] = {"items": [values.get(f) for f in numbered]}
    data.update({f: v for f, v in values.items() if f not in numbered})
    return data


# --- helpers ------------------------------------------------------------------------------------


@contextmanager
def _named(table: str, index: int, names: Mapping[str, Sequence[str]]) -> Iterator[None]:
    """Re-raise an ``InvalidInput`` with the row's source (resource or table row) in front."""
    try:
        yield
    except InvalidInput as error:
        source = names.get(table, ())
        where = source[index] if index < len(source) else f"{table} row {index + 1}"
        raise InvalidInput(
            f"{where}: {error.subject}", error.field, error.value, error.allowed
        ) from None


def _rows(tables: Mapping[str, pl.DataFrame], name: str) -> list[dict[str, Any]]:
    frame = tables.get(name)
    if frame is None:
        return []
    return (frame.collect() if isinstance(frame, pl.LazyFrame) else frame).to_dicts()


def _date(value: str | None) -> str | None:
    return None if value is None else value[:10]


def _enrol(
    session: Session, actor: Actor, dm: Mapping[str, Any], mine: Mapping[str, list[Any]]
) -> None:
    dates = [
        _date(row[column])
        for table, column in (
            ("QS", "QSDTC"),
            ("LB", "LBDTC"),
            ("EX", "EXSTDTC"),
            ("AE", "AESTDTC"),
        )
        for _, row in mine[table]
        if row.get(column)
    ]
    if not dates:
        raise InvalidInput(
            "DM", "USUBJID", dm["USUBJID"], "a subject with at least one dated record"
        )
    age = dm.get("AGE")
    if age is None or not float(age).is_integer():
        raise InvalidInput("DM", "AGE", age, "the age at enrolment in whole years")
    svc.enrol_subject(
        session,
        actor,
        studyid=dm["STUDYID"],
        site_code=dm["SITEID"],
        usubjid=dm["USUBJID"],
        sex=dm["SEX"],
        enrolled_on=min(d for d in dates if d),
        age=int(age),
    )


def _visits(session: Session, actor: Actor, mine: Mapping[str, list[Any]]) -> None:
    names: dict[float, str] = {}
    dates: dict[float, str] = {}
    for table, column in (("QS", "QSDTC"), ("LB", "LBDTC")):
        for _, row in mine[table]:
            visitnum = row.get("VISITNUM")
            if visitnum is None:
                continue
            if row.get("VISIT"):
                names.setdefault(visitnum, row["VISIT"])
            date = _date(row.get(column))
            if date and (visitnum not in dates or date < dates[visitnum]):
                dates[visitnum] = date
    usubjid = (mine["QS"] or mine["LB"])[0][1]["USUBJID"] if names or dates else None
    for visitnum in sorted(set(names) | set(dates)):
        svc.schedule_visit(
            session,
            actor,
            usubjid,
            visitnum,
            names.get(visitnum, f"VISIT {visitnum:g}"),
            actual_date=dates.get(visitnum),
        )


def _assessments(
    session: Session,
    actor: Actor,
    qs: list[tuple[int, dict[str, Any]]],
    instruments: Mapping[tuple[Any, ...], str],
    names: Mapping[str, Sequence[str]],
) -> None:
    groups: dict[tuple[Any, ...], list[tuple[int, dict[str, Any]]]] = {}
    for i, row in qs:
        key = (row["USUBJID"], row["VISITNUM"], row["QSDTC"], row["QSEVAL"], row["QSCAT"])
        groups.setdefault(key, []).append((i, row))
    by_name = {spec.name: spec for spec in INSTRUMENTS.values()}
    for key, group in groups.items():
        first_index, first = group[0]
        with _named("QS", first_index, names):
            name = instruments.get(key)
            codes = {row["QSTESTCD"] for _, row in group}
            spec = by_name[name] if name in by_name else instrument_for(first["QSCAT"], codes)
            by_code = {item.code: item.field for item in spec.items}
            values = {by_code[row["QSTESTCD"]]: _value(row) for _, row in group}
            svc.record_assessment(
                session,
                actor,
                usubjid=first["USUBJID"],
                visitnum=first["VISITNUM"],
                instrument=spec.name,
                data=form_data(spec, values),
                assessed_on=_date(first["QSDTC"]),
                evaluator=first["QSEVAL"] or "INVESTIGATOR",
            )


def _value(row: Mapping[str, Any]) -> object:
    number = row.get("QSSTRESN")
    if number is None:
        return row["QSORRES"]
    return int(number) if float(number).is_integer() else float(number)


def _dose(session: Session, pharmacist: Actor, row: Mapping[str, Any]) -> None:
    for column in ("EXDOSE", "EXDOSU", "EXLOT"):
        if row.get(column) is None:
            raise InvalidInput(
                "EX",
                column,
                None,
                "given (a blinded export, without dose and lot, cannot be loaded)",
            )
    if row["EXDOSU"] not in _UNITS:
        raise InvalidInput("EX", "EXDOSU", row["EXDOSU"], "one of " + ", ".join(_UNITS))
    factor, unit = _UNITS[row["EXDOSU"]]
    previous = session.info.get("actor")
    session.info["actor"] = pharmacist  # the audit trail names who recorded the dose
    try:
        svc.record_dose(
            session,
            pharmacist,
            usubjid=row["USUBJID"],
            product=row["EXTRT"],
            lot=row["EXLOT"],
            dose=round(row["EXDOSE"] * factor, 6),
            unit=unit,
            route=_ROUTES.get(row["EXROUTE"], row["EXROUTE"]),
            given_at=row["EXSTDTC"],
        )
    finally:
        session.info["actor"] = previous


def _adverse_event(session: Session, actor: Actor, row: Mapping[str, Any]) -> None:
    svc.record_adverse_event(
        session,
        actor,
        usubjid=row["USUBJID"],
        term=row["AETERM"],
        start_date=_date(row["AESTDTC"]),
        related=row["AEREL"],
        severity=row["AESEV"],
        toxgr=None if row["AETOXGR"] is None else int(row["AETOXGR"]),
        serious=row["AESER"] == "Y",
        end_date=_date(row["AEENDTC"]),
        decod=row["AEDECOD"],
        bodsys=row["AEBODSYS"],
    )
