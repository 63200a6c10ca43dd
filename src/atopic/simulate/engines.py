"""Where virtual-trial chunks run: in this process, in local worker processes, or on Spark.

A *task* is a picklable description of a chunk of replicates; ``fn(task)`` returns a Polars frame
that depends on the task alone. Every engine returns the frames in task order, so results never
depend on the engine, the number of workers or the order in which chunks finish.

Engines
    ``local``  ``workers = 1``: one task after the other in this process. ``workers > 1``:
               ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method (Polars
               and BLAS thread pools are not fork-safe), one task at a time per process.
    ``spark``  PySpark (optional extra ``atopic[spark]``): a DataFrame of task ids
               (``spark.range(n, numPartitions=n)``), ``rdd.mapPartitions`` runs ``fn`` on each id
               in an executor and returns the frame as Arrow IPC bytes. ``master`` is a Spark
               master URL (default ``local[workers]``); executors need atopic installed.

Seeds
    ``replicate_seeds(seed, n)``: ``numpy.random.SeedSequence(seed).spawn(n)``, each child
    turned into one integer in [0, 2^63) by ``generate_state``. Replicate i always gets the same
    seed, however the replicates are chunked or distributed.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any, TypeVar

import numpy as np
import polars as pl

from atopic.errors import Described, InvalidInput

SUBJECT = "simulate"
ENGINES: tuple[str, ...] = ("local", "spark")
MAX_WORKERS = 1024
T = TypeVar("T")
Progress = Callable[[int], None]
"""Called with the weight (e.g. replicates) of the tasks that have just finished."""


def replicate_seeds(seed: int, n: int) -> tuple[int, ...]:
    """One seed in [0, 2^63) per replicate, spawned from ``seed`` (NumPy ``SeedSequence.spawn``:
    statistically independent streams; O'Neill, PCG 2015; NumPy NEP 19)."""
    children = np.random.SeedSequence(seed).spawn(n)
    return tuple(int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children)


def check_engine(engine: str, workers: int) -> None:
    """Refuse an unknown engine or a worker count that is not a whole number in 1..1024."""
    if engine not in ENGINES:
        raise InvalidInput(SUBJECT, "engine", engine, "one of " + ", ".join(ENGINES))
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= MAX_WORKERS:
        raise InvalidInput(SUBJECT, "workers", workers, f"a whole number from 1 to {MAX_WORKERS}")


def run_tasks(
    fn: Callable[[Any], pl.DataFrame],
    tasks: Sequence[Any],
    *,
    engine: str = "local",
    workers: int = 1,
    master: str | None = None,
    progress: Progress | None = None,
    weights: Sequence[int] | None = None,
) -> list[pl.DataFrame]:
    """``[fn(task) for task in tasks]`` on the chosen engine (module docstring), in task order.

    ``progress(w)`` is called as tasks finish with the sum of their ``weights`` (default 1 a
    task); Spark reports finished tasks by count, so there ``w`` is approximate until the end.
    """
    check_engine(engine, workers)
    sizes = list(weights) if weights is not None else [1] * len(tasks)
    done = progress or (lambda _n: None)
    if engine == "spark":
        return _spark(fn, tasks, workers, master, done, sizes)
    if workers == 1 or len(tasks) <= 1:
        out = []
        for task, size in zip(tasks, sizes, strict=True):
            out.append(fn(task))
            done(size)
        return out
    return _processes(fn, tasks, workers, done, sizes)


def _processes(
    fn: Callable[[Any], pl.DataFrame],
    tasks: Sequence[Any],
    workers: int,
    done: Progress,
    sizes: list[int],
) -> list[pl.DataFrame]:
    results: list[pl.DataFrame | None] = [None] * len(tasks)
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        pending = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                results[index] = future.result()
                done(sizes[index])
    return [r for r in results if r is not None]


def _ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return buffer.getvalue()


def _spark(
    fn: Callable[[Any], pl.DataFrame],
    tasks: Sequence[Any],
    workers: int,
    master: str | None,
    done: Progress,
    sizes: list[int],
) -> list[pl.DataFrame]:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InvalidInput(
            SUBJECT,
            "engine",
            Described("spark without PySpark installed"),
            "local, or spark after pip install 'atopic[spark]'",
        ) from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    existing = SparkSession.getActiveSession()
    spark = existing or (
        SparkSession.builder.master(master or f"local[{workers}]")
        .appName("atopic-simulate")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "false")
        .getOrCreate()
    )
    payload = list(tasks)

    def run_partition(rows: Any) -> Any:
        for row in rows:
            yield int(row.id), _ipc(fn(payload[int(row.id)]))

    group = f"atopic-simulate-{os.getpid()}-{time.monotonic_ns()}"
    box: dict[str, Any] = {}

    def collect() -> None:
        try:
            spark.sparkContext.setJobGroup(group, "atopic virtual trials")
            ids = spark.range(len(payload), numPartitions=max(1, len(payload)))
            box["rows"] = ids.rdd.mapPartitions(run_partition).collect()
        except BaseException as error:  # re-raised in the caller's thread
            box["error"] = error

    thread = threading.Thread(target=collect, daemon=True)
    thread.start()
    reported = 0
    total = sum(sizes)
    mean = total / max(1, len(sizes))
    tracker = spark.sparkContext.statusTracker()
    while thread.is_alive():
        thread.join(0.5)
        finished = min(total, round(_finished_tasks(tracker, group) * mean))
        if finished > reported:
            done(finished - reported)
            reported = finished
    try:
        if "error" in box:
            raise box["error"]
        if reported < total:
            done(total - reported)
        by_id = dict(box["rows"])
        return [pl.read_ipc(io.BytesIO(by_id[i])) for i in range(len(payload))]
    finally:
        if existing is None:
            spark.stop()


def _finished_tasks(tracker: Any, group: str) -> int:
    """Tasks finished so far in the job group (Spark's status tracker; 0 when unknown)."""
    total = 0
    for job in tracker.getJobIdsForGroup(group):
        info = tracker.getJobInfo(job)
        for stage in info.stageIds if info else ():
            stage_info = tracker.getStageInfo(stage)
            if stage_info is not None:
                total += stage_info.numCompletedTasks
    return total
