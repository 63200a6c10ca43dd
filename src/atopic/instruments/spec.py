"""An instrument declared as data: items, rules, formula, outputs and severity bands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from atopic.instruments.domains import Continuous, Domain, Steps

Values = Mapping[str, Any]
"""Item values in units (missing optional items are 0), keyed by field."""
Present = Mapping[str, Any]
"""Whether each item was given, keyed by field."""
Kernel = Callable[[Values, Present, Any], Mapping[str, Any]]
"""``kernel(values, present, ops) -> {output name: value in units}``."""


@dataclass(frozen=True)
class Item:
    """One entry on the form.

    ``field`` is its dotted path in the JSON input (``"trunk.erythema"``); ``code`` is the SDTM
    QSTESTCD (at most 8 characters) and the column name in a wide assessment table; ``label`` is
    what a clinician reads. ``optional`` items may be absent; the instrument's rules say when.
    ``context`` items (age) are not questionnaire items: they come from DM, column ``code``.
    """

    field: str
    code: str
    label: str
    domain: Domain
    unit: str = ""
    optional: bool = False
    context: bool = False

    def __post_init__(self) -> None:
        if len(self.code) > 8:
            raise ValueError(f"QSTESTCD {self.code!r} is longer than 8 characters")


@dataclass(frozen=True)
class Rule:
    """A check across items. ``check(values, present, ops)`` holds when the input is acceptable;
    otherwise the message is ``{instrument} {field} must be {allowed}; got {got(raw)}``."""

    field: str
    allowed: str
    check: Callable[[Values, Present, Any], Any]
    got: Callable[[Mapping[str, object]], object]


@dataclass(frozen=True)
class Output:
    """A result of the formula: exact value = units / scale."""

    name: str
    scale: int
    label: str


@dataclass(frozen=True)
class Cut:
    """A band starts at ``lower`` (inclusive, or exclusive when ``inclusive`` is False)."""

    lower: Decimal
    label: str
    inclusive: bool = True


@dataclass(frozen=True)
class BandSet:
    """Severity bands, ascending. ``decimals``: round half up to this many decimals before banding
    (None: band the exact value)."""

    name: str
    source: str
    cuts: tuple[Cut, ...]
    decimals: int | None = None

    def labels(self) -> tuple[str, ...]:
        """The band labels, from least to most severe."""
        return tuple(c.label for c in self.cuts)


@dataclass(frozen=True)
class Banding:
    """Which output is banded, into which result field, with which band sets (first: default)."""

    output: str
    field: str
    sets: Mapping[str, BandSet]


@dataclass(frozen=True)
class Instrument:
    """Everything atopic knows about one outcome measure."""

    name: str
    qscat: str
    title: str
    version: str
    source: str
    items: tuple[Item, ...]
    outputs: tuple[Output, ...]
    kernel: Kernel
    rules: tuple[Rule, ...] = ()
    bandings: tuple[Banding, ...] = ()
    parse: Callable[[Mapping[str, object]], dict[str, object]] | None = None
    describe_input: str = ""
    note: Callable[[Mapping[str, object]], str] | None = None
    _by_field: Mapping[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_field = {item.field: item for item in self.items}
        codes = [item.code for item in self.items]
        if len(by_field) != len(self.items) or len(set(codes)) != len(codes):
            raise ValueError(f"{self.name}: duplicate item field or code")
        object.__setattr__(self, "_by_field", MappingProxyType(by_field))

    def item(self, field_name: str) -> Item:
        """The item declared for a field."""
        return self._by_field[field_name]

    @property
    def band_set_names(self) -> tuple[str, ...]:
        """Names of the band sets offered (the first is the default)."""
        if not self.bandings:
            return ()
        return tuple(self.bandings[0].sets)

    def schema(self) -> dict[str, Any]:
        """A JSON-ready description of every field: label, code, allowed values, unit."""
        fields = []
        for item in self.items:
            entry: dict[str, Any] = {
                "field": item.field,
                "code": item.code,
                "label": item.label,
                "allowed": item.domain.describe(),
                "required": not item.optional,
            }
            if isinstance(item.domain, Steps):
                entry["values"] = (
                    [float(v) if v % 1 else int(v) for v in item.domain.allowed_values]
                    if len(item.domain.allowed_units) <= 11
                    else None
                )
                if entry["values"] is None:
                    del entry["values"]
            elif isinstance(item.domain, Continuous):
                entry["minimum"], entry["maximum"] = item.domain.lo, item.domain.hi
            else:
                entry["values"] = list(item.domain.allowed_words)
            if item.unit:
                entry["unit"] = item.unit
            fields.append(entry)
        return {
            "instrument": self.name,
            "title": self.title,
            "version": self.version,
            "source": self.source,
            "input": self.describe_input,
            "fields": fields,
            "rules": [f"{r.field} must be {r.allowed}" for r in self.rules],
            "outputs": [{"name": o.name, "label": o.label} for o in self.outputs],
            "bands": {
                b.field: {
                    name: {"source": s.source, "labels": list(s.labels())}
                    for name, s in b.sets.items()
                }
                for b in self.bandings
            },
        }


def band_units(value_units: Any, scale: int, band_set: BandSet, ops: Any) -> Any:
    """The band label of a value given in units of ``1/scale``, on scalars or expressions.

    With ``decimals`` set, the value is first rounded half up to that many decimals (values are
    never negative): ``round(u / scale, d) = floor((2 u 10^d + scale) / (2 scale))``.
    """
    if band_set.decimals is None:
        banded, band_scale = value_units, scale
    else:
        band_scale = 10**band_set.decimals
        banded = (value_units * (2 * band_scale) + scale) // (2 * scale)
    label: Any = ops.lit(band_set.cuts[0].label)
    for cut in band_set.cuts[1:]:
        threshold = cut.lower * band_scale
        if threshold != threshold.to_integral_value():
            raise ValueError(f"band cut {cut.lower} is finer than the banded value")
        t = int(threshold)
        condition = banded >= t if cut.inclusive else banded > t
        label = ops.where(condition, cut.label, label)
    return label


@dataclass(frozen=True)
class Score:
    """The result of scoring one assessment: exact total, its parts, and severity band(s).

    Parts are reachable as attributes (``score.objective``); numbers are exact ``Decimal``.
    """

    instrument: str
    version: str
    total: Decimal
    band: str | None
    parts: Mapping[str, Any]
    band_set: str | None = None
    note: str = ""

    def __getattr__(self, name: str) -> Any:
        parts = self.__dict__.get("parts", {})
        if name in parts:
            return parts[name]
        raise AttributeError(f"{self.instrument} score has no part {name!r}")

    def __repr__(self) -> str:
        band = f" {self.band}" if self.band else ""
        note = f" ({self.note})" if self.note else ""
        return f"<{self.instrument} {self.total}{band}{note}>"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers as JSON numbers (the float nearest the exact decimal)."""
        out: dict[str, Any] = {"instrument": self.instrument, "total": _json_number(self.total)}
        out["band"] = self.band
        for name, value in self.parts.items():
            out[name] = _json_number(value) if isinstance(value, Decimal) else value
        out["version"] = self.version
        return out


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
