"""The few operations an instrument's formula needs beyond ``+ - * //`` and comparisons.

Each formula is written once, as a function of its inputs and an ``ops`` object. Given plain
Python integers and ``SCALAR`` it scores one assessment; given Narwhals expressions and ``EXPR`` it
scores a whole table on any engine Narwhals drives. That is how the scalar and batch paths share one
definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import narwhals as nw


class ScalarOps:
    """Operations on plain Python values (one assessment)."""

    def where(self, condition: Any, then: Any, otherwise: Any) -> Any:
        """``then`` where ``condition`` holds, else ``otherwise``."""
        return then if condition else otherwise

    def as_int(self, condition: Any) -> Any:
        """1 where ``condition`` holds, else 0."""
        return 1 if condition else 0

    def all(self, conditions: Iterable[Any]) -> Any:
        """True where every condition holds."""
        return all(conditions)

    def total(self, terms: Iterable[Any]) -> Any:
        """The sum of the terms."""
        return sum(terms)

    def lit(self, value: Any) -> Any:
        """A constant."""
        return value


class ExprOps:
    """Operations on Narwhals expressions (a table)."""

    def where(self, condition: Any, then: Any, otherwise: Any) -> Any:
        """``then`` where ``condition`` holds, else ``otherwise``."""
        return nw.when(condition).then(_expr(then)).otherwise(_expr(otherwise))

    def as_int(self, condition: Any) -> Any:
        """1 where ``condition`` holds, else 0."""
        return nw.when(condition).then(nw.lit(1)).otherwise(nw.lit(0)).cast(nw.Int64)

    def all(self, conditions: Iterable[Any]) -> Any:
        """True where every condition holds."""
        items = [_expr(c) for c in conditions]
        return nw.all_horizontal(*items, ignore_nulls=False) if items else nw.lit(True)

    def total(self, terms: Iterable[Any]) -> Any:
        """The sum of the terms."""
        items: Sequence[Any] = list(terms)
        result = _expr(items[0])
        for term in items[1:]:
            result = result + term
        return result

    def lit(self, value: Any) -> Any:
        """A constant."""
        return nw.lit(value)


def _expr(value: Any) -> nw.Expr:
    return value if isinstance(value, nw.Expr) else nw.lit(value)


SCALAR = ScalarOps()
EXPR = ExprOps()


def exact_quotient(units: nw.Expr, scale: int) -> nw.Expr:
    """``units / scale`` as the Float64 nearest to the exact decimal (correctly rounded).

    Polars rewrites division by a literal as multiplication by its reciprocal, which is not
    correctly rounded (3 * 0.05 = 0.15000000000000002, while 3 / 20 = 0.15). Dividing by a
    non-literal float expression keeps a true IEEE division; ``x * 0.0`` cannot be folded away
    because of NaN and infinity. tests/instruments/test_ops.py proves the result on every engine.
    """
    numerator = units.cast(nw.Float64)
    return numerator / (numerator * 0.0 + float(scale))
