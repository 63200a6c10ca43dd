"""Allowed values of an instrument item, declared as data, checked the same way for one value and
for a column.

Exactness rests on integer *units*: every stepped item is stored as an integer count of its step
(EASI signs in half points, SCORAD visual analogue scales in tenths), so totals are computed with
integers and converted to a decimal once, at the end.

Decision (one place): a binary float is read as a multiple of the step when it lies within
``FLOAT_TOLERANCE`` x max(1, |bound|) units of one. This absorbs binary representation error only
(``0.1 + 0.2`` is read as 0.3, and a float 2.3 as 23 tenths); ``2.30001`` is refused. The
same formula, with the same IEEE arithmetic, is used for a scalar and for a column, so both paths
agree on every float.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import narwhals as nw

FLOAT_TOLERANCE = 2.0**-46
"""Relative tolerance, in units, for reading a binary float as a multiple of its step."""


def _fmt(units: int, scale: int) -> str:
    value = Decimal(units) / Decimal(scale)
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True)
class Steps:
    """Numbers on a grid of ``1/scale`` from ``lo/scale`` to ``hi/scale`` (bounds in units).

    ``excluded`` lists grid points that are not allowed (EASI's 0.5: unit 1 at scale 2).
    """

    scale: int
    lo: int
    hi: int
    excluded: frozenset[int] = field(default_factory=frozenset)

    @property
    def allowed_units(self) -> tuple[int, ...]:
        """Every allowed value, in units."""
        return tuple(u for u in range(self.lo, self.hi + 1) if u not in self.excluded)

    @property
    def allowed_values(self) -> tuple[Decimal, ...]:
        """Every allowed value, as exact decimals."""
        return tuple(Decimal(u) / Decimal(self.scale) for u in self.allowed_units)

    def describe(self) -> str:
        """What is allowed, in the words of the error message template."""
        units = self.allowed_units
        if len(units) <= 7 or self.excluded:
            return "one of " + ", ".join(_fmt(u, self.scale) for u in units)
        lo, hi = _fmt(self.lo, self.scale), _fmt(self.hi, self.scale)
        if self.scale == 1:
            return f"a whole number from {lo} to {hi}"
        return f"a number from {lo} to {hi} in steps of {_fmt(1, self.scale)}"

    @property
    def _tolerance(self) -> float:
        return FLOAT_TOLERANCE * max(1.0, abs(self.lo), abs(self.hi))

    def units(self, value: object) -> int | None:
        """The value in units, or None if not allowed (missing, bool, text, NaN, off-grid)."""
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            k = value * self.scale
        elif isinstance(value, float):
            if not math.isfinite(value):
                return None
            y = value * self.scale
            if not math.isfinite(y):  # e.g. 1.7e308 x 10 overflows: far out of range anyway
                return None
            k_float = math.floor(y + 0.5)
            if abs(y - k_float) > self._tolerance:
                return None
            k = int(k_float)
        elif isinstance(value, Decimal):
            if not value.is_finite():
                return None
            y = value * self.scale
            if y != y.to_integral_value():
                return None
            k = int(y)
        else:
            return None
        if k < self.lo or k > self.hi or k in self.excluded:
            return None
        return k

    def valid_expr(self, column: nw.Expr, dtype: nw.dtypes.DType) -> nw.Expr:
        """Boolean expression: the non-null value is allowed (null gives null)."""
        if not dtype.is_numeric():
            return nw.lit(False)
        excluded: list[int] | list[float] = sorted(self.excluded)
        if dtype.is_integer():
            k = column * self.scale
            ok = k.is_between(self.lo, self.hi)
        else:
            excluded = [float(u) for u in excluded]
            y = column.cast(nw.Float64) * self.scale
            k = (y + 0.5).floor()
            ok = ((y - k).abs() <= self._tolerance) & k.is_between(self.lo, self.hi)
            ok = ok & ~column.is_nan()
        if excluded:
            ok = ok & ~k.is_in(excluded)
        return ok

    def units_expr(self, column: nw.Expr, dtype: nw.dtypes.DType) -> nw.Expr:
        """Integer expression of the value in units; only meaningful where ``valid_expr`` holds."""
        if not dtype.is_numeric():
            return nw.lit(0, dtype=nw.Int64)
        if dtype.is_integer():
            return (column * self.scale).cast(nw.Int64)
        return (column.cast(nw.Float64) * self.scale + 0.5).floor()


@dataclass(frozen=True)
class Continuous:
    """Any finite number from ``lo`` to ``hi`` inclusive (age in years, % of a region)."""

    lo: float
    hi: float

    def describe(self) -> str:
        """What is allowed, in the words of the error message template."""
        return f"a number from {self.lo:g} to {self.hi:g}"

    def units(self, value: object) -> float | None:
        """The value as a float, or None when it is not allowed."""
        if isinstance(value, bool) or value is None:
            return None
        if not isinstance(value, int | float | Decimal):
            return None
        number = float(value)
        if not math.isfinite(number) or number < self.lo or number > self.hi:
            return None
        return number

    def valid_expr(self, column: nw.Expr, dtype: nw.dtypes.DType) -> nw.Expr:
        """Boolean expression: the non-null value is allowed (null gives null)."""
        if not dtype.is_numeric():
            return nw.lit(False)
        x = column.cast(nw.Float64)
        return x.is_between(self.lo, self.hi) & ~x.is_nan()

    def units_expr(self, column: nw.Expr, dtype: nw.dtypes.DType) -> nw.Expr:
        """Float expression of the value; only meaningful where ``valid_expr`` holds."""
        if not dtype.is_numeric():
            return nw.lit(0.0, dtype=nw.Float64)
        return column.cast(nw.Float64)


@dataclass(frozen=True)
class Labels:
    """Answers given as words (``"a lot"``, ``"not relevant"``), each worth a whole number of units.

    The words are stored as entered, so a distinction the total does not make (DLQI "not at all"
    and "not relevant" both score 0) is kept in the record. ``words`` pairs each allowed word
    with its units, in the order the form prints them; build it with ``labels({...})``.

    Decision (one place): a word must match exactly, case and spaces included (``"Not relevant"``
    and ``"a lot "`` are refused), so the scalar and the batch path agree on every string without
    depending on an engine's idea of lower case. In a table the column must hold text (String,
    or Categorical/Enum, read as their text); any other dtype makes every given value invalid.
    """

    words: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        names = [word for word, _ in self.words]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"Labels need distinct words; got {names!r}")
        for word, units in self.words:
            if not isinstance(word, str) or isinstance(units, bool) or not isinstance(units, int):
                raise ValueError(f"Labels map words to whole numbers; got {word!r}: {units!r}")

    @property
    def allowed_words(self) -> tuple[str, ...]:
        """Every allowed word, in the order the form prints them."""
        return tuple(word for word, _ in self.words)

    @property
    def mapping(self) -> dict[str, int]:
        """Each allowed word with its units."""
        return dict(self.words)

    def describe(self) -> str:
        """What is allowed, in the words of the error message template."""
        return "one of " + ", ".join(repr(word) for word in self.allowed_words)

    def units(self, value: object) -> int | None:
        """The units of an allowed word, or None (missing, not text, or not an allowed word)."""
        if not isinstance(value, str):
            return None
        return self.mapping.get(value)

    @staticmethod
    def _text(column: nw.Expr, dtype: nw.dtypes.DType) -> nw.Expr | None:
        if isinstance(dtype, nw.String):
            return column
        if isinstance(dtype, nw.Categorical | nw.Enum):
            return column.cast(nw.String)
        return None

    def valid_expr(self, column: nw.Expr, dtype: nw.dtypes.DType) -> nw.Expr:
        """Boolean expression: the non-null value is an allowed word (null gives null or False)."""
        text = self._text(column, dtype)
        if text is None:
            return nw.lit(False)
        return text.is_in(list(self.allowed_words))

    def units_expr(self, column: nw.Expr, dtype: nw.dtypes.DType) -> nw.Expr:
        """Integer expression of the word's units; only meaningful where ``valid_expr`` holds."""
        text = self._text(column, dtype)
        if text is None:
            return nw.lit(0, dtype=nw.Int64)
        result: nw.Expr = nw.lit(0, dtype=nw.Int64)
        for word, units in reversed(self.words):
            result = nw.when(text == word).then(nw.lit(units, dtype=nw.Int64)).otherwise(result)
        return result.cast(nw.Int64)


Domain = Steps | Continuous | Labels


def integers(lo: int, hi: int) -> Steps:
    """Whole numbers from ``lo`` to ``hi``."""
    return Steps(scale=1, lo=lo, hi=hi)


def labels(words: Mapping[str, int]) -> Labels:
    """Answers as words with their units, in the order given: ``labels({"yes": 3, "no": 0})``."""
    return Labels(words=tuple(words.items()))
