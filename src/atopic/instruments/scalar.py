"""The scalar path: validate and score one assessment with an instrument's declared formula."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from atopic.errors import Described, InvalidInput
from atopic.instruments.ops import SCALAR
from atopic.instruments.spec import Instrument, Score, band_units


def flatten(data: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Nested JSON objects to dotted fields.

    ``{"trunk": {"erythema": 2}}`` becomes ``{"trunk.erythema": 2}``.
    """
    flat: dict[str, object] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{path}."))
        else:
            flat[path] = value
    return flat


def list_parser(
    subject: str,
    count: int,
    each: str,
    extra: Mapping[str, str] | None = None,
) -> Callable[[Mapping[str, object]], dict[str, object]]:
    """A ``parse`` function for ``{"items": [...]}``: entry n (1-based) becomes field ``items.n``.

    ``each`` says what one entry may be (for the message); ``extra`` renames other JSON keys to
    fields (DLQI ``item_7a`` -> ``items.7a``). Other keys are flattened as given, so an unknown key
    gets the usual unknown-field message. ``items`` that is not a list of exactly ``count``
    entries is an ``InvalidInput`` naming ``items``.
    """
    renames = dict(extra or {})
    allowed = f"a list of exactly {count} answers ({each})"

    def parse(data: Mapping[str, object]) -> dict[str, object]:
        answers = data.get("items")
        if not isinstance(answers, list | tuple):
            raise InvalidInput(subject, "items", answers, allowed)
        if len(answers) != count:
            got = Described(f"a list of {len(answers)} answer{'s' if len(answers) != 1 else ''}")
            raise InvalidInput(subject, "items", got, allowed)
        flat: dict[str, object] = {f"items.{n}": a for n, a in enumerate(answers, start=1)}
        for key, value in data.items():
            if key == "items":
                continue
            for name, item_value in flatten({renames.get(key, key): value}).items():
                if name in flat:
                    raise InvalidInput(subject, name, item_value, "given once, inside items")
                flat[name] = item_value
        return flat

    return parse


def validate(instrument: Instrument, flat: Mapping[str, object]) -> tuple[dict, dict]:
    """Check every field of one assessment; return (values in units, presence) or raise.

    Raises ``InvalidInput`` for the first problem in declaration order: an unknown field, a missing
    required item, a value outside its domain, then any failed cross-item rule.
    """
    known = {item.field for item in instrument.items}
    for name, value in flat.items():
        if name not in known:
            raise InvalidInput(
                instrument.name,
                name,
                value,
                f"a known field (see `atopic score {instrument.name.lower()} --schema`)",
            )
    values: dict[str, Any] = {}
    present: dict[str, bool] = {}
    for item in instrument.items:
        raw = flat.get(item.field)
        if raw is None and item.optional:
            values[item.field], present[item.field] = 0, False
            continue
        units = item.domain.units(raw)
        if units is None:
            raise InvalidInput(instrument.name, item.field, raw, item.domain.describe())
        values[item.field], present[item.field] = units, True
    for rule in instrument.rules:
        if not rule.check(values, present, SCALAR):
            raise InvalidInput(instrument.name, rule.field, rule.got(flat), rule.allowed)
    return values, present


def score_fields(
    instrument: Instrument, flat: Mapping[str, object], band_set: str | None = None
) -> Score:
    """Score one assessment given as dotted fields (see ``flatten``)."""
    values, present = validate(instrument, flat)
    units = instrument.kernel(values, present, SCALAR)
    exact = {o.name: Decimal(units[o.name]) / Decimal(o.scale) for o in instrument.outputs}
    bands: dict[str, str] = {}
    chosen = None
    for banding in instrument.bandings:
        chosen = band_set or next(iter(banding.sets))
        if chosen not in banding.sets:
            raise InvalidInput(
                instrument.name, "band_set", chosen, "one of " + ", ".join(banding.sets)
            )
        scale = next(o.scale for o in instrument.outputs if o.name == banding.output)
        bands[banding.field] = band_units(
            units[banding.output], scale, banding.sets[chosen], SCALAR
        )
    parts: dict[str, Any] = {k: v for k, v in exact.items() if k != "total"}
    parts.update({k: v for k, v in bands.items() if k != "band"})
    return Score(
        instrument=instrument.name,
        version=instrument.version,
        total=exact["total"],
        band=bands.get("band"),
        parts=MappingProxyType(parts),
        band_set=chosen,
        note=instrument.note(flat) if instrument.note else "",
    )


def score(instrument: Instrument, data: Mapping[str, object], band_set: str | None = None) -> Score:
    """Score one assessment given as the documented JSON object (``--schema``)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(instrument.name, "input", data, "a JSON object")
    flat = instrument.parse(data) if instrument.parse else flatten(data)
    return score_fields(instrument, flat, band_set)
