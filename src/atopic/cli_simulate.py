"""``atopic simulate``: virtual trials of a design, with power, estimates and type I error.

``atopic simulate --design FILE --n-trials N --seed S --out DIR [--subjects N] [--sweep
"subjects=60,100,150" | "dose=10,25,50" | "followup=8,12" | "schedule=0,0+4,0+1+2"] [--null] [--engine local|spark] [--workers K] [--spark-master URL]``
runs ``atopic.simulate.trials.simulate_trials`` and writes results, summary, figures and
summary.html to DIR (``TrialResults.write``). ``simulate`` is a group so that other simulation
commands (e.g. a calibration) can be added beneath it.
"""

from __future__ import annotations

from pathlib import Path

import click

from atopic.errors import InvalidInput


@click.group(
    invoke_without_command=True,
    short_help="Virtual trials of a design: power, estimates, type I error.",
)
@click.option(
    "--design",
    "design_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The trial design (TOML), as for atopic analyze.",
)
@click.option("--n-trials", type=int, help="Virtual trials (replicates) per sweep point.")
@click.option("--seed", type=int, help="Master seed: the same seed gives the same results.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder.")
@click.option(
    "--subjects", type=int, default=None, help="Subjects per trial [default: planned_subjects]."
)
@click.option(
    "--sweep",
    default=None,
    help='Vary one thing: "subjects=60,100,150", "dose=10,25,50", "followup=8,12,16" or '
    '"schedule=0,0+4,0+1+2" (dosing weeks of the treated arm joined by +, points by commas).',
)
@click.option("--null", is_flag=True, help="No true effect (every arm as control): type I error.")
@click.option(
    "--endpoint",
    "endpoints",
    multiple=True,
    help="Endpoint id to simulate (repeatable) [default: every tested endpoint].",
)
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Two-sided alpha.")
@click.option(
    "--continuous",
    default="ancova",
    show_default=True,
    help="Test of continuous endpoints: ancova or mmrm.",
)
@click.option(
    "--generator", "generator_name", default="synth", show_default=True, help="Patient generator."
)
@click.option(
    "--population",
    default=None,
    help="QSP generator: population by name (miyano2021, furestem_fit) or a .json/.toml file "
    "[default: miyano2021].",
)
@click.option("--engine", default="local", show_default=True, help="local or spark.")
@click.option("--workers", type=int, default=1, show_default=True, help="Parallel processes.")
@click.option("--chunk", type=int, default=None, help="Replicates per chunk [default: auto].")
@click.option("--spark-master", default=None, help="Spark master URL [default: local[WORKERS]].")
@click.option("--no-figures", is_flag=True, help="Skip the figures (tables and HTML only).")
@click.pass_context
def simulate(
    ctx: click.Context,
    design_file: Path | None,
    n_trials: int | None,
    seed: int | None,
    out_dir: Path | None,
    subjects: int | None,
    sweep: str | None,
    null: bool,
    endpoints: tuple[str, ...],
    alpha: float,
    continuous: str,
    generator_name: str,
    population: str | None,
    engine: str,
    workers: int,
    chunk: int | None,
    spark_master: str | None,
    no_figures: bool,
) -> None:
    """Run the design on N fresh virtual cohorts, analyse each with atopic.trial and write
    results.parquet/csv, summary.parquet/csv, figures (SVG, PNG) and summary.html to OUT."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [
        f"--{name}"
        for name, value in (
            ("design", design_file),
            ("n-trials", n_trials),
            ("seed", seed),
            ("out", out_dir),
        )
        if value is None
    ]
    if missing:
        raise click.UsageError("missing " + ", ".join(missing))
    from atopic.simulate.trials import GENERATORS, parse_sweep, simulate_trials

    try:
        if generator_name not in GENERATORS:
            raise InvalidInput(
                "simulate", "generator", generator_name, "one of " + ", ".join(GENERATORS)
            )
        if population is None:
            generator = GENERATORS[generator_name]()
        else:
            if generator_name != "qsp":
                raise InvalidInput(
                    "simulate", "population", population, "only with --generator qsp"
                )
            from atopic.simulate.qsp import QSPGenerator, load_model

            load_model(population)  # an unknown population is refused before any trial runs
            generator = QSPGenerator(population=population)
        name, values = parse_sweep(sweep) if sweep is not None else (None, (None,))
        points = len(values)
        if name == "schedule" and generator_name == "synth":
            click.echo(
                "note: the synth generator's efficacy follows the dose alone; a schedule changes "
                "its EX records, not its effect. Use --generator qsp to see the schedule's effect."
            )
        total = max(1, (n_trials or 0) * points)
        with click.progressbar(length=total, label="virtual trials", show_pos=True) as bar:
            run = simulate_trials(
                design_file,  # type: ignore[arg-type]
                n_trials=n_trials,  # type: ignore[arg-type]
                seed=seed,  # type: ignore[arg-type]
                subjects=subjects,
                generator=generator,
                sweep=sweep,
                null=null,
                endpoints=list(endpoints) or None,
                alpha=alpha,
                continuous=continuous,
                engine=engine,
                workers=workers,
                chunk=chunk,
                spark_master=spark_master,
                progress=bar.update,
            )
        paths = run.write(out_dir, figures=not no_figures)  # type: ignore[arg-type]
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    click.echo(
        f"{run.replicates} virtual trials in {run.elapsed:.1f} s "
        f"({run.replicates_per_second:.1f} trials/s, engine {engine}, {workers} worker(s))"
    )
    measure = run.summary.item(0, "MEASURE") if run.summary.height else "rate"
    for row in run.summary.iter_rows(named=True):
        if row["ROLE"] != "primary":
            continue
        where = "" if row["SWEEP"] is None else f"{row['SWEEP']}={row['SWEEPLABEL']}\t"
        click.echo(
            f"{where}{row['ENDPOINT']}\t{row['GROUP']}\t{measure} {row['RATE']:.3f} "
            f"({row['RATE_CI_LOWER']:.3f}-{row['RATE_CI_UPPER']:.3f})"
        )
    for name, path in paths.items():
        click.echo(f"{name}\t{path}")
