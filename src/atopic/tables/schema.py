"""Table declarations as data: each column's name, type, CDISC label and limits.

A ``Table`` is what the validator (``atopic.tables.validate``) checks a frame against and what
interop writes into define.xml. Declarations carry no behaviour beyond looking a column up by name.

Types are Narwhals dtypes. SDTM has two variable types, Char and Num; atopic declares character
variables as ``nw.String()``, counts and sequence numbers as ``nw.Int64()`` and other numbers as
``nw.Float64()``. SDTM ``--DTC`` variables are ISO 8601 *text* (``iso8601=True``, kept String so
partial dates such as ``"2024-05"`` survive); ADaM ``*DT`` variables are real dates (``nw.Date()``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import narwhals as nw

LABEL_MAX = 40
"""SAS transport (XPT v5) limit on a variable label, in characters."""
NAME_MAX = 8
"""SAS transport (XPT v5) limit on a variable name, in characters."""

Allowed = tuple[str, ...] | tuple[float, ...]


@dataclass(frozen=True)
class Column:
    """One variable of a table.

    ``name`` is the variable name (at most 8 characters). A *family* of numbered variables such as
    ADaM's ``CRIT1``, ``CRIT2`` ... is declared once with a placeholder name (``"CRITy"``) and
    ``family`` set to the regular expression the real names match in full (``r"CRIT[1-9][0-9]?"``).

    ``dtype`` is a Narwhals dtype instance; ``label`` the CDISC label (at most 40 characters);
    ``required`` means the column must be present and never null (an empty or blank string counts
    as null, as in SAS). ``allowed`` is the controlled terminology (None: free text or any number);
    ``max_length`` the longest allowed text in characters, where SDTM sets one (``--TESTCD`` 8,
    ``--TEST`` 40); ``iso8601`` marks ``--DTC`` text that must be an ISO 8601 date or date/time,
    possibly partial (``"2024"``, ``"2024-05"``, ``"2024-05-17T09:30"``).
    """

    name: str
    dtype: nw.dtypes.DType
    label: str
    required: bool = False
    allowed: Allowed | None = None
    max_length: int | None = None
    iso8601: bool = False
    family: str | None = None

    def matches(self, name: str) -> bool:
        """Whether a frame column called ``name`` is this column (or a member of its family)."""
        if self.family is None:
            return name == self.name
        return re.fullmatch(self.family, name) is not None

    def describe_dtype(self) -> str:
        """The type in the words of the error message template (``"numeric (Float64)"``)."""
        if self.dtype.is_integer():
            return f"whole numbers ({self.dtype})"
        if self.dtype.is_numeric():
            return f"numeric ({self.dtype})"
        if self.dtype == nw.String:
            return "text (String)" if not self.iso8601 else "ISO 8601 text (String)"
        return f"of type {self.dtype}"

    def accepts_dtype(self, dtype: nw.dtypes.DType) -> bool:
        """Whether a frame column of ``dtype`` can hold this variable.

        Float64 columns accept any numeric type (integers are exact floats); Int64 columns accept
        any integer type; String columns accept String, Categorical and Enum; others must match.
        """
        if self.dtype.is_integer():
            return dtype.is_integer()
        if self.dtype.is_numeric():
            return dtype.is_numeric()
        if self.dtype == nw.String:
            return dtype in (nw.String, nw.Categorical) or isinstance(dtype, nw.Enum)
        if self.dtype == nw.Datetime:
            return isinstance(dtype, nw.Datetime)
        return dtype == self.dtype


@dataclass(frozen=True)
class Table:
    """A table declaration: ``name`` (the SDTM domain or ADaM dataset name), ``label``, its
    ``columns`` in submission order, its natural ``keys`` (define.xml key variables: together
    they identify a row) and ``any_of``: groups of columns of which at least one must be present
    (DM has BRTHDTC or AGE).
    """

    name: str
    label: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]
    any_of: tuple[tuple[str, ...], ...] = ()
    _by_name: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column name")
        by_name = {c.name: c for c in self.columns}
        missing = [k for k in self.keys if k not in by_name]
        missing += [n for group in self.any_of for n in group if n not in by_name]
        if missing:
            raise ValueError(f"{self.name}: {missing[0]} is not a declared column")
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))

    @property
    def names(self) -> tuple[str, ...]:
        """The declared column names (family placeholders such as ``CRITy`` included)."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """The names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        """The declaration for a frame column called ``name``: an exact name first, then a family
        whose pattern matches (``CRIT3`` -> ``CRITy``); None when the table does not declare it."""
        exact = self._by_name.get(name)
        if exact is not None:
            return exact
        return next((c for c in self.columns if c.family and c.matches(name)), None)

    def __getitem__(self, name: str) -> Column:
        found = self.column(name)
        if found is None:
            raise KeyError(f"{self.name} declares no column {name!r}")
        return found

    def __repr__(self) -> str:
        return f"<Table {self.name} ({self.label}): {len(self.columns)} columns>"


def text(
    name: str,
    label: str,
    *,
    required: bool = False,
    allowed: tuple[str, ...] | None = None,
    max_length: int | None = None,
    family: str | None = None,
) -> Column:
    """A character variable."""
    return Column(
        name,
        nw.String(),
        label,
        required=required,
        allowed=allowed,
        max_length=max_length,
        family=family,
    )


def dtc(name: str, label: str, *, required: bool = False) -> Column:
    """An SDTM ``--DTC`` variable: ISO 8601 text, possibly a partial date."""
    return Column(name, nw.String(), label, required=required, iso8601=True)


def number(name: str, label: str, *, required: bool = False) -> Column:
    """A numeric variable (Float64; SDTM/ADaM ``Num``)."""
    return Column(name, nw.Float64(), label, required=required)


def integer(name: str, label: str, *, required: bool = False) -> Column:
    """A whole-number variable (Int64): sequence numbers, study days, grades (N)."""
    return Column(name, nw.Int64(), label, required=required)


def date(name: str, label: str, *, required: bool = False) -> Column:
    """An ADaM date (``*DT``), a real date rather than text."""
    return Column(name, nw.Date(), label, required=required)


YES_NO: tuple[str, ...] = ("Y", "N")
"""CDISC NY (C66742) as used for flags: SDTM AESER, ADaM population flags, CRITyFL."""
YES: tuple[str, ...] = ("Y",)
"""ADaM record-level flags (ABLFL, ANLzzFL, TRTEMFL, AOCCFL ...): "Y" or null."""
