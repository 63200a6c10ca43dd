"""The engines a batch of tables runs on: Polars (the embedded default), DuckDB and PySpark.

Scoring (``atopic.instruments.score_table``) and the derivations (``atopic.trial.derive``) are
written once in Narwhals; an engine only decides where the tables live. ``open_engine(name)``
gives an ``Engine`` that reads a folder of tables (``read``), converts a Polars frame
(``from_polars``), writes one batch of a table into its folder of Parquet parts
(``write_batch``) and brings a result back as a Polars frame (``to_polars``).
Whether a location is a URL or a local path is decided once, by ``place``, for every reader and
writer:

==========  ==========================================================================
``polars``  Polars LazyFrames; Parquet files are scanned, not loaded, so a filter reads only
            the row groups it needs (``atopic derive`` runs large tables in subject batches)
``duckdb``  DuckDB relations of one in-process connection, which spills to disk itself
``spark``   PySpark DataFrames of a SparkSession: ``local[*]`` by default, or the cluster at
            ``spark_master`` (``spark://host:7077``, ``yarn`` ...); see docs/scale.md
==========  ==========================================================================

PySpark and DuckDB are optional (``pip install 'atopic[spark]'``, ``'atopic[duckdb]'``); asking
for one that is not installed is an ``InvalidInput`` that says what to install.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl
from narwhals.dependencies import (
    is_duckdb_relation,
    is_pyspark_connect_dataframe,
    is_pyspark_dataframe,
)

from atopic.errors import InvalidInput
from atopic.tables.files import read_tables
from atopic.tables.schema import Table

ENGINES: tuple[str, ...] = ("polars", "duckdb", "spark")
"""The engine names ``--engine`` accepts."""

_MODULE = {"duckdb": "duckdb", "spark": "pyspark"}
_EXTRA = {"duckdb": "atopic[duckdb]", "spark": "atopic[spark]"}
# Each engine's own frames besides Polars ones, as write_batch names them and tells them apart.
_NATIVE: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "polars": ("", lambda frame: False),
    "duckdb": (" or a DuckDB relation", is_duckdb_relation),
    "spark": (
        " or a Spark DataFrame",
        lambda frame: is_pyspark_dataframe(frame) or is_pyspark_connect_dataframe(frame),
    ),
}


@dataclass
class Engine:
    """One open engine: ``name`` and its session (None for Polars, a DuckDB connection, a
    SparkSession). Frames it returns are native frames of that engine."""

    name: str
    session: Any = None
    _owned: list[Any] = field(default_factory=list)
    _folders: list[str] = field(default_factory=list)

    def from_polars(self, frame: pl.DataFrame | pl.LazyFrame) -> Any:
        """``frame`` as a native frame of this engine (lazy for Polars)."""
        if self.name == "polars":
            return frame.lazy()
        table = (frame.collect() if isinstance(frame, pl.LazyFrame) else frame).to_arrow()
        if self.name == "duckdb":
            return self.session.from_arrow(table)
        return self.session.createDataFrame(table)

    def read(self, folder: str | Path, declarations: Mapping[str, Table]) -> dict[str, Any]:
        """The declared tables found in ``folder`` (see ``atopic.tables.files.read_tables`` for
        the file names and how CSV is typed) as native frames of this engine. Parquet is read by
        the engine itself (scanned by Polars, read by DuckDB and Spark); CSV is typed by the
        declarations first, so every engine sees the same types. On Spark, ``folder`` may be a
        URL of any file system Spark's Hadoop layer knows (``s3a://``, ``hdfs://``, ``file://``
        ...): its Parquet files and part folders are found through that layer (CSV there is
        refused: it is typed on the driver)."""
        where = place(folder, self.name, "tables", "folder", existing=True)
        if isinstance(where, str):
            return self._read_url(where, declarations)
        out: dict[str, Any] = {}
        for name, table in declarations.items():
            parquet = _parquet_source(where, name)
            if parquet is None:
                typed = read_tables(where, {name: table})
                if name in typed:
                    out[name] = self.from_polars(typed[name])
                continue
            paths = [str(p) for p in parquet]
            if self.name == "polars":
                out[name] = pl.scan_parquet(paths)
            elif self.name == "duckdb":
                out[name] = self.session.read_parquet(paths)
            else:
                out[name] = self.session.read.parquet(*paths)
        return out

    def _read_url(self, url: str, declarations: Mapping[str, Table]) -> dict[str, Any]:
        fs = HadoopFiles(self.session)
        base = url.rstrip("/")
        if not fs.is_dir(base):
            raise InvalidInput("tables", "folder", url, "an existing folder")
        out: dict[str, Any] = {}
        for name in declarations:
            for stem in (name.lower(), name.upper()):
                if fs.exists(f"{base}/{stem}.csv"):
                    raise InvalidInput(
                        "tables",
                        name,
                        f"{base}/{stem}.csv",
                        "Parquet at a URL (CSV is typed on the driver: read it from a local "
                        "folder, or write it as Parquet)",
                    )
                if fs.exists(f"{base}/{stem}.parquet"):
                    out[name] = self.session.read.parquet(f"{base}/{stem}.parquet")
                    break
                parts = fs.parquet_parts(f"{base}/{stem}")
                if parts:
                    out[name] = self.session.read.parquet(*parts)
                    break
        return out

    def write_text(self, text: str, path: str | Path) -> None:
        """Write ``text`` (UTF-8) to one file: a local path, or on Spark a URL of its file
        systems (written from the driver through Spark's Hadoop layer)."""
        where = place(path, self.name, "out", "file")
        if isinstance(where, str):
            HadoopFiles(self.session).write(where, text.encode())
            return
        where.write_text(text, encoding="utf-8")

    def write_batch(self, frame: Any, folder: str | Path, batch: int) -> list[str]:
        """Write batch number ``batch`` (from 0) of a table into its ``folder`` of parts, named
        so that the parts in name order are the batches in order: ``part-BBBBB.parquet`` for
        Polars and DuckDB, ``part-BBBBB-PPPPP.parquet`` for Spark (one per partition). Batch 0
        on Spark first empties the folder (it may be a URL there). ``frame`` is a native frame
        of this engine or a Polars frame; anything else is a ``TypeError`` naming its type.
        Returns the files written."""
        where = place(folder, self.name, "out", "folder")
        polars_frame = isinstance(frame, (pl.LazyFrame, pl.DataFrame))
        if not (polars_frame or _NATIVE[self.name][1](frame)):
            raise TypeError(
                f"the {self.name} engine writes a Polars frame{_NATIVE[self.name][0]}; "
                f"got a {type(frame).__module__}.{type(frame).__qualname__}"
            )
        if self.name != "spark":
            target = Path(where) / f"part-{batch:05d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(frame, pl.LazyFrame):
                frame.sink_parquet(target)
            elif isinstance(frame, pl.DataFrame):
                frame.write_parquet(target)
            else:  # a DuckDB relation
                frame.write_parquet(str(target))
            return [str(target)]
        if polars_frame:
            frame = self.from_polars(frame)
        # Spark names its files itself; each batch goes to a hidden folder (one Spark readers
        # skip) and its files are then renamed into place, in partition order.
        url = where if isinstance(where, str) else where.resolve().as_uri()
        files = HadoopFiles(self.session)
        if batch == 0:
            files.delete(url)
        staging = f"{url.rstrip('/')}/_batch-{batch:05d}"
        frame.write.mode("overwrite").parquet(staging)
        moved = []
        for j, part in enumerate(files.parquet_parts(staging)):
            moved.append(f"{url.rstrip('/')}/part-{batch:05d}-{j:05d}.parquet")
            files.rename(part, moved[-1])
        files.delete(staging)
        return moved

    def count_rows(self, files: list[str]) -> int:
        """The number of rows in the Parquet ``files`` (local paths; URLs on Spark)."""
        if self.name == "spark":
            return int(self.session.read.parquet(*files).count()) if files else 0
        return int(pl.scan_parquet(files).select(pl.len()).collect().item()) if files else 0

    def to_polars(self, frame: Any) -> pl.DataFrame:
        """A native frame of this engine, computed, as an eager Polars DataFrame."""
        nf = nw.from_native(frame)
        eager = nf.collect() if isinstance(nf, nw.LazyFrame) else nf
        return eager.to_polars()

    def close(self) -> None:
        """Close what ``open_engine`` opened (the DuckDB connection, the SparkSession)."""
        for thing in self._owned:
            thing.close() if hasattr(thing, "close") else thing.stop()
        self._owned.clear()
        for folder in self._folders:
            shutil.rmtree(folder, ignore_errors=True)
        self._folders.clear()


def place(
    location: str | Path, engine: str, subject: str, field: str, *, existing: bool = False
) -> str | Path:
    """Where a folder or file of tables is, decided once for every reader and writer: a URL
    (``s3a://``, ``hdfs://``, ``file://`` ...) is kept as text and allowed on Spark only, whose
    Hadoop layer reaches it; anything else is a local ``Path``, which with ``existing`` must be
    a folder that exists. A refusal is an ``InvalidInput`` naming ``subject`` and ``field``."""
    if isinstance(location, str) and is_url(location):
        if engine != "spark":
            allowed = "a local folder (URLs need --engine spark)"
            raise InvalidInput(subject, field, location, allowed)
        return location
    path = Path(location)
    if existing and not path.is_dir():
        raise InvalidInput(subject, field, str(location), "an existing folder")
    return path


def is_url(text: str) -> bool:
    """Whether ``text`` is a URL with a scheme (``s3a://bucket/x``, ``hdfs://nn/x``,
    ``file:///x``) rather than a local path."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


class HadoopFiles:
    """Files at URLs through the Hadoop file system layer of a SparkSession's JVM: whatever
    Spark can read (S3, HDFS, GCS, ADLS, local) once its connector and credentials are set."""

    def __init__(self, session: Any) -> None:
        context = session.sparkContext
        self._jvm = context._jvm
        self._conf = context._jsc.hadoopConfiguration()

    def _fs(self, url: str) -> tuple[Any, Any]:
        path = self._jvm.org.apache.hadoop.fs.Path(url)
        return path.getFileSystem(self._conf), path

    def exists(self, url: str) -> bool:
        """Whether a file or folder is at ``url``."""
        fs, path = self._fs(url)
        return bool(fs.exists(path))

    def is_dir(self, url: str) -> bool:
        """Whether a folder is at ``url``."""
        fs, path = self._fs(url)
        return bool(fs.exists(path) and fs.getFileStatus(path).isDirectory())

    def parquet_parts(self, url: str) -> list[str]:
        """The ``*.parquet`` files directly in the folder ``url``, in name order (none if it
        is not a folder)."""
        if not self.is_dir(url):
            return []
        fs, path = self._fs(url)
        names = [status.getPath().getName() for status in fs.listStatus(path)]
        return [f"{url}/{n}" for n in sorted(names) if n.endswith(".parquet")]

    def rename(self, url: str, to: str) -> None:
        """Move the file ``url`` to ``to`` (on the same file system)."""
        fs, path = self._fs(url)
        if not fs.rename(path, self._jvm.org.apache.hadoop.fs.Path(to)):
            raise OSError(f"could not move {url} to {to}")

    def delete(self, url: str) -> None:
        """Remove the file or folder ``url`` (with its contents), if present."""
        fs, path = self._fs(url)
        fs.delete(path, True)

    def write(self, url: str, data: bytes) -> None:
        """Write ``data`` as the file ``url`` (replaced if present)."""
        fs, path = self._fs(url)
        stream = fs.create(path, True)
        try:
            stream.write(bytearray(data))
        finally:
            stream.close()


def _parquet_source(folder: Path, name: str) -> list[Path] | None:
    """The Parquet file of table ``name`` in ``folder`` or its parts; None for CSV or none."""
    for stem in (name.lower(), name.upper()):
        if (folder / f"{stem}.parquet").exists():
            return [folder / f"{stem}.parquet"]
        if (folder / f"{stem}.csv").exists():
            return None
        parts = sorted((folder / stem).glob("*.parquet")) if (folder / stem).is_dir() else []
        if parts:
            return parts
    return None


def _require(name: str) -> None:
    if name not in ENGINES:
        raise InvalidInput("engine", "name", name, "one of " + ", ".join(ENGINES))
    module = _MODULE.get(name)
    if module and importlib.util.find_spec(module) is None:
        raise InvalidInput(
            "engine",
            name,
            "not installed",
            f"the {module} package: pip install '{_EXTRA[name]}'",
        )


def local_driver_memory(physical_bytes: int | None) -> str | None:
    """The driver heap for Spark in local mode: half the machine's memory, in MiB, at least
    Spark's own default of 1 GiB (``"11776m"`` on 23 GiB); None when the memory is unknown
    (Spark's default applies)."""
    if physical_bytes is None or physical_bytes <= 0:
        return None
    return f"{max(1024, physical_bytes // 2 // 2**20)}m"


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


@contextmanager
def open_engine(
    name: str,
    *,
    spark_master: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    session: Any = None,
) -> Iterator[Engine]:
    """An ``Engine`` by name, closed on exit. ``session`` reuses an open DuckDB connection or
    SparkSession (then it is not closed). For Spark, ``spark_master`` is the master URL
    (default ``local[*]``) and ``spark_conf`` extra settings; the session works in UTC, so
    dates never shift with the machine's time zone. A local master gets 2 shuffle partitions per
    core and a driver heap of ``local_driver_memory`` unless ``spark_conf`` sets them."""
    _require(name)
    if spark_master is not None and name != "spark":
        raise InvalidInput("engine", "spark_master", spark_master, "only with the spark engine")
    engine = Engine(name, session)
    if session is None and name == "duckdb":
        import duckdb

        # DuckDB spills to ".tmp" in the working directory by default; a private temporary
        # folder keeps spilled patient data out of the user's folders and is removed on close.
        spill = tempfile.mkdtemp(prefix="atopic-duckdb-")
        engine._folders.append(spill)
        engine.session = duckdb.connect(config={"temp_directory": spill})
        engine._owned.append(engine.session)
    elif session is None and name == "spark":
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(spark_master or "local[*]")
            .appName("atopic")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.showConsoleProgress", "false")
        )
        if (spark_master or "local").startswith("local"):
            # Spark's default of 200 shuffle partitions is meant for a cluster; on one machine
            # it turns every join of small tables into hundreds of tiny tasks.
            cores = os.cpu_count() or 2
            builder = builder.config("spark.sql.shuffle.partitions", str(2 * cores))
            # In local mode the driver JVM also does all the work; Spark's 1 GB default heap
            # made a 10,000-subject derive spill its checkpoints to disk. Set before the JVM
            # starts; a spark.driver.memory in spark_conf wins.
            memory = local_driver_memory(_physical_memory())
            if memory is not None:
                builder = builder.config("spark.driver.memory", memory)
        for key, value in (spark_conf or {}).items():
            builder = builder.config(key, value)
        engine.session = builder.getOrCreate()
        engine._owned.append(engine.session)
    try:
        yield engine
    finally:
        engine.close()
