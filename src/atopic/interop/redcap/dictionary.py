"""A REDCap data dictionary (the project's metadata CSV): fields, choices and validation.

Columns read (REDCap's standard export headers): ``Variable / Field Name``, ``Form Name``,
``Field Type``, ``Field Label``, ``Choices, Calculations, OR Slider Labels``, ``Text Validation
Type OR Show Slider Number``, ``Text Validation Min``, ``Text Validation Max``; other columns
(branching logic, notes ...) are ignored. Choices are written ``1, Male | 2, Female`` (code, then
label; the label may hold commas). ``check_raw`` checks a raw exported value against its field:
a radio/dropdown/checkbox/yesno/truefalse code must be a declared code, a text field with
``integer``, ``number*``, ``date_ymd`` or ``datetime_*ymd`` validation must parse, and within
the validation min/max when declared. Source: REDCap data dictionary and "Field Validation"
help (Vanderbilt, REDCap 13).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from atopic.errors import InvalidInput

NAME = "Variable / Field Name"
FORM = "Form Name"
TYPE = "Field Type"
LABEL = "Field Label"
CHOICES = "Choices, Calculations, OR Slider Labels"
VALIDATION = "Text Validation Type OR Show Slider Number"
MIN = "Text Validation Min"
MAX = "Text Validation Max"
COLUMNS: tuple[str, ...] = (NAME, FORM, TYPE, LABEL, CHOICES, VALIDATION, MIN, MAX)
"""The dictionary columns atopic reads (all required)."""

CODED: tuple[str, ...] = ("radio", "dropdown", "checkbox", "yesno", "truefalse")
"""Field types whose exported raw value is a choice code."""
FIELD_TYPES: tuple[str, ...] = (
    *CODED,
    "text",
    "notes",
    "calc",
    "slider",
    "descriptive",
    "file",
    "sql",
)
"""REDCap field types."""
_YESNO = {"1": "Yes", "0": "No"}
_TRUEFALSE = {"1": "True", "0": "False"}
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATETIME = _DATE + r" [0-9]{2}:[0-9]{2}(:[0-9]{2})?"


@dataclass(frozen=True)
class Field:
    """One REDCap field: name, form, type, label, ``choices`` (code -> label, for coded types),
    text ``validation`` type and its ``minimum``/``maximum`` (as written, or None)."""

    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)
    validation: str | None = None
    minimum: str | None = None
    maximum: str | None = None

    @property
    def coded(self) -> bool:
        """Whether the raw value is a choice code (radio, dropdown, checkbox, yesno, truefalse)."""
        return self.type in CODED

    def allowed(self) -> str:
        """What the dictionary allows, in the words of the error message template."""
        if self.coded:
            return "one of the codes " + ", ".join(
                f"{code} ({label})" for code, label in self.choices.items()
            )
        kind = self.validation or "text"
        if kind == "integer":
            words = "a whole number"
        elif kind.startswith("number"):
            words = "a number"
        elif kind.startswith("date_"):
            words = "a date YYYY-MM-DD"
        elif kind.startswith("datetime_"):
            words = "a date/time YYYY-MM-DD HH:MM"
        else:
            return "text"
        if self.minimum is not None and self.maximum is not None:
            return f"{words} from {self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f"{words} of at least {self.minimum}"
        if self.maximum is not None:
            return f"{words} of at most {self.maximum}"
        return words


def parse_choices(text: str | None, subject: str = "REDCap dictionary") -> dict[str, str]:
    """``"1, Male | 2, Female"`` as ``{"1": "Male", "2": "Female"}`` (REDCap choice syntax)."""
    out: dict[str, str] = {}
    if text is None or not text.strip():
        return out
    for part in text.split("|"):
        code, sep, label = part.partition(",")
        if not sep or not code.strip():
            raise InvalidInput(subject, CHOICES, part.strip(), "choices written 'code, label'")
        out[code.strip()] = label.strip()
    return out


def read_dictionary(path: str | Path) -> dict[str, Field]:
    """The fields of a REDCap data dictionary CSV, by variable name, in dictionary order."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("REDCap dictionary", "file", str(path), "an existing CSV file")
    raw = pl.read_csv(path, infer_schema=False)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InvalidInput(
            f"REDCap dictionary {path.name}", "column", missing[0], "present (REDCap's header)"
        )
    fields: dict[str, Field] = {}
    for n, row in enumerate(raw.iter_rows(named=True), 2):
        where = f"REDCap dictionary {path.name} line {n}"
        name = (row[NAME] or "").strip()
        kind = (row[TYPE] or "").strip()
        if not name:
            raise InvalidInput(where, NAME, row[NAME], "a field name")
        if name in fields:
            raise InvalidInput(where, NAME, name, "unique (defined once)")
        if kind not in FIELD_TYPES:
            raise InvalidInput(where, TYPE, kind, "one of " + ", ".join(FIELD_TYPES))
        choices = {}
        if kind in ("radio", "dropdown", "checkbox"):
            choices = parse_choices(row[CHOICES], where)
            if not choices:
                raise InvalidInput(where, CHOICES, row[CHOICES], f"the choices of a {kind} field")
        elif kind == "yesno":
            choices = dict(_YESNO)
        elif kind == "truefalse":
            choices = dict(_TRUEFALSE)
        fields[name] = Field(
            name=name,
            form=(row[FORM] or "").strip(),
            type=kind,
            label=(row[LABEL] or "").strip(),
            choices=choices,
            validation=_blank(row[VALIDATION]),
            minimum=_blank(row[MIN]),
            maximum=_blank(row[MAX]),
        )
    return fields


def _blank(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_raw(spec: Field, value: str) -> str | None:
    """The reason a raw exported value breaks its dictionary field, or None when it is allowed."""
    error = None
    if spec.coded:
        if value not in spec.choices:
            error = spec.allowed()
    else:
        kind = spec.validation or ""
        if kind == "integer" or kind.startswith("number"):
            number = _number(value)
            if number is None or (kind == "integer" and not re.fullmatch(r"[+-]?[0-9]+", value)):
                error = spec.allowed()
            else:
                lo = _number(spec.minimum) if spec.minimum else None
                hi = _number(spec.maximum) if spec.maximum else None
                if (lo is not None and number < lo) or (hi is not None and number > hi):
                    error = spec.allowed()
        elif kind.startswith("date_"):
            if not re.fullmatch(_DATE, value) or (
                (spec.minimum is not None and value < spec.minimum)
                or (spec.maximum is not None and value > spec.maximum)
            ):
                error = spec.allowed()
        elif kind.startswith("datetime_") and not re.fullmatch(_DATETIME, value):
            error = spec.allowed()
    if error is None:
        return None
    return InvalidInput(f"REDCap field {spec.name}", "value", value, error).message
