"""The mapping file (TOML) from a REDCap project to atopic's collected tables.

```toml
[study]
studyid = "RC-DEMO"            # required: STUDYID of every row
record_id = "record_id"        # the record identifier column (default record_id)
usubjid_prefix = "RC-DEMO-"    # USUBJID = prefix + record id (default studyid + "-")
siteid = "01"                  # SITEID when DM has no SITEID field
ignore = ["demographics_complete"]   # columns knowingly not imported (listed as ignored)
repeating = ["nrs"]            # forms (Form Name) whose repeat instances are imported

[events.screening_arm_1]       # every REDCap event imported: its VISITNUM and VISIT
visitnum = 1
visit = "SCREENING"

[dm]                           # DM variable = REDCap field
SEX = "sex"
AGE = "age"
[dm.codes.SEX]                 # optional: REDCap code -> CDISC term (else the choice label)
"1" = "M"

[instruments.EASI]             # instrument name as declared (Instrument.name)
evaluator = "INVESTIGATOR"     # QSEVAL (optional)
date_field = "easi_date"       # QSDTC (optional)
[instruments.EASI.items]       # REDCap field = QSTESTCD, or {code = ..., use = "label"|"code"}
easi_hn_erythema = "EASI101"

[labs.IGE]                     # LBTESTCD
field = "ige"
unit = "IU/mL"                 # LBSTRESU
date_field = "lab_date"        # LBDTC (optional)
```

``use`` says how a coded (radio/dropdown/checkbox) field gives the item value: ``"label"``
(default: the choice label, e.g. code 15 labelled ``1.5``) or ``"code"`` (the raw code). Every
fault is an ``InvalidInput`` naming the file and the TOML key path (``instruments.EASI.items.x``).

``repeating`` lists the REDCap forms (the dictionary's Form Name, the export's
``redcap_repeat_instrument``) whose instances are imported, each instance as its own assessment.
Each instance must carry its own date, so a repeating form holds no DM field, and an instrument
or lab with a field in it has all its fields and its ``date_field`` in that form.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atopic.errors import InvalidInput
from atopic.interop.redcap.dictionary import Field
from atopic.tables.collected import DM, LAB_STANDARD_UNITS, LAB_TESTS

DM_FIELDS: tuple[str, ...] = tuple(
    c.name for c in DM.columns if c.name not in ("STUDYID", "DOMAIN", "USUBJID")
)
"""DM variables a REDCap field may fill."""
USES: tuple[str, ...] = ("label", "code")


@dataclass(frozen=True)
class Event:
    """A REDCap event imported as a visit."""

    visitnum: float
    visit: str | None


@dataclass(frozen=True)
class ItemMap:
    """A REDCap field that answers one instrument item."""

    instrument: str
    code: str
    use: str = "label"


@dataclass(frozen=True)
class LabMap:
    """A REDCap field that holds one lab result in standard units."""

    test: str
    unit: str | None
    date_field: str | None


@dataclass(frozen=True)
class Mapping:
    """A parsed and checked mapping file; see the module docstring."""

    path: str
    studyid: str
    record_id: str
    usubjid_prefix: str
    siteid: str | None
    ignore: tuple[str, ...]
    events: dict[str, Event]
    dm: dict[str, str]
    dm_codes: dict[str, dict[str, str]]
    items: dict[str, ItemMap]
    evaluators: dict[str, str | None]
    qs_dates: dict[str, str | None]
    labs: dict[str, LabMap]
    repeating: tuple[str, ...] = ()

    def date_fields(self) -> set[str]:
        """Every REDCap field used as a date (QSDTC, LBDTC)."""
        return {d for d in self.qs_dates.values() if d} | {
            lab.date_field for lab in self.labs.values() if lab.date_field
        }


def _table(where: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(where, key, value, "a TOML table")
    return value


def _text(where: str, key: str, value: Any, allowed: str = "a non-empty string") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(where, key, value, allowed)
    return value


def _unknown(where: str, key: str, table: AnyMapping[str, Any], known: Sequence[str]) -> None:
    for name in table:
        if name not in known:
            raise InvalidInput(
                where, f"{key}.{name}" if key else name, name, "one of " + ", ".join(known)
            )


def read_mapping(
    path: str | Path,
    dictionary: AnyMapping[str, Field],
    schemas: Sequence[AnyMapping[str, Any]],
) -> Mapping:
    """Parse and check the mapping file at ``path`` against the REDCap dictionary and the
    instrument declarations (``Instrument.schema()`` plus ``qscat``, as data)."""
    path = Path(path)
    where = f"mapping {path}"
    if not path.is_file():
        raise InvalidInput("mapping", "file", str(path), "an existing TOML file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(where, "TOML", str(error), "valid TOML") from None
    return parse_mapping(data, dictionary, schemas, where=where)


def parse_mapping(
    data: AnyMapping[str, Any],
    dictionary: AnyMapping[str, Field],
    schemas: Sequence[AnyMapping[str, Any]],
    *,
    where: str = "mapping",
) -> Mapping:
    """Check a mapping already read from TOML (``read_mapping`` reads the file)."""
    _unknown(where, "", data, ("study", "events", "dm", "instruments", "labs"))
    study = _table(where, "study", data.get("study"))
    _unknown(
        where,
        "study",
        study,
        ("studyid", "record_id", "usubjid_prefix", "siteid", "ignore", "repeating"),
    )
    studyid = _text(where, "study.studyid", study.get("studyid"))
    record_id = _text(where, "study.record_id", study.get("record_id", "record_id"))
    prefix = study.get("usubjid_prefix", f"{studyid}-")
    if not isinstance(prefix, str):
        raise InvalidInput(where, "study.usubjid_prefix", prefix, "a string")
    siteid = study.get("siteid")
    if siteid is not None:
        siteid = _text(where, "study.siteid", siteid)
    ignore = study.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(x, str) for x in ignore):
        raise InvalidInput(where, "study.ignore", ignore, "a list of REDCap column names")

    used: dict[str, str] = {}

    def field_of(key: str, value: Any, *, date: bool = False) -> str:
        name = _text(where, key, value, "a REDCap field name")
        if name not in dictionary:
            raise InvalidInput(where, key, name, "a field of the REDCap data dictionary")
        if name in used and not (date and used[name] == "date"):
            raise InvalidInput(where, key, name, f"a field not already mapped (by {used[name]})")
        used[name] = "date" if date else key
        return name

    events: dict[str, Event] = {}
    for name, spec in _table(where, "events", data.get("events", {})).items():
        key = f"events.{name}"
        spec = _table(where, key, spec)
        _unknown(where, key, spec, ("visitnum", "visit"))
        visitnum = spec.get("visitnum")
        if isinstance(visitnum, bool) or not isinstance(visitnum, int | float):
            raise InvalidInput(where, f"{key}.visitnum", visitnum, "a number")
        visit = spec.get("visit")
        if visit is not None:
            visit = _text(where, f"{key}.visit", visit)
        events[name] = Event(float(visitnum), visit)
    if not events:
        raise InvalidInput(where, "events", None, "at least one [events.NAME] table")

    dm_table = dict(_table(where, "dm", data.get("dm", {})))
    codes_table = _table(where, "dm.codes", dm_table.pop("codes", {}))
    _unknown(where, "dm", dm_table, DM_FIELDS)
    dm = {var: field_of(f"dm.{var}", name) for var, name in dm_table.items()}
    dm_codes: dict[str, dict[str, str]] = {}
    for var, codes in codes_table.items():
        key = f"dm.codes.{var}"
        if var not in dm:
            raise InvalidInput(where, key, var, "a DM variable mapped in [dm]")
        codes = _table(where, key, codes)
        dm_codes[var] = {c: _text(where, f"{key}.{c}", t) for c, t in codes.items()}
    if "SITEID" not in dm and siteid is None:
        raise InvalidInput(where, "dm.SITEID", None, "a REDCap field, or study.siteid")

    by_name = {s["instrument"]: s for s in schemas}
    items: dict[str, ItemMap] = {}
    evaluators: dict[str, str | None] = {}
    qs_dates: dict[str, str | None] = {}
    taken: set[tuple[str, str]] = set()
    for name, spec in _table(where, "instruments", data.get("instruments", {})).items():
        key = f"instruments.{name}"
        if name not in by_name:
            raise InvalidInput(where, key, name, "one of " + ", ".join(by_name))
        spec = _table(where, key, spec)
        _unknown(where, key, spec, ("evaluator", "date_field", "items"))
        codes = {f["code"] for f in by_name[name]["fields"] if not f.get("context")}
        evaluator = spec.get("evaluator")
        evaluators[name] = (
            None if evaluator is None else _text(where, f"{key}.evaluator", evaluator)
        )
        date = spec.get("date_field")
        qs_dates[name] = None if date is None else field_of(f"{key}.date_field", date, date=True)
        mapped = _table(where, f"{key}.items", spec.get("items"))
        if not mapped:
            raise InvalidInput(where, f"{key}.items", None, "at least one REDCap field")
        for redcap, target in mapped.items():
            ikey = f"{key}.items.{redcap}"
            use = "label"
            if isinstance(target, dict):
                _unknown(where, ikey, target, ("code", "use"))
                use = target.get("use", "label")
                if use not in USES:
                    raise InvalidInput(where, f"{ikey}.use", use, "one of label, code")
                target = target.get("code")
            code = _text(where, ikey, target, "a QSTESTCD")
            if code not in codes:
                raise InvalidInput(
                    where, ikey, code, f"a {name} item code: " + ", ".join(sorted(codes))
                )
            qscat = by_name[name]["qscat"]
            if (qscat, code) in taken:
                raise InvalidInput(where, ikey, code, f"an item mapped once (QSCAT {qscat})")
            taken.add((qscat, code))
            items[field_of(ikey, redcap)] = ItemMap(name, code, use)

    labs: dict[str, LabMap] = {}
    for test, spec in _table(where, "labs", data.get("labs", {})).items():
        key = f"labs.{test}"
        if test not in LAB_TESTS:
            raise InvalidInput(where, key, test, "a LBTESTCD: one of " + ", ".join(LAB_TESTS))
        spec = _table(where, key, spec)
        _unknown(where, key, spec, ("field", "unit", "date_field"))
        unit = spec.get("unit")
        if unit is not None and unit not in LAB_STANDARD_UNITS:
            raise InvalidInput(
                where, f"{key}.unit", unit, "one of " + ", ".join(LAB_STANDARD_UNITS)
            )
        date = spec.get("date_field")
        date = None if date is None else field_of(f"{key}.date_field", date, date=True)
        labs[field_of(f"{key}.field", spec.get("field"))] = LabMap(test, unit, date)

    repeating = _repeating(where, study.get("repeating", []), dictionary, dm, items, qs_dates, labs)
    return Mapping(
        path=where,
        studyid=studyid,
        record_id=record_id,
        usubjid_prefix=prefix,
        siteid=siteid,
        ignore=tuple(ignore),
        events=events,
        dm=dm,
        dm_codes=dm_codes,
        items=items,
        evaluators=evaluators,
        qs_dates=qs_dates,
        labs=labs,
        repeating=repeating,
    )


def _repeating(
    where: str,
    forms: Any,
    dictionary: AnyMapping[str, Field],
    dm: AnyMapping[str, str],
    items: AnyMapping[str, ItemMap],
    qs_dates: AnyMapping[str, str | None],
    labs: AnyMapping[str, LabMap],
) -> tuple[str, ...]:
    """Check ``study.repeating``: dictionary forms whose every instance can carry its own date."""
    known = sorted({f.form for f in dictionary.values()})
    if not isinstance(forms, list) or not all(isinstance(x, str) for x in forms):
        raise InvalidInput(where, "study.repeating", forms, "a list of REDCap form names")
    key = "study.repeating"
    for form in forms:
        if form not in known:
            raise InvalidInput(
                where, key, form, "a Form Name of the dictionary: " + ", ".join(known)
            )
        for var, name in dm.items():
            if dictionary[name].form == form:
                raise InvalidInput(
                    where, key, form, f"a form without DM fields (dm.{var} = {name!r} is in it)"
                )
        groups: list[tuple[str, list[str], str | None]] = []
        for instrument, date in qs_dates.items():
            names = [n for n, i in items.items() if i.instrument == instrument]
            groups.append((f"instruments.{instrument}", names, date))
        groups += [(f"labs.{lab.test}", [n], lab.date_field) for n, lab in labs.items()]
        for owner, names, date in groups:
            inside = [n for n in names if dictionary[n].form == form]
            if not inside:
                continue
            outside = [n for n in [*names, date] if n is None or dictionary[n].form != form]
            if outside:
                got = "no date_field" if outside[0] is None else f"{outside[0]!r}"
                raise InvalidInput(
                    where,
                    key,
                    form,
                    f"a form holding all of {owner}'s fields and its date_field (each instance "
                    f"needs its own date); {got} is outside it",
                )
    return tuple(forms)
