"""The one ``atopic`` command. Each subcommand is a thin call into a package."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from atopic import __version__
from atopic.errors import InvalidInput

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="atopic")
def main() -> None:
    """atopic: atopic dermatitis scoring, diagnosis and trial tools."""


def _read_documents(stream: TextIO) -> Iterator[tuple[int, Any]]:
    """One JSON object, or JSON lines: yields (line number, parsed value or the parse error)."""
    text = stream.read()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        yield 1, whole
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            yield number, InvalidInput("input", f"line {number}", line[:60], f"JSON ({error.msg})")


def _emit(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, allow_nan=False))


def _error_line(error: InvalidInput) -> dict[str, Any]:
    return {"error": error.to_dict()}


@main.command(short_help="Score an instrument: JSON in, one JSON line out per assessment.")
@click.argument("instrument")
@click.option(
    "--input", "input_file", type=click.File("r"), help="JSON object or JSON lines; - for stdin."
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Wide CSV, one row per assessment, columns named by item code.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --csv: scored rows (CSV or .parquet).",
)
@click.option(
    "--rejects",
    "rejects_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --csv: invalid rows with their reason (default: OUT.rejects.csv).",
)
@click.option("--bands", "band_set", default=None, help="Severity band set by name (see --schema).")
@click.option(
    "--schema", is_flag=True, help="Print the fields, codes and allowed values, then exit."
)
def score(
    instrument: str,
    input_file: TextIO | None,
    csv_file: Path | None,
    out_file: Path | None,
    rejects_file: Path | None,
    band_set: str | None,
    schema: bool,
) -> None:
    """Score INSTRUMENT (easi, scorad, oscorad, po-scorad, viga-ad, iga6, poem, pp-nrs,
    sleep-nrs, dlqi, cdlqi, idqol, adct). Invalid input gives {"error": {"field", "message"}} on
    its line and exit status 1."""
    from atopic.instruments import get_instrument
    from atopic.instruments.scalar import score as score_one

    try:
        spec = get_instrument(instrument)
    except InvalidInput as error:
        raise click.BadParameter(error.message, param_hint="INSTRUMENT") from None
    if schema:
        click.echo(json.dumps(spec.schema(), indent=2, ensure_ascii=False))
        return
    if csv_file is not None:
        if out_file is None:
            raise click.UsageError("--csv needs --out FILE for the scored rows")
        rejected = _score_csv(spec, csv_file, out_file, rejects_file, band_set)
        sys.exit(1 if rejected else 0)
    if input_file is None:
        raise click.UsageError("give --input FILE (or - for stdin), --csv FILE or --schema")
    failed = False
    for _, document in _read_documents(input_file):
        if isinstance(document, InvalidInput):
            _emit(_error_line(document))
            failed = True
            continue
        try:
            _emit(score_one(spec, document, band_set).to_dict())
        except InvalidInput as error:
            _emit(_error_line(error))
            failed = True
    sys.exit(1 if failed else 0)


def _score_csv(
    spec: Any, csv_file: Path, out_file: Path, rejects_file: Path | None, band_set: str | None
) -> int:
    """Score a wide CSV; write scored rows and rejects; return the number rejected."""
    import polars as pl

    from atopic.instruments import score_table

    table, unreadable = _read_wide_csv(spec, csv_file)
    try:
        result = score_table(spec, table, band_set)
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    rejects = pl.concat([unreadable, result.rejects], how="diagonal_relaxed").sort("row")
    scored = result.scored.drop("row")
    rejects_path = rejects_file or out_file.with_name(out_file.stem + ".rejects.csv")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    _write(scored, out_file)
    _write(rejects, rejects_path)
    click.echo(
        f"{spec.name}: scored {scored.height} rows -> {out_file}; "
        f"rejected {rejects.height} -> {rejects_path}",
        err=True,
    )
    return rejects.height


def _read_wide_csv(spec: Any, path: Path) -> tuple[Any, Any]:
    """Read a wide CSV as text, then type each numeric item column.

    A cell that is not a number stays in a rejects frame with the instrument's message, naming
    the text as entered; nothing is coerced to missing. Returns (typed table, unreadable rows).
    Every row carries ``row``, its 1-based number among the data lines.
    """
    import polars as pl

    from atopic.instruments.domains import Continuous, Steps
    from atopic.instruments.scalar import validate

    raw = pl.read_csv(path, infer_schema=False).with_row_index("row", offset=1)
    numeric = [
        item.code
        for item in spec.items
        if item.code in raw.columns and isinstance(item.domain, Steps | Continuous)
    ]
    typed = {}
    for code in numeric:
        text = pl.col(code).str.strip_chars()
        as_int = raw.select(text.cast(pl.Int64, strict=False)).to_series()
        as_float = raw.select(text.cast(pl.Float64, strict=False)).to_series()
        given = raw[code].is_not_null() & (raw[code].str.strip_chars() != "")
        typed[code] = as_int if (as_int.is_null() == ~given).all() else as_float
    parsed = raw.with_columns(
        pl.Series(code, series, dtype=series.dtype) for code, series in typed.items()
    )
    unreadable_mask = pl.Series([False] * raw.height)
    for code in numeric:
        given = raw[code].is_not_null() & (raw[code].str.strip_chars() != "")
        unreadable_mask = unreadable_mask | (given & parsed[code].is_null())
    bad_rows = raw.filter(unreadable_mask)
    reasons = []
    for raw_row, parsed_row in zip(
        bad_rows.iter_rows(named=True),
        parsed.filter(unreadable_mask).iter_rows(named=True),
        strict=True,
    ):
        flat = {}
        for item in spec.items:
            value = parsed_row.get(item.code)
            if value is None and raw_row.get(item.code) not in (None, ""):
                value = raw_row[item.code]
            flat[item.field] = value
        try:
            validate(spec, flat)
            reasons.append("unreadable row")
        except InvalidInput as error:
            reasons.append(error.message)
    unreadable = bad_rows.with_columns(pl.Series("reason", reasons, dtype=pl.String))
    return parsed.filter(~unreadable_mask), unreadable


def _write(frame: Any, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        frame.write_csv(path)


@main.command(short_help="Check diagnostic criteria: which were met and which missed.")
@click.option(
    "--input",
    "input_file",
    type=click.File("r"),
    required=True,
    help="JSON object or JSON lines; - for stdin.",
)
@click.option(
    "--criteria",
    default=None,
    help='hanifin_rajka, uk_working_party, chinese_adult or chinese_children (else each object\'s "criteria").',
)
def diagnose(input_file: TextIO, criteria: str | None) -> None:
    """Apply diagnostic criteria to each JSON object ({"criteria": ..., "age_years": ...,
    "features": {...}}) and print one JSON line each."""
    from atopic.diagnosis import diagnose as run

    failed = False
    for _, document in _read_documents(input_file):
        if isinstance(document, InvalidInput):
            _emit(_error_line(document))
            failed = True
            continue
        try:
            name = criteria or (document.get("criteria") if isinstance(document, dict) else None)
            if not isinstance(name, str):
                raise InvalidInput("atopic diagnose", "criteria", name, "a criteria name")
            _emit(run(name, document).to_dict())
        except InvalidInput as error:
            _emit(_error_line(error))
            failed = True
    sys.exit(1 if failed else 0)


@main.command(short_help="List the instruments with their source and version.")
def instruments() -> None:
    """List every instrument atopic scores."""
    from atopic.instruments import INSTRUMENTS

    for name, spec in INSTRUMENTS.items():
        bands = ", ".join(spec.band_set_names) or "no bands"
        click.echo(f"{name:<10} {spec.title} [{spec.version}; bands: {bands}]")


@main.command(short_help="Decide a responder criterion for a baseline and a value.")
@click.argument("criterion")
@click.option("--baseline", required=True, type=float)
@click.option("--value", required=True, type=float)
def responder(criterion: str, baseline: float, value: float) -> None:
    """Decide CRITERION (EASI-50, EASI-75, EASI-90, SCORAD-50, SCORAD-75, "IGA success",
    "IGA 0/1", PP-NRS4, ADCT5 ...) and print {"criterion", "responder"} as JSON."""
    from atopic.instruments.responders import RESPONDERS, is_responder

    if criterion not in RESPONDERS:
        raise click.BadParameter("one of " + ", ".join(RESPONDERS), param_hint="CRITERION")
    try:
        met = is_responder(RESPONDERS[criterion], baseline, value)
    except InvalidInput as error:
        _emit(_error_line(error))
        sys.exit(1)
    _emit({"criterion": criterion, "baseline": baseline, "value": value, "responder": met})


@main.command(short_help="Build the synthetic demo trial in a new database.")
@click.option(
    "--db",
    "url",
    default="atopic-demo.db",
    show_default=True,
    help="Where to build it (path or URL).",
)
@click.option("--seed", default=2026, show_default=True, help="Seed of the synthetic data.")
def demo(url: str, seed: int) -> None:
    """Build the demo trial (36 adults, placebo / low / high-dose MSC, 12 weeks) through the
    service layer, and print the demo users and their passwords."""
    from atopic.demo import build_demo

    try:
        summary = build_demo(url, seed)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"demo trial in {summary.url}: {summary.subjects} subjects, {summary.assessments} assessments"
    )
    click.echo("demo users (synthetic data only; never reuse these passwords):")
    for username, password in summary.users.items():
        click.echo(f"  {username:<13} {password}")


@main.command(short_help="Run the web app (pages and JSON API) on the registry.")
@click.option(
    "--db", "url", default=None, help="Registry database (default ./atopic.db; postgresql://...)."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--demo",
    is_flag=True,
    help="Create the database if needed, fill it with the demo trial, print the demo users.",
)
@click.option(
    "--get", "get_path", default=None, help="Answer one GET request in-process, print it and exit."
)
@click.option(
    "--as",
    "username",
    default=None,
    help="With --get: log in as this user (password in ATOPIC_PASSWORD).",
)
def serve(
    url: str | None, host: str, port: int, demo: bool, get_path: str | None, username: str | None
) -> None:
    """Serve the web app. Over plain HTTP the session cookie is marked Secure unless the host is
    a loopback address (for a demo on this machine); put a TLS proxy in front for real use."""
    import os

    if demo:
        url = url or "atopic-demo.db"
        _ensure_demo(url)
    from atopic.web.app import create_app

    loopback = host in ("127.0.0.1", "localhost", "::1")
    app = create_app(url, https_only=not loopback)
    if get_path is not None:
        from fastapi.testclient import TestClient

        with TestClient(app, base_url="http://127.0.0.1") as client:
            if username:
                page = client.get("/login")
                token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                client.post(
                    "/login",
                    data={
                        "username": username,
                        "password": os.environ.get("ATOPIC_PASSWORD", ""),
                        "csrf_token": token,
                    },
                )
            response = client.get(get_path, follow_redirects=False)
        click.echo(f"{response.status_code} {response.headers.get('content-type', '')}", err=True)
        click.echo(response.text)
        sys.exit(0 if response.status_code < 400 else 1)
    import uvicorn

    click.echo(f"atopic web app on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _ensure_demo(url: str) -> None:
    """Build the demo trial unless the database already holds it; print the demo users."""
    from atopic.demo import DEMO_PASSWORDS, build_demo

    try:
        summary = build_demo(url)
        click.echo(f"demo trial built in {summary.url}: {summary.subjects} subjects", err=True)
    except ValueError:
        click.echo(f"using the demo trial already in {url}", err=True)
    click.echo("demo users (synthetic data only; never reuse these passwords):", err=True)
    for username, password in DEMO_PASSWORDS.items():
        click.echo(f"  {username:<13} {password}", err=True)


from atopic.cli_derive import derive  # noqa: E402
from atopic.cli_export import export  # noqa: E402  (registered last: the registry's commands)
from atopic.cli_import import import_  # noqa: E402
from atopic.cli_registry import db, users  # noqa: E402
from atopic.cli_simulate import simulate  # noqa: E402
from atopic.cli_synth import synth  # noqa: E402
from atopic.cli_trial import analyze  # noqa: E402

main.add_command(db)
main.add_command(analyze)
main.add_command(derive)
main.add_command(users)
main.add_command(export)
main.add_command(synth)
main.add_command(simulate)
main.add_command(import_)
import atopic.cli_calibrate  # noqa: E402, F401  (registers `atopic simulate calibrate`)

if __name__ == "__main__":  # pragma: no cover
    main()
