"""The report's tables: ARD rows formatted into cells, laid out with great_tables.

Every cell is text composed from ARD values (``n (%)``, ``mean (SD)``, ``estimate (95 % CI)``),
so a table can only show what the ARD holds. Rounding is for display only and happens here:
percentages to 1 decimal, estimates to 2, p-values to 4 (``<0.0001`` below that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import great_tables as gt
import polars as pl

Cell = Callable[[dict[str, float | None]], str]
"""Formats one key's statistics (STAT -> VALUE) into a table cell."""


def fmt_number(value: float | None, decimals: int = 2) -> str:
    """A number with fixed decimals; an en dash for a missing value."""
    return "–" if value is None else f"{value:.{decimals}f}"


def fmt_p(value: float | None) -> str:
    """A p-value to 4 decimals, ``<0.0001`` below that."""
    if value is None:
        return "–"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def n_pct(s: dict[str, float | None]) -> str:
    """``n (xx.x%)`` from n and rate."""
    if s.get("n") is None:
        return "–"
    rate = s.get("rate")
    return f"{s['n']:.0f}" + ("" if rate is None else f" ({100 * rate:.1f}%)")


def n_over_n_ci(s: dict[str, float | None]) -> str:
    """``n/N (xx.x%) [lo, hi]`` with the CI in percent."""
    if s.get("n") is None or s.get("N") is None:
        return "–"
    text = f"{s['n']:.0f}/{s['N']:.0f}"
    if s.get("rate") is not None:
        text += f" ({100 * s['rate']:.1f}%)"
    if s.get("ci_lower") is not None and s.get("ci_upper") is not None:
        text += f" [{100 * s['ci_lower']:.1f}, {100 * s['ci_upper']:.1f}]"
    return text


def mean_sd(s: dict[str, float | None]) -> str:
    """``mean (SD)``."""
    if s.get("mean") is None:
        return "–"
    return f"{s['mean']:.1f} ({fmt_number(s.get('sd'), 1)})"


def median_range(s: dict[str, float | None]) -> str:
    """``median [min, max]``."""
    if s.get("median") is None:
        return "–"
    return f"{s['median']:.1f} [{fmt_number(s.get('min'), 1)}, {fmt_number(s.get('max'), 1)}]"


def estimate_ci(scale: float = 1.0, decimals: int = 2) -> Cell:
    """``estimate (lo, hi)``, each multiplied by ``scale`` (100 turns a risk difference into
    percentage points)."""

    def cell(s: dict[str, float | None]) -> str:
        est = s.get("estimate", s.get("lsmean"))
        if est is None:
            return "–"
        lo, hi = s.get("ci_lower"), s.get("ci_upper")
        text = f"{scale * est:.{decimals}f}"
        if lo is not None and hi is not None:
            text += f" ({scale * lo:.{decimals}f}, {scale * hi:.{decimals}f})"
        return text

    return cell


def lsmean_se(s: dict[str, float | None]) -> str:
    """``LS mean (SE)``."""
    est = s.get("lsmean", s.get("estimate"))
    if est is None:
        return "–"
    return f"{est:.2f} ({fmt_number(s.get('se'))})"


def p_value(s: dict[str, float | None]) -> str:
    """The p-value cell."""
    return fmt_p(s.get("p_value"))


def stats_by(ard: pl.DataFrame, keys: Sequence[str]) -> dict[tuple, dict[str, float | None]]:
    """ARD rows grouped by ``keys``: key tuple -> {STAT: VALUE}."""
    out: dict[tuple, dict[str, float | None]] = {}
    for row in ard.iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        out.setdefault(key, {})[row["STAT"]] = row["VALUE"]
    return out


def layout(
    body: pl.DataFrame,
    *,
    table_id: str,
    title: str,
    subtitle: str | None = None,
    stub: str | None = None,
    groupname: str | None = None,
    footnote: str | None = None,
) -> str:
    """Lay out a frame of text cells with great_tables; returns inline HTML."""
    table = gt.GT(body, rowname_col=stub, groupname_col=groupname, id=table_id).tab_header(
        title=title, subtitle=subtitle
    )
    if footnote:
        table = table.tab_source_note(footnote)
    table = table.tab_options(table_font_size="13px", table_width="100%")
    return table.as_raw_html(inline_css=False)


def arm_columns(
    ard: pl.DataFrame,
    *,
    row_keys: Sequence[str],
    row_label: Callable[[tuple], str],
    arms: Sequence[str],
    cell: Cell,
    group_label: Callable[[tuple], str] | None = None,
) -> pl.DataFrame:
    """A body frame with one row per ``row_keys`` value (in ARD order) and one column per arm."""
    grouped = stats_by(ard, (*row_keys, "GROUP"))
    seen: list[tuple] = []
    for key in grouped:
        if key[:-1] not in seen:
            seen.append(key[:-1])
    records = []
    for key in seen:
        record = {"": row_label(key)}
        if group_label is not None:
            record["_group"] = group_label(key)
        for arm in arms:
            record[arm] = cell(grouped.get((*key, arm), {}))
        records.append(record)
    columns = ["", *(["_group"] if group_label else []), *arms]
    return pl.DataFrame(records, schema=dict.fromkeys(columns, pl.String), orient="row")
