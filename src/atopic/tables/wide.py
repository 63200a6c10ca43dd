"""Between QS rows (one per item answered) and a wide assessment table (one row per assessment,
one column per item code), which is what ``atopic.instruments.score_table`` scores.

An *assessment* is identified by the key columns of ``ASSESSMENT_KEYS`` that the table has
(USUBJID always; STUDYID, VISITNUM, VISIT, QSDTC and QSEVAL when present). One wide table holds
ONE instrument: the QS rows whose QSCAT is ``instrument.qscat``, one column per item code.

Numeric items (domains ``Steps`` and ``Continuous``) travel in QSSTRESN, as Float64; any other
domain (text answers such as DLQI's "not relevant") travels as text in QSORRES. Context items
(``Item.context``, such as AGE) are not QS rows: they come from DM (column ``Item.code``).

Both directions work lazily on Polars and DuckDB: the pivot is a ``when/then`` per item code and
a ``group_by`` of the assessment keys, not ``DataFrame.pivot`` (eager only in Narwhals). Only the
rejected QS rows are collected, to word their reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import narwhals as nw

from atopic.errors import Described, InvalidInput
from atopic.instruments.domains import Continuous, Steps
from atopic.instruments.spec import Instrument, Item
from atopic.tables.checkpoints import checkpoint

ASSESSMENT_KEYS: tuple[str, ...] = ("STUDYID", "USUBJID", "VISITNUM", "VISIT", "QSDTC", "QSEVAL")
"""The columns that identify one assessment, in the order they lead a wide table."""
QS_ORDER: tuple[str, ...] = (
    "STUDYID",
    "DOMAIN",
    "USUBJID",
    "QSSEQ",
    "QSTESTCD",
    "QSTEST",
    "QSCAT",
    "QSORRES",
    "QSSTRESC",
    "QSSTRESN",
    "QSEVAL",
    "VISITNUM",
    "VISIT",
    "QSDTC",
)
"""Column order of the QS rows ``wide_to_qs`` writes (SDTMIG order)."""
QSTEST_MAX = 40
"""SDTM limit on QSTEST, in characters."""

_REJECT = "__atopic_reject"
_COUNT = "__atopic_count"
_ONE = "__atopic_one"
_ORDER = "__atopic_order"


@dataclass(frozen=True)
class WideTable:
    """The result of ``qs_to_wide``.

    ``wide``: one row per assessment, same backend and laziness as the QS input. ``rejects``: the
    QS rows of this instrument that could not be placed, unchanged, plus ``reason`` (an eager
    frame; empty when every row was placed).
    """

    wide: Any
    rejects: Any


def is_numeric(item: Item) -> bool:
    """Whether an item's value is a number (QSSTRESN) rather than text (QSORRES)."""
    return isinstance(item.domain, Steps | Continuous)


def qstest(item: Item) -> str:
    """The QSTEST of an item: its label when it fits in 40 characters (the SDTM limit); otherwise
    the label without its parenthetical remarks, and if still too long, cut at the last word
    boundary within 40 characters, with trailing punctuation removed.

    A plain cut at 40 characters would give six EASI items the same QSTEST
    (``"Trunk (incl. genitals, axillae, groin): "`` is 40 characters), and SDTM needs QSTEST and
    QSTESTCD one to one. ``"Trunk (incl. genitals, axillae, groin): Erythema"`` becomes
    ``"Trunk: Erythema"``. The full label stays in the instrument declaration (and define.xml);
    a test checks that QSTEST stays unique within every QSCAT.
    """
    label = item.label
    if len(label) <= QSTEST_MAX:
        return label
    label = " ".join(re.sub(r"\([^)]*\)", " ", label).split()).replace(" :", ":")
    label = label.replace(" ,", ",")
    if len(label) <= QSTEST_MAX:
        return label
    cut = label[: QSTEST_MAX + 1]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut[:QSTEST_MAX]
    return cut.rstrip(" ,;:/-")


def qs_to_wide(qs: Any, instrument: Instrument, dm: Any = None) -> WideTable:
    """One row per assessment of ``instrument`` from item-level QS rows.

    ``qs`` is any frame Narwhals accepts with at least USUBJID, QSCAT, QSTESTCD and the value
    columns the instrument needs (QSSTRESN for numeric items, QSORRES for text items). Rows of
    other QSCATs are not this instrument's and are left out. Each of this instrument's rows
    fills the cell of its assessment and item code, or goes to ``rejects`` with a reason when
    its code is not an item of the instrument, names a context item (AGE comes from DM), appears
    more than once in one assessment (every copy is rejected: atopic does not choose), or carries
    no value. Values are not checked against the items' domains here: ``score_table`` does that.

    ``dm``, when given (same engine as ``qs``), supplies the context items (AGE, in years) joined
    by USUBJID; it must have one row per USUBJID.

    Columns of ``wide``: the assessment keys present in ``qs`` (``ASSESSMENT_KEYS`` order), then
    every non-context item code in declaration order (Float64 for numeric items, String for text
    items; null when not answered), then the context items when ``dm`` is given. Rows are sorted
    by the keys.
    """
    nf = nw.from_native(qs)
    eager = isinstance(nf, nw.DataFrame)
    lf = nf.lazy()
    schema = dict(lf.collect_schema())
    items = [item for item in instrument.items if not item.context]
    context = [item for item in instrument.items if item.context]
    needed = ["USUBJID", "QSCAT", "QSTESTCD"]
    if any(is_numeric(i) for i in items):
        needed.append("QSSTRESN")
    if any(not is_numeric(i) for i in items):
        needed.append("QSORRES")
    for name in needed:
        if name not in schema:
            raise InvalidInput(
                "QS",
                name,
                Described("no such column"),
                f"a column of the table (needed to read {instrument.name})",
            )
    keys = [k for k in ASSESSMENT_KEYS if k in schema]
    numeric = [i.code for i in items if is_numeric(i)]
    textual = [i.code for i in items if not is_numeric(i)]
    code = nw.col("QSTESTCD")

    no_value = nw.lit(False)
    if numeric:
        stresn = nw.col("QSSTRESN")
        missing_n = stresn.is_null()
        if schema["QSSTRESN"].is_float():
            missing_n = missing_n | stresn.is_nan().fill_null(True)
        no_value = no_value | (code.is_in(numeric) & missing_n)
    if textual:
        no_value = no_value | (code.is_in(textual) & nw.col("QSORRES").is_null())
    mine = (
        lf.filter(nw.col("QSCAT") == instrument.qscat)
        .with_columns(nw.lit(1).alias(_ONE))
        .with_columns(nw.col(_ONE).sum().over(*keys, "QSTESTCD").cast(nw.Int64).alias(_COUNT))
        .with_columns(
            (
                ~code.is_in(numeric + textual).fill_null(False)
                | (nw.col(_COUNT) > 1)
                | no_value.fill_null(True)
            ).alias(_REJECT)
        )
        .drop(_ONE)
    )
    # Read twice (the rejects are collected, the cells pivoted): computed once, so the window
    # over the item rows (a shuffle on Spark) and the scan of QS run once per instrument.
    mine = checkpoint(mine)

    cells = [
        nw.when(code == item.code)
        .then(
            nw.col("QSSTRESN").cast(nw.Float64)
            if is_numeric(item)
            else nw.col("QSORRES").cast(nw.String)
        )
        .alias(item.code)
        for item in items
    ]
    wide = (
        mine.filter(~nw.col(_REJECT))
        .with_columns(*cells)
        .group_by(*keys)
        .agg(*[nw.col(item.code).max() for item in items])
    )
    if dm is not None and context:
        wide = wide.join(_context(dm, context), on="USUBJID", how="left")
    ordered = [*keys, *[i.code for i in items]]
    if dm is not None:
        ordered += [i.code for i in context]
    wide = wide.select(*ordered).sort(*keys)

    bad = mine.filter(nw.col(_REJECT)).collect().sort(*keys, "QSTESTCD")
    reasons = [
        _reason(instrument, row, keys, numeric, textual) for row in bad.iter_rows(named=True)
    ]
    rejects = bad.drop(_REJECT, _COUNT).with_columns(
        nw.new_series("reason", reasons, nw.String(), backend=bad.implementation)
    )
    return WideTable(
        wide=wide.collect().to_native() if eager else wide.to_native(),
        rejects=rejects.to_native(),
    )


def wide_to_qs(wide: Any, instrument: Instrument, *, studyid: str | None = None) -> Any:
    """Item-level QS rows from a wide assessment table of ``instrument``: one row per non-null
    item value, in the same backend and laziness as ``wide``.

    ``wide`` has USUBJID, optionally the other ``ASSESSMENT_KEYS``, and a column per item code
    (not all items need a column). Other columns (scores, context items such as AGE, which belong
    in DM) are not written. ``studyid`` sets STUDYID when ``wide`` has no STUDYID column; one of
    the two is needed, as STUDYID is required in QS.

    Each row gets DOMAIN "QS", QSCAT ``instrument.qscat``, QSTESTCD the item code, QSTEST the
    item label cut to 40 characters (``qstest``), QSORRES the value as text as entered (1.5 ->
    "1.5", 2 and 2.0 -> "2"), QSSTRESC the same text, QSSTRESN the number (numeric items; null for
    text items), and QSSEQ numbering the subject's rows by VISITNUM, QSDTC, QSEVAL and item
    order. A NaN cell counts as not answered (pandas writes missing numbers as NaN).
    """
    nf = nw.from_native(wide)
    eager = isinstance(nf, nw.DataFrame)
    lf = nf.lazy()
    schema = dict(lf.collect_schema())
    subject = f"{instrument.name} wide table"
    if "USUBJID" not in schema:
        raise InvalidInput(subject, "USUBJID", Described("no such column"), "a column")
    if studyid is not None and "STUDYID" in schema:
        raise InvalidInput(
            "wide_to_qs", "studyid", studyid, "omitted when the table has a STUDYID column"
        )
    if studyid is None and "STUDYID" not in schema:
        raise InvalidInput(
            "wide_to_qs", "studyid", None, "a study identifier when the table has no STUDYID"
        )
    items = [i for i in instrument.items if not i.context and i.code in schema]
    if not items:
        codes = [i.code for i in instrument.items if not i.context]
        raise InvalidInput(
            subject,
            "columns",
            Described("none of its item codes"),
            f"at least one item code column ({codes[0]} ...)",
        )
    keys = [k for k in ASSESSMENT_KEYS if k in schema and k != "STUDYID"]
    study = nw.col("STUDYID") if studyid is None else nw.lit(studyid, dtype=nw.String())
    parts = []
    for order, item in enumerate(items):
        dtype = schema[item.code]
        if is_numeric(item) and not dtype.is_numeric():
            raise InvalidInput(subject, item.code, Described(str(dtype)), "a numeric column")
        col = nw.col(item.code)
        given = ~col.is_null()
        if dtype.is_float():
            given = given & ~col.is_nan().fill_null(True)
        if is_numeric(item):
            text, value = _as_entered(col, dtype), col.cast(nw.Float64)
        else:
            text, value = col.cast(nw.String), nw.lit(None, dtype=nw.Float64())
        parts.append(
            lf.filter(given).select(
                study.alias("STUDYID"),
                nw.lit("QS", dtype=nw.String()).alias("DOMAIN"),
                *keys,
                nw.lit(item.code, dtype=nw.String()).alias("QSTESTCD"),
                nw.lit(qstest(item), dtype=nw.String()).alias("QSTEST"),
                nw.lit(instrument.qscat, dtype=nw.String()).alias("QSCAT"),
                text.alias("QSORRES"),
                text.alias("QSSTRESC"),
                value.alias("QSSTRESN"),
                nw.lit(order, dtype=nw.Int64()).alias(_ORDER),
            )
        )
    rows = nw.concat(parts, how="vertical")
    seq_order = [k for k in ("VISITNUM", "QSDTC", "QSEVAL") if k in keys] + [_ORDER]
    rows = rows.with_columns(nw.lit(1).alias("QSSEQ")).with_columns(
        nw.col("QSSEQ").cum_sum().over("USUBJID", order_by=seq_order).cast(nw.Int64)
    )
    made = {"STUDYID", "DOMAIN", *keys, "QSSEQ", "QSTESTCD", "QSTEST", "QSCAT"}
    made |= {"QSORRES", "QSSTRESC", "QSSTRESN"}
    columns = [c for c in QS_ORDER if c in made]
    rows = rows.select(*columns).sort("USUBJID", "QSSEQ")
    return rows.collect().to_native() if eager else rows.to_native()


def _as_entered(col: nw.Expr, dtype: nw.dtypes.DType) -> nw.Expr:
    """A number as text the way it is written: whole numbers without a decimal point."""
    if dtype.is_integer():
        return col.cast(nw.String)
    x = col.cast(nw.Float64)
    whole = ((x == x.floor()) & (x.abs() < 1e15)).fill_null(False)
    # Only whole numbers of safe size reach the integer cast; the rest read 0 there.
    as_int = nw.when(whole).then(x).otherwise(nw.lit(0.0)).cast(nw.Int64).cast(nw.String)
    return nw.when(whole).then(as_int).otherwise(x.cast(nw.String))


def _context(dm: Any, context: list[Item]) -> Any:
    """DM's context columns (AGE ...) by USUBJID, refusing a DM with a subject twice."""
    frame = nw.from_native(dm).lazy()
    names = frame.collect_schema().names()
    for name in ["USUBJID", *[item.code for item in context]]:
        if name not in names:
            raise InvalidInput(
                "DM", name, Described("no such column"), "a column (context of the instrument)"
            )
    twice = (
        frame.group_by("USUBJID").agg(nw.len().alias(_COUNT)).filter(nw.col(_COUNT) > 1).collect()
    )
    if len(twice):
        raise InvalidInput(
            "DM", "USUBJID", twice.item(0, "USUBJID"), "unique (one row per subject)"
        )
    return frame.select("USUBJID", *[nw.col(item.code) for item in context])


def _reason(
    instrument: Instrument,
    row: dict[str, Any],
    keys: list[str],
    numeric: list[str],
    textual: list[str],
) -> str:
    code = row["QSTESTCD"]
    if code not in numeric and code not in textual:
        if any(item.context and item.code == code for item in instrument.items):
            error = InvalidInput(
                instrument.name,
                code,
                Described("a QS row"),
                f"taken from DM column {code}, not from QS",
            )
        else:
            error = InvalidInput(
                instrument.name, "QSTESTCD", code, _describe_codes(instrument, numeric + textual)
            )
    elif row[_COUNT] > 1:
        error = InvalidInput(
            instrument.name,
            code,
            Described(f"{row[_COUNT]} rows for one assessment"),
            f"given once per assessment (same {', '.join(keys)})",
        )
    elif code in numeric:
        error = InvalidInput(instrument.name, code, row.get("QSSTRESN"), "a number in QSSTRESN")
    else:
        error = InvalidInput(instrument.name, code, None, "an answer in QSORRES")
    return error.message


def _describe_codes(instrument: Instrument, codes: list[str]) -> str:
    if len(codes) <= 6:
        return "one of " + ", ".join(codes)
    return f"one of the {len(codes)} item codes of {instrument.name} ({codes[0]} ... {codes[-1]})"
