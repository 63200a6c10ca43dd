"""``atopic export fhir`` and ``atopic import fhir`` through click's CliRunner: export a demo
subject as the pharmacist, import it into a fresh registry as the investigator with the
pharmacist for the doses, export again: the same Bundle but its timestamp."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from click.testing import CliRunner, Result
from sqlalchemy.orm import sessionmaker

from atopic.cli import main
from atopic.demo import DEMO_PASSWORDS

Fresh = Callable[[], tuple[Path, sessionmaker[Any]]]


def run(*args: str, user: str, pharmacist: bool = False) -> Result:
    env = {
        "ATOPIC_PASSWORD": DEMO_PASSWORDS[user],
        "ATOPIC_PHARMACIST_PASSWORD": DEMO_PASSWORDS["pharmacist"] if pharmacist else None,
        "ATOPIC_TOKEN": None,
        "ATOPIC_USER": None,
        "ATOPIC_DB": None,
    }
    return CliRunner().invoke(main, list(args), env=env)


def without_timestamp(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    del data["timestamp"]
    return data


def test_export_import_export_gives_the_same_bundle(
    demo_registry: Path,
    collected: dict[str, pl.DataFrame],
    fresh_registry: Fresh,
    tmp_path: Path,
) -> None:
    usubjid = collected["DM"]["USUBJID"][1]
    first = tmp_path / "first.json"
    out = run(
        "export", "fhir", "--db", str(demo_registry), "--as", "pharmacist",
        "--subject", usubjid, "--out", str(first), user="pharmacist",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert f"{usubjid}\t" in out.output
    fresh, _ = fresh_registry()
    out = run(
        "import", "fhir", "--db", str(fresh), "--as", "investigator",
        "--pharmacist", "pharmacist", str(first), user="investigator", pharmacist=True,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert f"{usubjid}\timported" in out.output
    second = tmp_path / "second.json"
    out = run(
        "export", "fhir", "--db", str(fresh), "--as", "pharmacist",
        "--subject", usubjid, "--out", str(second), user="pharmacist",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert without_timestamp(second) == without_timestamp(first)


def test_import_of_a_bad_bundle_prints_the_error_and_exits_1(
    demo_registry: Path, collected: dict[str, pl.DataFrame], fresh_registry: Fresh, tmp_path: Path
) -> None:
    usubjid = collected["DM"]["USUBJID"][0]
    path = tmp_path / "b.json"
    run(
        "export", "fhir", "--db", str(demo_registry), "--as", "pharmacist",
        "--subject", usubjid, "--out", str(path), user="pharmacist",
    )  # fmt: skip
    data = json.loads(path.read_text())
    response = next(
        e["resource"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    response["item"][0]["linkId"] = "NOPE"
    path.write_text(json.dumps(data))
    fresh, _ = fresh_registry()
    out = run(
        "import", "fhir", "--db", str(fresh), "--as", "investigator", str(path),
        user="investigator",
    )  # fmt: skip
    assert out.exit_code == 1
    assert "Error: QuestionnaireResponse/qr-1 item.0.linkId must be one of" in out.output
    assert "got 'NOPE'" in out.output


def test_blinded_export_says_so(
    demo_registry: Path, collected: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    path = tmp_path / "blinded.json"
    out = run(
        "export", "fhir", "--db", str(demo_registry), "--as", "statistician",
        "--subject", collected["DM"]["USUBJID"][0], "--out", str(path), user="statistician",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "blinded export" in out.output
    assert '"lotNumber"' not in path.read_text()
