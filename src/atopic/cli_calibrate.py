"""``atopic simulate calibrate``: the QSP model against published trials, and a small fit.

``atopic simulate calibrate [--population NAME] [--n N] [--seed S] [--out DIR] [--fit]
[--name NAME] [--max-evaluations K]`` prints every target of ``atopic.simulate.targets`` beside
its simulated value and Monte Carlo 95 % interval (``atopic.simulate.calibration``), and the
statement of what one parameter set cannot reproduce. ``--fit`` fits care and the cell-therapy
mechanism (``calibration.FIT_PARAMETERS``) on the same virtual patients and prints the table again
for the fitted model. ``--out DIR`` writes ``calibration.csv`` (and ``calibration_fitted.csv``
and the fitted model ``NAME.json``, loadable with ``--population DIR/NAME.json``).
Importing this module registers the command on the ``simulate`` group.
"""

from __future__ import annotations

from pathlib import Path

import click

from atopic.cli_simulate import simulate
from atopic.errors import InvalidInput


def _show(table: object) -> str:
    import polars as pl

    assert isinstance(table, pl.DataFrame)
    lines = [
        f"{'target':<26} {'published':>10} {'(95 % CI)':>16} {'simulated':>10} {'MC 95 %':>16}"
    ]
    for r in table.iter_rows(named=True):
        lo, hi = r["published_low"], r["published_high"]
        if lo is not None and hi is not None:
            ci = f"{lo:.1f} to {hi:.1f}"
        elif lo is not None:
            ci = f"> {lo:g}"
        else:
            ci = ""
        published = f"> {lo:g}" if r["metric"].startswith("diff") else f"{r['published']:.1f}"
        if r["metric"].startswith("diff"):
            ci = ""
        mc = f"{r['mc_low']:.1f} to {r['mc_high']:.1f}"
        line = f"{r['target']:<26} {published:>10} {ci:>16} {r['simulated']:>10.1f} {mc:>16}"
        if r["note"]:
            line += f"  ({r['note']})"
        lines.append(line)
    return "\n".join(lines)


@simulate.command("calibrate")
@click.option(
    "--population",
    default="miyano2021",
    show_default=True,
    help="Population: miyano2021, a packaged name, or a .json/.toml file.",
)
@click.option("--n", "n", type=int, default=1000, show_default=True, help="Virtual patients.")
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of the patients.")
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Write CSV and the fit here."
)
@click.option("--fit", "do_fit", is_flag=True, help="Fit care and the MSC mechanism.")
@click.option("--name", default="msc_fit", show_default=True, help="Name of the fitted model file.")
@click.option(
    "--max-evaluations", type=int, default=150, show_default=True, help="Objective evaluations."
)
def calibrate(
    population: str,
    n: int,
    seed: int,
    out_dir: Path | None,
    do_fit: bool,
    name: str,
    max_evaluations: int,
) -> None:
    """Targets of published trials beside the simulated values; --fit fits and saves a model."""
    from atopic.simulate import calibration as cal
    from atopic.simulate.qsp import load_model, save_model

    try:
        model = load_model(population)
        pool = cal.virtual_pool(model, n, seed)
        click.echo(
            f"population {model.name}, care {model.care:g}; {pool.n} virtual patients enrolled "
            f"of {pool.screened.screened} screened (seed {seed})"
        )
        table = cal.calibration_table(pool, model)
        click.echo(_show(table))
        click.echo(f"objective {cal.objective(pool, model):.3f}")
        fitted = None
        if do_fit:
            with click.progressbar(length=max_evaluations, label="fitting") as bar:
                result = cal.fit(
                    pool,
                    model,
                    max_evaluations=max_evaluations,
                    progress=lambda i, v: bar.update(1),
                )
            values = ", ".join(f"{k} {v:.4g}" for k, v in result.values.items())
            click.echo(
                f"fit: objective {result.start:.3f} -> {result.end:.3f} in {result.evaluations} "
                f"evaluations; {values}"
            )
            fitted = cal.calibration_table(pool, result.model)
            click.echo(_show(fitted))
        click.echo("\n" + cal.CANNOT_REPRODUCE)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            table.write_csv(out_dir / "calibration.csv")
            if fitted is not None:
                fitted.write_csv(out_dir / "calibration_fitted.csv")
                path = save_model(
                    result.model,
                    out_dir / f"{name}.json",
                    description=(
                        f"fitted by atopic simulate calibrate (n {n}, seed {seed}, from "
                        f"{model.name}): {values}"
                    ),
                )
                click.echo(f"fitted model written to {path}")
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
