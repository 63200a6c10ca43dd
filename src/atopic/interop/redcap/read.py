"""Import a REDCap CSV export (raw codes) into the collected tables DM, QS and LB.

``import_redcap(export, dictionary, mapping, schemas, accepts=None)`` walks every non-blank value
of the export (one base row per record and event, plus repeat rows; a checkbox's
``field___code`` columns are one value, the checked codes) and sends it to exactly one place:

* QS: a field mapped to an instrument item, after the dictionary check (``check_raw``), the
  choice translation (label by default, or the code: ``use = "code"``) and the item's allowed
  values. One row per item answered: QSORRES/QSSTRESC the value, QSSTRESN the number.
* LB: a field mapped to a lab test; the value must be a number (LBSTRESN).
* DM: a field mapped to a DM variable (codes translated by ``dm.codes`` or the choice label,
  checked against the DM declaration's terminology and ISO 8601 dates).
* dates: a field named as ``date_field`` (QSDTC, LBDTC), turned into ISO 8601.
* ignored: a column listed in ``study.ignore``.
* rejects: anything else, with record_id, event, instance, field, value and the reason in the
  ``InvalidInput`` wording: an unmapped column, an event the mapping does not list, a second row
  for the same record, event and instance, a value the dictionary or the item refuses, a DM value
  that conflicts with another event's, and the DM values of a record whose DM row cannot be
  written (a required variable is missing).

Repeating instruments (REDCap's export format: ``redcap_repeat_instrument`` is the form name,
``redcap_repeat_instance`` the instance from 1; both blank on the base row, which holds the
non-repeating fields; a repeat row holds only its form's fields). Decided once:

* A form listed in the mapping's ``study.repeating`` may repeat; each instance is its own
  assessment: its QS/LB rows carry the event's VISITNUM and VISIT and the date from the
  instance's own date field (the mapping guarantees the form holds it), and QSSEQ/LBSEQ number
  them like any row. The collected tables have no repeat-number column, so the date tells
  instances apart; ``atopic.trial.derive`` then picks by its visit-window rules.
* Rejected: a repeat row of a form not listed (every value), an instance that is not a whole
  number from 1, a value in a repeat row from another form, an item or lab value of an instance
  whose date is missing or refused, and every copy of a QS/LB row whose table keys another row
  shares (two instances on one date: atopic does not choose, as the derivations do not).
* Repeating events (``redcap_repeat_instrument`` blank, ``redcap_repeat_instance`` set) are not
  imported: every value of such a row is a reject saying so.
* The ``instance`` column of rejects and ignored is ``form#n`` (``#n`` for a repeating event),
  blank for a base row.

Nothing is dropped: ``values_in == sum(counts.values())``, where ``counts`` holds the QS and LB
rows, the DM and date values used, the ignored values and the rejects.

``accepts(instrument, code, value) -> bool`` checks an item value; the CLI passes the
instruments' own domains. Without it the declaration's ``values`` or ``minimum``/``maximum`` are
used, and an item that declares neither cannot be imported (an ``InvalidInput`` says so).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from atopic.errors import InvalidInput
from atopic.interop.redcap.dictionary import Field, check_raw
from atopic.interop.redcap.mapping import Mapping
from atopic.tables import qstest
from atopic.tables.collected import DM, LB, QS
from atopic.tables.frames import frame_of
from atopic.tables.validate import ISO8601, ISO8601_ALLOWED

Accepts = Callable[[str, str, object], bool]
"""``accepts(instrument, QSTESTCD, value)``: whether the value is allowed for the item."""
EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
REJECT_COLUMNS: tuple[str, ...] = ("record_id", "event", "instance", "field", "value", "reason")
"""Columns of the rejects (and ignored) report; ``instance`` is ``form#n`` for a repeat row."""
_CHECKBOX = re.compile(r"(.+)___(.+)")


@dataclass(frozen=True)
class RedcapImport:
    """The collected tables made from a REDCap export, and where every value went.

    ``dm``, ``qs``, ``lb`` are Polars frames with the declared columns; ``rejects`` and
    ``ignored`` have ``REJECT_COLUMNS``; ``values_in`` counts the export's non-blank values and
    ``counts`` where they went (``QS``, ``LB``, ``DM``, ``dates``, ``ignored``, ``rejects``).
    """

    dm: pl.DataFrame
    qs: pl.DataFrame
    lb: pl.DataFrame
    rejects: pl.DataFrame
    ignored: pl.DataFrame
    values_in: int
    counts: dict[str, int]

    @property
    def tables(self) -> dict[str, pl.DataFrame]:
        """DM, QS and LB by name."""
        return {"DM": self.dm, "QS": self.qs, "LB": self.lb}


def read_export(path: str | Path) -> pl.DataFrame:
    """A REDCap CSV export (raw data) as text columns, nothing inferred."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("REDCap export", "file", str(path), "an existing CSV file")
    return pl.read_csv(path, infer_schema=False)


def _entered(value: int | float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_number(text: str) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?[0-9]+", text) else number


def _iso(text: str) -> str | None:
    value = text.strip().replace(" ", "T")
    return value if re.fullmatch(ISO8601, value) else None


class _Label:
    def __init__(self, label: str) -> None:
        self.label = label


@dataclass
class _Units:
    """The values of the export: one per plain column, one per checkbox field."""

    plain: list[str]
    checkboxes: dict[str, list[tuple[str, str]]]  # field -> [(column, code)]


def _units(columns: Sequence[str], dictionary: AnyMapping[str, Field], skip: set[str]) -> _Units:
    plain, boxes = [], {}
    for column in columns:
        if column in skip:
            continue
        match = _CHECKBOX.fullmatch(column)
        spec = dictionary.get(match.group(1)) if match else None
        if match and spec is not None and spec.type == "checkbox":
            boxes.setdefault(match.group(1), []).append((column, match.group(2)))
        else:
            plain.append(column)
    return _Units(plain, boxes)


def _default_accepts(schemas: Sequence[AnyMapping[str, Any]]) -> Accepts:
    fields = {
        (s["instrument"], f["code"]): f
        for s in schemas
        for f in s["fields"]
        if not f.get("context")
    }

    def accepts(instrument: str, code: str, value: object) -> bool:
        field = fields[(instrument, code)]
        values = field.get("values")
        if values is not None:
            return any(value == v and isinstance(value, str) == isinstance(v, str) for v in values)
        lo, hi = field.get("minimum"), field.get("maximum")
        if isinstance(value, str | bool):
            return False
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    return accepts


def import_redcap(
    export: pl.DataFrame,
    dictionary: AnyMapping[str, Field],
    mapping: Mapping,
    schemas: Sequence[AnyMapping[str, Any]],
    accepts: Accepts | None = None,
) -> RedcapImport:
    """DM, QS and LB from a REDCap export (text frame, ``read_export``), its dictionary
    (``read_dictionary``), the mapping (``read_mapping``) and the instrument declarations as
    data; see the module docstring."""
    by_name = {s["instrument"]: s for s in schemas}
    fields = {
        (s["instrument"], f["code"]): f
        for s in schemas
        for f in s["fields"]
        if not f.get("context")
    }
    if accepts is None:
        for name, item in mapping.items.items():
            f = fields[(item.instrument, item.code)]
            if "values" not in f and "minimum" not in f and "maximum" not in f:
                raise InvalidInput(
                    mapping.path,
                    f"instruments.{item.instrument}.items.{name}",
                    f["allowed"],
                    "an item declared by values or a range, or an accepts function (the CLI's)",
                )
        accepts = _default_accepts(schemas)
    for column in (mapping.record_id, EVENT):
        if column not in export.columns:
            raise InvalidInput("REDCap export", "column", column, "present (record id and event)")
    units = _units(
        export.columns, dictionary, {mapping.record_id, EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE}
    )
    state = _State(mapping)
    seen: set[tuple[str, str, str]] = set()
    for row in export.iter_rows(named=True):
        record = (row[mapping.record_id] or "").strip()
        event = (row[EVENT] or "").strip()
        form = (row.get(REPEAT_INSTRUMENT) or "").strip()
        instance = (row.get(REPEAT_INSTANCE) or "").strip()
        state.instance = f"{form}#{instance}" if form or instance else ""
        values = _row_values(row, units, dictionary, state, record, event)
        state.values_in += len(values) + state.pending_cell_rejects
        state.pending_cell_rejects = 0
        problem = None
        if not record:
            problem = InvalidInput("REDCap export", mapping.record_id, None, "a record id").message
        elif event not in mapping.events:
            problem = InvalidInput(
                "REDCap export",
                EVENT,
                event,
                "one of the mapped events " + ", ".join(mapping.events),
            ).message
        else:
            problem = _repeat_problem(mapping, form, instance)
        if problem is None and (record, event, state.instance) in seen:
            problem = f"REDCap export: a second row for record {record!r} event {event!r}" + (
                f" instance {state.instance!r}" if state.instance else ""
            )
        if problem is not None:
            for name, value, _ in values:
                state.reject(record, event, name, value, problem)
            continue
        seen.add((record, event, state.instance))
        if form:
            values = state.outside_form(record, event, form, values, dictionary)
        state.visit(record, event, values, dictionary, by_name, fields, accepts)
    return state.finish()


def _repeat_problem(mapping: Mapping, form: str, instance: str) -> str | None:
    """Why a row's repeat columns cannot be imported, or None (a base row or an allowed
    instance of a repeating form)."""
    if not form and not instance:
        return None
    if not form:
        return InvalidInput(
            "REDCap export",
            REPEAT_INSTANCE,
            instance,
            "blank when redcap_repeat_instrument is blank (this row is an instance of a "
            "repeating event; repeating events are not imported: make the event's forms "
            f"repeating instruments and list them in {mapping.path} study.repeating)",
        ).message
    if form not in mapping.repeating:
        listed = f"{mapping.path} study.repeating"
        allowed = (
            f"one of the forms listed in {listed}: " + ", ".join(mapping.repeating)
            if mapping.repeating
            else f"blank (no form may repeat: none listed in {listed})"
        )
        return InvalidInput("REDCap export", REPEAT_INSTRUMENT, form, allowed).message
    if not re.fullmatch(r"[1-9][0-9]*", instance):
        return InvalidInput(
            "REDCap export", REPEAT_INSTANCE, instance or None, "a whole number from 1"
        ).message
    return None


def _row_values(
    row: AnyMapping[str, Any],
    units: _Units,
    dictionary: AnyMapping[str, Field],
    state: _State,
    record: str,
    event: str,
) -> list[tuple[str, str, list[str] | None]]:
    """The row's non-blank values as (field, value shown, checked codes for a checkbox)."""
    out: list[tuple[str, str, list[str] | None]] = []
    for column in units.plain:
        value = row[column]
        if value is not None and value.strip():
            out.append((column, value.strip(), None))
    for name, boxes in units.checkboxes.items():
        checked = []
        for column, code in boxes:
            cell = (row[column] or "").strip()
            if cell in ("", "0"):
                continue
            if cell != "1" or code not in dictionary[name].choices:
                state.pending_cell_rejects += 1
                allowed = "0 or 1" if cell != "1" else dictionary[name].allowed()
                got = cell if cell != "1" else code
                state.reject(
                    record,
                    event,
                    column,
                    cell,
                    InvalidInput(f"REDCap field {name}", "checkbox", got, allowed).message,
                )
                continue
            checked.append(code)
        if checked:
            out.append((name, "|".join(checked), checked))
    return out


class _State:
    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.instance = ""
        self.values_in = 0
        self.pending_cell_rejects = 0
        self.rejects: list[dict[str, Any]] = []
        self.ignored: list[dict[str, Any]] = []
        self.qs: list[dict[str, Any]] = []
        self.lb: list[dict[str, Any]] = []
        self.dm: dict[str, dict[str, tuple[Any, str, str, str]]] = {}
        self.records: list[str] = []
        self.counts = {"QS": 0, "LB": 0, "DM": 0, "dates": 0}

    def reject(self, record: str, event: str, field: str, value: str, reason: str) -> None:
        self.rejects.append(self._where(record, event, field, value, reason))

    def _where(
        self, record: str, event: str, field: str, value: str, reason: str
    ) -> dict[str, Any]:
        return {
            "record_id": record,
            "event": event,
            "instance": self.instance,
            "field": field,
            "value": value,
            "reason": reason,
        }

    def outside_form(
        self,
        record: str,
        event: str,
        form: str,
        values: list[tuple[str, str, list[str] | None]],
        dictionary: AnyMapping[str, Field],
    ) -> list[tuple[str, str, list[str] | None]]:
        """Reject the values of a repeat row that belong to another form; return the rest.
        Columns outside the dictionary (``*_complete``) are left to the mapping."""
        kept = []
        for name, value, checked in values:
            spec = dictionary.get(name)
            if spec is not None and spec.form != form:
                reason = InvalidInput(
                    f"REDCap column {name}",
                    "form",
                    spec.form,
                    f"{form} (a repeat row of {form} holds only that form's fields)",
                ).message
                self.reject(record, event, name, value, reason)
            else:
                kept.append((name, value, checked))
        return kept

    def _undated(self, record: str, event: str, name: str, value: str, date: str | None) -> bool:
        """Reject a repeat row's value whose assessment has no date (True when rejected)."""
        if not self.instance:
            return False
        reason = InvalidInput(
            f"REDCap instance {self.instance}",
            date or "date_field",
            None,
            "a date: each instance of a repeating form is its own assessment",
        ).message
        self.reject(record, event, name, value, reason)
        return True

    def visit(
        self,
        record: str,
        event: str,
        values: list[tuple[str, str, list[str] | None]],
        dictionary: AnyMapping[str, Field],
        by_name: AnyMapping[str, AnyMapping[str, Any]],
        fields: AnyMapping[tuple[str, str], AnyMapping[str, Any]],
        accepts: Accepts,
    ) -> None:
        m = self.mapping
        visit = m.events[event]
        usubjid = m.usubjid_prefix + record
        if record not in self.records:
            self.records.append(record)
        dates = m.date_fields()
        dated: dict[str, str] = {}
        for name, value, checked in values:
            if name in dates:
                reason = self._dictionary(dictionary, name, value, checked)
                iso = _iso(value) if reason is None else None
                if reason is None and iso is None:
                    reason = InvalidInput(
                        f"REDCap field {name}", "date", value, ISO8601_ALLOWED
                    ).message
                if reason is not None:
                    self.reject(record, event, name, value, reason)
                else:
                    dated[name] = iso  # type: ignore[assignment]
                    self.counts["dates"] += 1
        for name, value, checked in values:
            if name in dates:
                continue
            if name in m.ignore or (checked is None and _base(name) in m.ignore):
                self.ignored.append(
                    self._where(
                        record,
                        event,
                        name,
                        value,
                        f"ignored by the mapping ({m.path} study.ignore)",
                    )
                )
                continue
            mapped = name in m.items or name in m.labs or name in m.dm.values()
            if not mapped:
                allowed = f"mapped in {m.path} or listed in study.ignore"
                reason = InvalidInput(f"REDCap column {name}", "mapping", value, allowed).message
                self.reject(record, event, name, value, reason)
                continue
            reason = self._dictionary(dictionary, name, value, checked)
            if reason is not None:
                self.reject(record, event, name, value, reason)
                continue
            spec = dictionary[name]
            if name in m.items:
                self._item(
                    record,
                    event,
                    usubjid,
                    visit,
                    name,
                    value,
                    checked,
                    spec,
                    by_name,
                    fields,
                    accepts,
                    dated,
                )
            elif name in m.labs:
                self._lab(record, event, usubjid, visit, name, value, dated)
            else:
                self._dm(record, event, name, value, checked, spec)

    @staticmethod
    def _dictionary(
        dictionary: AnyMapping[str, Field], name: str, value: str, checked: list[str] | None
    ) -> str | None:
        spec = dictionary.get(name)
        if spec is None:
            return None
        if checked is not None:
            if len(checked) > 1:
                return InvalidInput(
                    f"REDCap field {name}", "checkbox", value, "one checked option for one value"
                ).message
            return None
        return check_raw(spec, value)

    def _item(
        self,
        record: str,
        event: str,
        usubjid: str,
        visit: Any,
        name: str,
        value: str,
        checked: list[str] | None,
        spec: Field,
        by_name: AnyMapping[str, AnyMapping[str, Any]],
        fields: AnyMapping[tuple[str, str], AnyMapping[str, Any]],
        accepts: Accepts,
        dated: AnyMapping[str, str],
    ) -> None:
        m = self.mapping
        item = m.items[name]
        field = fields[(item.instrument, item.code)]
        raw = checked[0] if checked else value
        text = spec.choices[raw] if spec.coded and item.use == "label" else raw
        words = field.get("values") is not None and any(isinstance(v, str) for v in field["values"])
        answer: int | float | str | None = text if words else _as_number(text)
        if answer is None or not accepts(item.instrument, item.code, answer):
            reason = InvalidInput(
                item.instrument,
                f"{field['field']} ({item.code})",
                text if answer is None else answer,
                field["allowed"],
            ).message
            self.reject(record, event, name, value, reason)
            return
        date_field = m.qs_dates.get(item.instrument)
        qsdtc = dated.get(date_field) if date_field else None
        if qsdtc is None and self._undated(record, event, name, value, date_field):
            return
        entered = _entered(answer)
        self.qs.append(
            {
                "STUDYID": m.studyid,
                "DOMAIN": "QS",
                "USUBJID": usubjid,
                "QSTESTCD": item.code,
                "QSTEST": qstest(_Label(field["label"])),  # type: ignore[arg-type]
                "QSCAT": by_name[item.instrument]["qscat"],
                "QSORRES": entered,
                "QSSTRESC": entered,
                "QSSTRESN": None if isinstance(answer, str) else float(answer),
                "QSEVAL": m.evaluators.get(item.instrument),
                "VISITNUM": visit.visitnum,
                "VISIT": visit.visit,
                "QSDTC": qsdtc,
                "_from": self._where(record, event, name, value, ""),
            }
        )
        self.counts["QS"] += 1

    def _lab(
        self,
        record: str,
        event: str,
        usubjid: str,
        visit: Any,
        name: str,
        value: str,
        dated: AnyMapping[str, str],
    ) -> None:
        m = self.mapping
        lab = m.labs[name]
        number = _as_number(value)
        if number is None or number < 0:
            reason = InvalidInput(
                "LB", f"{lab.test} ({name})", value, "a number of at least 0"
            ).message
            self.reject(record, event, name, value, reason)
            return
        lbdtc = dated.get(lab.date_field) if lab.date_field else None
        if lbdtc is None and self._undated(record, event, name, value, lab.date_field):
            return
        self.lb.append(
            {
                "STUDYID": m.studyid,
                "DOMAIN": "LB",
                "USUBJID": usubjid,
                "LBTESTCD": lab.test,
                "LBSTRESN": float(number),
                "LBSTRESU": lab.unit,
                "VISITNUM": visit.visitnum,
                "LBDTC": lbdtc,
                "_from": self._where(record, event, name, value, ""),
            }
        )
        self.counts["LB"] += 1

    def _dm(
        self, record: str, event: str, name: str, value: str, checked: list[str] | None, spec: Field
    ) -> None:
        m = self.mapping
        var = next(v for v, f in m.dm.items() if f == name)
        column = DM[var]
        raw = checked[0] if checked else value
        term: Any
        reason = None
        if var in m.dm_codes:
            term = m.dm_codes[var].get(raw)
            if term is None:
                allowed = f"one of the codes in {m.path} dm.codes.{var}: " + ", ".join(
                    m.dm_codes[var]
                )
                reason = InvalidInput("DM", f"{var} ({name})", raw, allowed).message
        else:
            term = spec.choices[raw] if spec.coded else raw
        if reason is None:
            term, reason = _dm_value(column, var, name, term)
        if reason is None:
            earlier = self.dm.setdefault(record, {}).get(var)
            if earlier is not None and earlier[0] != term:
                reason = (
                    f"DM {var} ({name}) must be one value per record; got {value!r} in event "
                    f"{event!r} and {earlier[3]!r} in event {earlier[1]!r}"
                )
            elif earlier is not None:
                self.counts["DM"] += 1
                return
        if reason is not None:
            self.reject(record, event, name, value, reason)
            return
        self.dm[record][var] = (term, event, name, value)
        self.counts["DM"] += 1

    def finish(self) -> RedcapImport:
        m = self.mapping
        self.instance = ""
        rows = []
        for record in self.records:
            values = self.dm.get(record, {})
            row: dict[str, Any] = {
                "STUDYID": m.studyid,
                "DOMAIN": "DM",
                "USUBJID": m.usubjid_prefix + record,
            }
            if m.siteid is not None:
                row["SITEID"] = m.siteid
            row.update({var: v[0] for var, v in values.items()})
            missing = [var for var in ("SITEID", "SEX") if row.get(var) is None]
            if row.get("AGE") is None and row.get("BRTHDTC") is None:
                missing.append("AGE")
            if missing:
                var = missing[0]
                allowed = _dm_allowed(var)
                reason = InvalidInput(
                    f"DM of record {record!r}",
                    f"{var} ({m.dm.get(var, 'not mapped')})",
                    None,
                    allowed,
                ).message
                has_rows = any(r["USUBJID"] == row["USUBJID"] for r in self.qs + self.lb)
                if not values and not has_rows:
                    continue
                for _term, event, name, raw in values.values():
                    self.counts["DM"] -= 1
                    self.reject(record, event, name, raw, f"DM row not written: {reason}")
                if not values:
                    self.reject(record, "", m.dm.get(var, var), "", f"DM row not written: {reason}")
                continue
            rows.append(row)
        dm = frame_of(DM, rows)
        if "BRTHDTC" in dm.columns and dm["BRTHDTC"].null_count() == dm.height:
            dm = dm.drop("BRTHDTC")
        if "AGE" in dm.columns and dm["AGE"].null_count() == dm.height and "BRTHDTC" in dm.columns:
            dm = dm.drop("AGE")
        qs_rows = self._unique(self.qs, QS.keys, "QS")
        lb_rows = self._unique(self.lb, LB.keys, "LB")
        qs = frame_of(QS, _numbered(qs_rows, "QS"))
        lb = frame_of(LB, _numbered(lb_rows, "LB"))
        rejects = pl.DataFrame(self.rejects, schema=dict.fromkeys(REJECT_COLUMNS, pl.String))
        ignored = pl.DataFrame(self.ignored, schema=dict.fromkeys(REJECT_COLUMNS, pl.String))
        counts = {
            "QS": qs.height,
            "LB": lb.height,
            "DM": self.counts["DM"],
            "dates": self.counts["dates"],
            "ignored": ignored.height,
            "rejects": rejects.height
            - sum(1 for r in self.rejects if r["event"] == "" and r["value"] == ""),
        }
        return RedcapImport(dm, qs, lb, rejects, ignored, self.values_in, counts)

    def _unique(
        self, rows: list[dict[str, Any]], keys: Sequence[str], domain: str
    ) -> list[dict[str, Any]]:
        """The rows whose table keys no other row shares; every copy of a shared key goes to the
        rejects (two instances on one date: atopic does not choose)."""
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
        kept = []
        for key, copies in groups.items():
            if len(copies) == 1:
                kept.append({k: v for k, v in copies[0].items() if k != "_from"})
                continue
            named = ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True) if k != "STUDYID")
            where = "; ".join(
                f"event {c['_from']['event']!r}"
                + (f" instance {c['_from']['instance']!r}" if c["_from"]["instance"] else "")
                for c in copies
            )
            reason = (
                f"{domain} must hold one row per {', '.join(keys)}; got {len(copies)} for "
                f"{named} ({where}): every copy is rejected, atopic does not choose"
            )
            for c in copies:
                self.rejects.append({**c["_from"], "reason": reason})
        return kept


def _base(name: str) -> str:
    match = _CHECKBOX.fullmatch(name)
    return match.group(1) if match else name


def _dm_allowed(var: str) -> str:
    if var == "AGE":
        return "a value for AGE or BRTHDTC (DM needs one)"
    column = DM[var]
    if column.allowed:
        return "one of " + ", ".join(column.allowed)
    return "a value (DM requires it)"


def _dm_value(column: Any, var: str, name: str, term: Any) -> tuple[Any, str | None]:
    where = f"{var} ({name})"
    if column.dtype.is_numeric():
        number = _as_number(str(term))
        if number is None or number < 0:
            return None, InvalidInput("DM", where, term, "a number of at least 0").message
        return float(number), None
    if column.iso8601:
        iso = _iso(str(term))
        if iso is None:
            return None, InvalidInput("DM", where, term, ISO8601_ALLOWED).message
        return iso, None
    if column.allowed and term not in column.allowed:
        allowed = "one of " + ", ".join(column.allowed) + f" (translate codes with dm.codes.{var})"
        return None, InvalidInput("DM", where, term, allowed).message
    if column.max_length and len(term) > column.max_length:
        return None, InvalidInput(
            "DM", where, term, f"at most {column.max_length} characters"
        ).message
    return term, None


def _numbered(rows: list[dict[str, Any]], domain: str) -> list[dict[str, Any]]:
    counter: dict[str, int] = {}
    out = []
    for row in rows:
        counter[row["USUBJID"]] = counter.get(row["USUBJID"], 0) + 1
        out.append({**row, f"{domain}SEQ": counter[row["USUBJID"]]})
    return out
