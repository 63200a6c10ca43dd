"""QS item values drawn around the latent severity, always valid for their instrument.

Every value is drawn as a real number around a function of latent severity ``s`` (or itch) and
then snapped to the nearest value the instrument *declares* allowed (``Steps.allowed_units``), so
a value is valid by construction whatever the noise: EASI signs on {0, 1, 1.5, 2, 2.5, 3} (0.5 is
not allowed), EASI area scores 0-6, SCORAD extent and VAS in tenths, SCORAD signs 0-3, vIGA-AD
0-4, POEM 0-4, PP-NRS and sleep NRS 0-10. Values are returned in tenths (every item used here has
a step of 1, 0.5 or 0.1).

Item models (``s`` latent severity, ``i`` latent itch, both in [0, 1]; N(0, sd) noise)
    * EASI sign: ``3 s + N(0, 0.35)``. Area score from the % of the region involved,
      ``100 s a_r (1 + N(0, 0.1))`` with a subject factor ``a_r ~ U(0.4, 1.1)`` per region, by the
      EASI area bands (0; <10; <30; <50; <70; <90; >=90 %). A region with area score 0 has all
      signs 0. Area is given as the score (EASI1x6), not as a percent.
    * SCORAD extent per region: ``100 s b_r (1 + N(0, 0.1))``, ``b_r ~ U(0.2, 1.0)``; intensity
      signs ``3 s + N(0, 0.5)``; pruritus VAS ``10 i + N(0, 0.8)``; sleeplessness VAS
      ``9 i - 1.5 + N(0, 1)``.
    * vIGA-AD: the baseline grade as drawn (the stratum); later ``5 s - 0.5 + N(0, 0.3)``, so a
      grade g corresponds to s in [g/5, (g+1)/5).
    * POEM items: ``4.4 (s + i)/2 - 0.2 + c + N(0, 0.6)``, subject offset ``c ~ N(0, 0.3)``.
    * PP-NRS: ``11 i - 0.5 + N(0, 0.7)``; sleep NRS: ``9 i - 1.5 + N(0, 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from atopic.instruments import EASI, POEM, PP_NRS, SCORAD, SLEEP_NRS, VIGA_AD
from atopic.instruments.domains import Steps
from atopic.instruments.spec import Instrument, Item
from atopic.tables.wide import qstest

INVESTIGATOR = "INVESTIGATOR"
SUBJECT = "STUDY SUBJECT"
EASI_AREA_CUTS = np.asarray([10.0, 30.0, 50.0, 70.0, 90.0])
"""Lower bounds (%) of EASI area scores 2-6; any involvement above 0 is at least 1."""


@dataclass(frozen=True)
class ItemBlock:
    """The items of one instrument at every visit: ``values`` subjects x visits x items, tenths."""

    instrument: Instrument
    evaluator: str
    items: tuple[Item, ...]
    values: np.ndarray

    @property
    def codes(self) -> list[str]:
        """QSTESTCD of each item."""
        return [item.code for item in self.items]

    @property
    def tests(self) -> list[str]:
        """QSTEST of each item."""
        return [qstest(item) for item in self.items]


def snap(x: np.ndarray, item: Item) -> np.ndarray:
    """The nearest allowed value of ``item`` to each number of ``x``, in tenths (int16)."""
    domain = item.domain
    if not isinstance(domain, Steps) or 10 % domain.scale:
        raise ValueError(f"{item.code}: the simulator draws stepped items of step 1, 0.5 or 0.1")
    allowed = np.asarray(domain.allowed_units, dtype=float)
    y = x * domain.scale
    idx = np.clip(np.searchsorted(allowed, y), 1, len(allowed) - 1)
    low, high = allowed[idx - 1], allowed[idx]
    units = np.where(y - low <= high - y, low, high)
    return (units * (10 // domain.scale)).astype(np.int16)


def _items(instrument: Instrument, skip: str = "") -> tuple[Item, ...]:
    return tuple(
        i for i in instrument.items if not i.context and not (skip and i.field.endswith(skip))
    )


def _easi(rng: np.random.Generator, s: np.ndarray) -> ItemBlock:
    items = _items(EASI, skip="area_percent")
    n, v = s.shape
    regions = len(items) // 5
    factor = rng.uniform(0.4, 1.1, size=(n, 1, regions))
    percent = 100 * s[:, :, None] * factor * (1 + rng.normal(0, 0.1, size=(n, v, regions)))
    area = (percent > 0.05).astype(np.int16) + (percent[..., None] >= EASI_AREA_CUTS).sum(-1)
    signs = 3 * s[:, :, None, None] + rng.normal(0, 0.35, size=(n, v, regions, 4))
    out = np.empty((n, v, regions, 5), dtype=np.int16)
    for j in range(4):  # the four signs of every region at once
        out[..., j] = snap(signs[..., j], items[j]) * (area > 0)
    out[..., 4] = area.astype(np.int16) * 10
    return ItemBlock(EASI, INVESTIGATOR, items, out.reshape(n, v, regions * 5))


def _scorad(rng: np.random.Generator, s: np.ndarray, itch: np.ndarray) -> ItemBlock:
    items = _items(SCORAD, skip="extent_percent")
    by_kind = {
        "extent": [i for i in items if i.field.startswith("extent.")],
        "intensity": [i for i in items if i.field.startswith("intensity.")],
    }
    n, v = s.shape
    r, k = len(by_kind["extent"]), len(by_kind["intensity"])
    factor = rng.uniform(0.2, 1.0, size=(n, 1, r))
    extent = 100 * s[:, :, None] * factor * (1 + rng.normal(0, 0.1, size=(n, v, r)))
    intensity = 3 * s[:, :, None] + rng.normal(0, 0.5, size=(n, v, k))
    pruritus = 10 * itch + rng.normal(0, 0.8, size=(n, v))
    sleepless = 9 * itch - 1.5 + rng.normal(0, 1.0, size=(n, v))
    out = np.empty((n, v, len(items)), dtype=np.int16)
    drawn = {
        **{it.code: extent[..., j] for j, it in enumerate(by_kind["extent"])},
        **{it.code: intensity[..., j] for j, it in enumerate(by_kind["intensity"])},
        SCORAD.item("pruritus").code: pruritus,
        SCORAD.item("sleeplessness").code: sleepless,
    }
    for j, item in enumerate(items):
        out[..., j] = snap(drawn[item.code], item)
    return ItemBlock(SCORAD, INVESTIGATOR, items, out)


def _single(instrument: Instrument, evaluator: str, x: np.ndarray) -> ItemBlock:
    items = _items(instrument)
    return ItemBlock(instrument, evaluator, items, snap(x, items[0])[:, :, None])


def draw_items(
    rng: np.random.Generator, severity: np.ndarray, itch: np.ndarray, iga0: np.ndarray
) -> list[ItemBlock]:
    """Item values of EASI, SCORAD, vIGA-AD, POEM, PP-NRS and sleep NRS at every visit (module
    docstring); ``iga0`` is the baseline vIGA-AD grade, given at visit 0."""
    n, v = severity.shape
    iga = 5 * severity - 0.5 + rng.normal(0, 0.3, size=(n, v))
    iga[:, 0] = iga0
    poem_items = _items(POEM)
    offset = rng.normal(0, 0.3, size=(n, 1, 1))
    poem_raw = (
        4.4 * ((severity + itch) / 2)[:, :, None]
        - 0.2
        + offset
        + rng.normal(0, 0.6, size=(n, v, len(poem_items)))
    )
    poem = np.stack([snap(poem_raw[..., j], it) for j, it in enumerate(poem_items)], axis=-1)
    return [
        _easi(rng, severity),
        _scorad(rng, severity, itch),
        _single(VIGA_AD, INVESTIGATOR, iga),
        ItemBlock(POEM, SUBJECT, poem_items, poem),
        _single(PP_NRS, SUBJECT, 11 * itch - 0.5 + rng.normal(0, 0.7, size=(n, v))),
        _single(SLEEP_NRS, SUBJECT, 9 * itch - 1.5 + rng.normal(0, 1.0, size=(n, v))),
    ]
