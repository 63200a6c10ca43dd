"""The Spark engine (local[2]) gives exactly the results of the local engine for the same seed."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from atopic.simulate.trials import simulate_trials
from atopic.trial.design import load_design
from tests.simulate.test_trials import SMALL

# No skip: `make test` installs PySpark (dev extra) and a Java runtime (Makefile `java`).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
]


def test_spark_equals_local_for_the_same_seed() -> None:
    design = load_design(SMALL)
    args = {"n_trials": 6, "seed": 21, "subjects": 24}
    local = simulate_trials(design, **args)
    seen: list[int] = []
    spark = simulate_trials(
        design, **args, engine="spark", workers=2, chunk=2, progress=seen.append
    )
    assert_frame_equal(spark.results, local.results)
    assert_frame_equal(spark.summary, local.summary)
    assert sum(seen) == 6  # the progress callback is told every replicate, once
