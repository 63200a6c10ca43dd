"""The atopic command: JSON in, one JSON line out per input, errors on their line, exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from atopic.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(*args: str, stdin: str | None = None) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines


def test_help_lists_every_subcommand_with_one_line() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    commands = result.output.split("Commands:")[1].strip().splitlines()
    names = [line.split()[0] for line in commands]
    assert names == sorted(main.commands)
    assert all(len(line.split(maxsplit=1)) == 2 for line in commands)


def test_python_dash_m_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "atopic", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "score" in done.stdout


def test_score_easi_example_file() -> None:
    code, lines = run("score", "easi", "--input", str(EXAMPLES / "easi.json"))
    assert code == 0
    assert lines[0]["total"] == 17
    assert lines[0]["band"] == "moderate"


def test_scorad_lines_keep_order_and_parts() -> None:
    code, lines = run("score", "scorad", "--input", str(EXAMPLES / "scorad.jsonl"))
    assert code == 0
    assert [line["total"] for line in lines] == [50.18, 52.86, 24]
    first = lines[0]
    assert (first["extent"], first["intensity"], first["subjective"], first["objective"]) == (
        18.9,
        10,
        11.4,
        38.78,
    )


def test_invalid_line_gives_error_on_its_line_and_exit_1() -> None:
    good = {"grade": 3}
    stdin = "\n".join(json.dumps(x) for x in (good, {"grade": 5}, good)) + "\n{not json\n"
    code, lines = run("score", "viga-ad", "--input", "-", stdin=stdin)
    assert code == 1
    assert lines[0]["total"] == 3
    assert lines[1] == {
        "error": {"field": "grade", "message": "vIGA-AD grade must be one of 0, 1, 2, 3, 4; got 5"}
    }
    assert lines[2]["total"] == 3
    assert lines[3]["error"]["field"] == "line 4"


def test_schema_lists_fields_and_codes() -> None:
    result = CliRunner().invoke(main, ["score", "easi", "--schema"])
    schema = json.loads(result.output)
    fields = {f["field"]: f for f in schema["fields"]}
    assert fields["trunk.erythema"]["values"] == [0, 1, 1.5, 2, 2.5, 3]
    assert fields["head_neck.erythema"]["code"] == "EASI101"


def test_unknown_instrument_is_refused() -> None:
    result = CliRunner().invoke(main, ["score", "nope", "--input", "-"], input="{}")
    assert result.exit_code == 2
    assert "atopic score instrument must be one of easi" in result.output


def test_csv_batch_writes_scored_rows_and_rejects(tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    result = CliRunner().invoke(
        main, ["score", "easi", "--csv", str(EXAMPLES / "easi_wide.csv"), "--out", str(out)]
    )
    assert result.exit_code == 1  # one row is invalid on purpose
    scored = pl.read_csv(out)
    rejects = pl.read_csv(tmp_path / "scored.rejects.csv")
    assert scored.height + rejects.height == pl.read_csv(EXAMPLES / "easi_wide.csv").height
    assert rejects["row"].to_list() == [4]
    assert rejects["reason"].to_list() == [
        "EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5"
    ]


def test_csv_text_in_a_number_column_is_rejected_as_entered(tmp_path: Path) -> None:
    source = pl.read_csv(EXAMPLES / "easi_wide.csv", infer_schema=False)
    source = source.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("two"))
        .otherwise(pl.col("EASI101"))
        .alias("EASI101")
    )
    path = tmp_path / "in.csv"
    source.write_csv(path)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["score", "easi", "--csv", str(path), "--out", str(out)])
    assert result.exit_code == 1
    rejects = pl.read_csv(tmp_path / "out.rejects.csv")
    assert rejects.filter(pl.col("row") == 2)["reason"].to_list() == [
        "EASI head_neck.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 'two'"
    ]
    assert pl.read_csv(out).height == source.height - 2


def test_diagnose_example_file() -> None:
    code, lines = run("diagnose", "--input", str(EXAMPLES / "diagnosis.jsonl"))
    assert code == 0
    assert [line["diagnosed"] for line in lines] == [True, True]
    assert lines[1]["rules"] == ["under-4 rules"]


def test_responder_command() -> None:
    code, lines = run("responder", "EASI-75", "--baseline", "20", "--value", "5")
    assert code == 0
    assert lines == [{"criterion": "EASI-75", "baseline": 20.0, "value": 5.0, "responder": True}]
    code, lines = run("responder", "EASI-75", "--baseline", "0", "--value", "5")
    assert code == 1
    assert lines[0]["error"]["field"] == "baseline"
