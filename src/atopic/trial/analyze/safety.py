"""Safety summaries into the ARD: treatment-emergent adverse events by arm.

Conventions (decided once, here; ICH E3 section 12.2 and the FDA/PHUSE standard safety tables)
    * Population: SAFFL = "Y" subjects of ADSL, by actual treatment (TRT01A); N is the number of
      such subjects in the arm, so an arm with no event still shows 0/N.
    * Only TRTEMFL = "Y" events count. Incidence counts *subjects* (a subject with two headaches
      counts once under Headache and once under its SOC); ``events`` counts records.
    * Terms not yet coded (AEDECOD or AEBODSYS null) are counted under "Uncoded": never dropped.
    * AEs leading to withdrawal need AEACN (action taken, "DRUG WITHDRAWN") in ADAE or DCSREAS
      ("ADVERSE EVENT") in ADSL; when neither is collected (AEACN absent or empty on every
      event) the ARD row is null with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from atopic.trial.analyze.descriptive import TOTAL, require_columns
from atopic.trial.ard import ArdRow, rows

UNCODED = "Uncoded"
ANALYSIS_OVERVIEW = "AE-OVERVIEW"
ANALYSIS_SOC_PT = "AE-SOCPT"

CATEGORIES: dict[str, str] = {
    "ANY": "Any TEAE",
    "SER": "Serious TEAE",
    "REL": "Related TEAE",
    "SEVERE": "Severe TEAE",
    "WD": "TEAE leading to withdrawal",
}
"""Overview rows (PARAMCD) and their labels."""

_RELATED = ("RELATED", "PROBABLY RELATED", "POSSIBLY RELATED", "DEFINITELY RELATED", "Y")
"""AEREL terms counted as related (sponsor terminology; anything else, including null, is not)."""


def _safety_population(adsl: pl.DataFrame) -> pl.DataFrame:
    require_columns(adsl, "ADSL", ("USUBJID", "SAFFL", "TRT01A"))
    return adsl.filter(pl.col("SAFFL") == "Y").select("USUBJID", "TRT01A")


def _arms(population: pl.DataFrame, order: Sequence[str] | None) -> list[str]:
    present = population.get_column("TRT01A").drop_nulls().unique().to_list()
    ordered = [a for a in (order or ()) if a in present]
    return ordered + sorted(set(present) - set(ordered)) + [TOTAL]


def _teae(adsl: pl.DataFrame, adae: pl.DataFrame) -> pl.DataFrame:
    require_columns(adae, "ADAE", ("USUBJID", "TRTEMFL", "AEDECOD", "AEBODSYS"))
    population = _safety_population(adsl)
    return (
        adae.filter(pl.col("TRTEMFL") == "Y")
        .join(population, on="USUBJID", how="inner")
        .with_columns(
            pl.col("AEDECOD").fill_null(UNCODED),
            pl.col("AEBODSYS").fill_null(UNCODED),
        )
    )


def _count(events: pl.DataFrame, population: pl.DataFrame, arm: str) -> tuple[int, int, int]:
    if arm != TOTAL:
        events = events.filter(pl.col("TRT01A") == arm)
        population = population.filter(pl.col("TRT01A") == arm)
    return events.get_column("USUBJID").n_unique(), population.height, events.height


def teae_overview(
    adsl: pl.DataFrame, adae: pl.DataFrame, *, order: Sequence[str] | None = None
) -> list[ArdRow]:
    """Subjects with any, serious, related, severe TEAE and TEAE leading to withdrawal, per arm:
    n, N, rate (n/N) and events."""
    population = _safety_population(adsl)
    teae = _teae(adsl, adae)
    filters: dict[str, pl.Expr | None] = {
        "ANY": pl.lit(True),
        "SER": pl.col("AESER") == "Y" if "AESER" in teae.columns else None,
        "REL": pl.col("AEREL").is_in(_RELATED) if "AEREL" in teae.columns else None,
        "SEVERE": pl.col("AESEV") == "SEVERE" if "AESEV" in teae.columns else None,
        "WD": None,
    }
    if "AEACN" in adae.columns and adae.get_column("AEACN").null_count() < adae.height:
        filters["WD"] = pl.col("AEACN") == "DRUG WITHDRAWN"
    elif "DCSREAS" in adsl.columns:
        withdrew = adsl.filter(pl.col("DCSREAS") == "ADVERSE EVENT").get_column("USUBJID")
        filters["WD"] = pl.col("USUBJID").is_in(withdrew.to_list())
    out: list[ArdRow] = []
    for code, condition in filters.items():
        for arm in _arms(population, order):
            if condition is None:
                out += rows(
                    ANALYSIS_OVERVIEW,
                    {"n": None, "N": None, "rate": None, "events": None},
                    paramcd=code,
                    group=arm,
                    reason="not collected",
                )
                continue
            n, big_n, events = _count(teae.filter(condition), population, arm)
            stats = {"n": n, "N": big_n, "rate": n / big_n if big_n else None, "events": events}
            out += rows(
                ANALYSIS_OVERVIEW, stats, paramcd=code, group=arm, reason="no subjects in the arm"
            )
    return out


def teae_by_soc_pt(
    adsl: pl.DataFrame, adae: pl.DataFrame, *, order: Sequence[str] | None = None
) -> list[ArdRow]:
    """Subjects with a TEAE per system organ class (SUBGROUP "AEBODSYS") and per preferred term
    within it (SUBGROUP "AEDECOD", SUBGRPVAL ``"SOC / PT"``), per arm: n, N, rate, events."""
    population = _safety_population(adsl)
    teae = _teae(adsl, adae)
    out: list[ArdRow] = []
    socs = sorted(teae.get_column("AEBODSYS").unique().to_list())
    for soc in socs:
        in_soc = teae.filter(pl.col("AEBODSYS") == soc)
        terms = sorted(in_soc.get_column("AEDECOD").unique().to_list())
        for level, subset, subgroup in [
            (soc, in_soc, "AEBODSYS"),
            *((f"{soc} / {t}", in_soc.filter(pl.col("AEDECOD") == t), "AEDECOD") for t in terms),
        ]:
            for arm in _arms(population, order):
                n, big_n, events = _count(subset, population, arm)
                out += rows(
                    ANALYSIS_SOC_PT,
                    {"n": n, "N": big_n, "rate": n / big_n if big_n else None, "events": events},
                    paramcd="TEAE",
                    group=arm,
                    subgroup=subgroup,
                    subgrpval=level,
                    reason="no subjects in the arm",
                )
    return out
