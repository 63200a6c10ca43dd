"""Registry -> Bundle -> fresh registry -> Bundle on demo subjects: the same Bundle (but its
timestamp) and the same collected tables (but the allocation, which a record does not carry)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from atopic.cli_import import score_items
from atopic.interop.fhir import bundle_tables, subject_bundle
from atopic.registry.db import transaction
from atopic.registry.export import ARM_COLUMNS
from atopic.registry.load import load_tables
from atopic.registry.models import AuditEntry

from .conftest import INVESTIGATOR, PHARMACIST, export_as

Fresh = Callable[[], tuple[Path, sessionmaker[Any]]]


def content(bundle: Any) -> dict[str, Any]:
    data = json.loads(bundle.model_dump_json(exclude_none=True))
    del data["timestamp"]
    return data


def subjects(collected: dict[str, pl.DataFrame]) -> list[str]:
    """Three demo subjects: one with an adverse event, the first and the last."""
    ids = collected["DM"]["USUBJID"].to_list()
    with_ae = collected["AE"]["USUBJID"][0]
    return sorted({with_ae, ids[0], ids[-1]})


def import_bundles(factory: sessionmaker[Any], bundles: list[Any], schemas: list[Any]) -> None:
    for bundle in bundles:
        record = bundle_tables(bundle.model_dump_json(exclude_none=True), schemas)
        with transaction(factory, INVESTIGATOR) as session:
            load_tables(
                session,
                INVESTIGATOR,
                record.tables,
                pharmacist=PHARMACIST,
                instruments=record.instruments,
                sources=record.sources,
            )


@pytest.fixture
def round_trip(
    collected: dict[str, pl.DataFrame], schemas: list[Any], fresh_registry: Fresh
) -> tuple[list[str], list[Any], dict[str, pl.DataFrame]]:
    ids = subjects(collected)
    first = [subject_bundle(collected, u, schemas, score_items) for u in ids]
    _, factory = fresh_registry()
    import_bundles(factory, first, schemas)
    return ids, first, export_as(factory, PHARMACIST)


def test_bundle_round_trip_is_lossless(
    round_trip: tuple[list[str], list[Any], dict[str, pl.DataFrame]], schemas: list[Any]
) -> None:
    ids, first, again = round_trip
    for usubjid, bundle in zip(ids, first, strict=True):
        second = subject_bundle(again, usubjid, schemas, score_items)
        assert content(second) == content(bundle)


def test_collected_tables_round_trip_unchanged(
    round_trip: tuple[list[str], list[Any], dict[str, pl.DataFrame]],
    collected: dict[str, pl.DataFrame],
) -> None:
    ids, _, again = round_trip
    for name, frame in collected.items():
        expected = frame.filter(pl.col("USUBJID").is_in(ids))
        got = again[name]
        if name == "DM":
            expected, got = expected.drop(ARM_COLUMNS), got.drop(ARM_COLUMNS)
        assert expected.height > 0
        assert_frame_equal(got, expected)


def test_import_is_audited_as_the_investigator_and_the_pharmacist(
    collected: dict[str, pl.DataFrame], schemas: list[Any], fresh_registry: Fresh
) -> None:
    usubjid = subjects(collected)[0]
    _, factory = fresh_registry()
    import_bundles(factory, [subject_bundle(collected, usubjid, schemas)], schemas)
    with factory() as session:
        who = {
            (e.table_name, e.username)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "insert"))
        }
    assert ("subject", "investigator") in who
    assert ("assessment", "investigator") in who
    assert ("dose", "pharmacist") in who
    assert ("dose", "investigator") not in who
