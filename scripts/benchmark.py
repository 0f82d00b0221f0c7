"""Benchmark the whole `dbt build`: time, rows/s and peak memory at N raw rows, the incremental
path, and ratios to the engine's lower bound (one DuckDB statement) and to a pandas notebook.

A script, not a test: run it on a quiet machine and record the figures.

    .venv/bin/python scripts/benchmark.py --rows 1000000             # ~12 min, ~3 GB of disk
    .venv/bin/python scripts/benchmark.py --rows 10000000            # see docs/benchmarks.md

What it does for each N (--rows):

1. Raw data: the demo generator (scripts/generate_demo_data.py, story profile, 8 weeks) writes
   a base of at most --base-rows rows; one DuckDB COPY replicates it to exactly N rows with new
   ids (`_c<copy>` suffix) and each copy shifted back by a few hours, written as JSONL split by
   day (or week), `task_runs_<date>.jsonl`, plus the base's customers.csv and users.csv. Lines
   are the demo's (~1.4 KB each).
2. Full build: `dbt build` into a new warehouse (own target and log folders, the project's
   profile, gap severity `warn`). Wall time, rows/s, and peak memory: the dbt process's VmHWM
   (peak resident set, /proc) polled every 0.2 s; DuckDB runs inside the dbt process. The
   temp folder's size is polled to see spilling.
3. Start-up: the same `dbt build` selecting nothing (`--select tag:benchmark_selects_nothing`),
   after the full build (partial parsing warm): interpreter, imports, project load and parse.
   Also reported: wall minus run_results.json elapsed_time of the full build.
4. Lower bound: one DuckDB statement (`lower_bound_sql`) over the same files: read_json, the
   deciding run per task, status mapping, customers/users joins, every dimension value, and the
   slice counts with GROUP BY GROUPING SETS over the same sets as int_slice_counts. Run in a
   subprocess with the same memory limit and 2 threads.
5. pandas: `pandas_segment_table`, what a notebook would do: read each file with
   pd.read_json, derive the same values, and the level-1 segment table (counts, completion
   rate, Wilson interval, gap). Run in a subprocess with a time limit and an address-space cap.
6. Incremental: `dbt build` again with no new file (what any incremental build costs), then
   for each --incremental-fraction one new file with that share of N new rows for the next
   day, a few late rows for the first day and an exact copy of an earlier line, and `dbt build`
   again. The line through the builds with a new file, seconds = fixed + per new row x rows
   in the file, says what part is proportional to the new data.
7. Spill check (before the incremental files, on the same N rows): a full build in a new
   warehouse with --spill-memory-limit (well below the raw size): it must finish, and its peak
   memory and temp folder size are recorded.

Results: docs/benchmarks/build.json and the block between the markers in docs/benchmarks.md.
Generated data and warehouses are deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from statistics import NormalDist
from typing import Any

import duckdb
import pandas as pd
import yaml
from cli_support import (
    OneLineParser,
    benchmark_dbt_environment,
    positive_int,
    write_benchmark_results,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]
TESTS_DIR = PROJECT_DIR / "tests" / "python"
sys.path.insert(0, str(TESTS_DIR))
import slice_checks  # noqa: E402  (the slice sets and dimension columns the tests use)
from benchmark_slices import (  # noqa: E402
    MARKER_END,
    MARKER_START,
    grouping_sets_sql,
    load_average,
    log,
    slice_label_sql,
    slice_level_sql,
)
from reference import DIMENSION_COLUMNS  # noqa: E402  (built-in dimension -> task column)

DBT = PROJECT_DIR / ".venv" / "bin" / "dbt"
STATUS_SEED = PROJECT_DIR / "seeds" / "task_status_outcomes.csv"
REQUIRED_FIELDS_SEED = PROJECT_DIR / "seeds" / "required_input_fields.csv"
MISSING = "(missing)"
BASE_WEEKS = 8
# Copy c is shifted back by (c * 7919) mod 86400 seconds: copies interleave within a day
# instead of stacking on the same second, and the weekly pattern of the demo stays.
COPY_SHIFT_STEP_SECONDS = 7919
# The raw contract's fields as the replication reads and writes them (input and attributes
# stay JSON, timestamps stay the demo's text).
RAW_COLUMNS = {
    "task_run_id": "VARCHAR",
    "task_id": "VARCHAR",
    "attempt": "BIGINT",
    "agent_name": "VARCHAR",
    "agent_version": "VARCHAR",
    "task_type": "VARCHAR",
    "user_id": "VARCHAR",
    "team": "VARCHAR",
    "customer_id": "VARCHAR",
    "started_at": "VARCHAR",
    "finished_at": "VARCHAR",
    "status": "VARCHAR",
    "error_type": "VARCHAR",
    "request_text": "VARCHAR",
    "input": "JSON",
    "latency_ms": "BIGINT",
    "cost_usd": "DOUBLE",
    "input_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "attributes": "JSON",
}
# macros/request_part_count.sql: a request split on '?', ';', line breaks, "and then", "also".
REQUEST_SPLIT = r"[?;\n\r]|\band then\b|\balso\b"
SELECTS_NOTHING = "tag:benchmark_selects_nothing"


def sql_text(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def parse_bytes(text: str) -> int:
    """'8GB', '1.5GiB', '512MB' -> bytes (DuckDB's units: KB/MB/GB are 1000s, KiB/... 1024s)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?i?B)\s*", text, flags=re.IGNORECASE)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a memory size like 8GB or 512MiB: {text!r}")
    unit = match.group(2).upper()
    base = 1024 if "I" in unit else 1000
    power = {"B": 0, "K": 1, "M": 2, "G": 3, "T": 4}[unit[0]]
    return int(float(match.group(1)) * base**power)


def memory_size(text: str) -> str:
    """An argparse type: a DuckDB memory size, kept as text ('0': none)."""
    if text.strip() != "0":
        parse_bytes(text)
    return text


# ---------------------------------------------------------------------------
# Project configuration


def project_vars(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """dbt_project.yml's vars with `overrides` (what a build with --vars sees)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return {**project["vars"], **(overrides or {})}


def bucket_labels(edges: list[int]) -> list[tuple[int | None, str]]:
    """(upper edge, label) per bucket of macros/bucket_label.sql; the last edge is None."""
    labels: list[tuple[int | None, str]] = [(edges[0], f"under {edges[0]}")]
    labels += [(edge, f"{low}-{edge - 1}") for low, edge in itertools.pairwise(edges)]
    return [*labels, (None, f"{edges[-1]}+")]


def dimension_source(name: str) -> str:
    if name in DIMENSION_COLUMNS:
        return DIMENSION_COLUMNS[name]
    if name.startswith("attributes."):
        return name
    raise ValueError(f"unknown segment dimension {name!r}")


# ---------------------------------------------------------------------------
# Raw data


def replica_sql(base: str, copy: str, shift_seconds: str, new_date: str | None = None) -> str:
    """Rows of `base` as copy `copy` (an id suffix), moved by `shift_seconds`, or to `new_date`
    keeping the time of day; columns in the raw contract's order, plus `file_date`."""
    started = "cast(started_at as timestamp)"
    if new_date is None:
        moved = f"({started} + to_seconds({shift_seconds}))"
    else:
        moved = f"(date '{new_date}' + ({started} - date_trunc('day', {started})))"
    finished = f"({moved} + (cast(finished_at as timestamp) - {started}))"
    columns = []
    for name in RAW_COLUMNS:
        if name in ("task_run_id", "task_id"):
            columns.append(f"{name} || {copy} as {name}")
        elif name == "started_at":
            columns.append(f"strftime({moved}, '%Y-%m-%dT%H:%M:%SZ') as started_at")
        elif name == "finished_at":
            columns.append(f"strftime({finished}, '%Y-%m-%dT%H:%M:%SZ') as finished_at")
        else:
            columns.append(name)
    return f"select {', '.join(columns)}, cast({moved} as date) as file_date from {base}"


def read_raw_sql(files: Path | list[Path], filename: bool = False) -> str:
    """read_json of task-run files (a glob or a list) with the raw contract's columns, and
    with `filename` the file's path."""
    columns = ", ".join(f"{name}: '{kind}'" for name, kind in RAW_COLUMNS.items())
    paths = (
        sql_text(files)
        if isinstance(files, Path)
        else "[" + ", ".join(sql_text(path) for path in files) + "]"
    )
    return (
        f"read_json({paths}, columns = {{{columns}}}, format = 'newline_delimited', "
        f"filename = {str(filename).lower()})"
    )


def move_partitions(partitioned: Path, raw: Path) -> list[str]:
    """COPY ... PARTITION_BY writes file_date=<date>/data_<i>.json: rename to the flat
    task_runs_<date>.jsonl the project reads."""
    names = []
    for folder in sorted(partitioned.iterdir()):
        day = folder.name.split("=", 1)[1]
        for index, part in enumerate(sorted(folder.iterdir())):
            name = f"task_runs_{day}.jsonl" if index == 0 else f"task_runs_{day}_{index}.jsonl"
            part.rename(raw / name)
            names.append(name)
        folder.rmdir()
    partitioned.rmdir()
    return names


def generate_raw(
    raw: Path, rows: int, base_rows: int, split: str, memory_limit: str = "8GB"
) -> dict[str, Any]:
    """Exactly `rows` task-run lines in `raw`: the demo replicated by one DuckDB COPY."""
    sys.path.insert(0, str(PROJECT_DIR / "scripts"))
    import generate_demo_data  # a script beside this one

    started = time.perf_counter()
    base_folder = raw.parent / f"{raw.name}_base"
    # ~1.08 runs per task in the story profile (retries).
    tasks_per_week = max(1, math.ceil(min(rows, base_rows) / BASE_WEEKS / 1.08))
    generate_demo_data.generate(base_folder, "story", BASE_WEEKS, tasks_per_week, seed=7)
    raw.mkdir(parents=True, exist_ok=True)
    for name in ("customers.csv", "users.csv"):
        shutil.copyfile(base_folder / name, raw / name)
    partitioned = raw.parent / f"{raw.name}_partitioned"
    with duckdb.connect() as connection:
        connection.execute("set threads = 2")
        connection.execute(f"set memory_limit = {sql_text(memory_limit)}")
        connection.execute(
            "create table base as select *, row_number() over () as base_row "
            f"from {read_raw_sql(base_folder / 'task_runs_*.jsonl')}"
        )
        base_count = connection.execute("select count(*) from base").fetchone()[0]
        copies = math.ceil(rows / base_count)
        replicas = (
            f"(select base.*, copy from base cross join range({copies}) as copies(copy) "
            f"where copy * {base_count} + base_row <= {rows})"
        )
        file_date = "file_date" if split == "day" else "date_trunc('week', file_date)"
        connection.execute(
            f"""
            copy (
                select * replace (strftime({file_date}, '%Y-%m-%d') as file_date)
                from ({replica_sql(replicas, "'_c' || copy", f"-((copy * {COPY_SHIFT_STEP_SECONDS}) % 86400)")})
            ) to {sql_text(partitioned)} (format json, partition_by (file_date))
            """  # noqa: E501
        )
    files = move_partitions(partitioned, raw)
    shutil.rmtree(base_folder)
    return {
        "rows": rows,
        "base_rows": base_count,
        "copies": copies,
        "files": len(files),
        "split": split,
        "first_file": files[0],
        "last_file": files[-1],
        "bytes": sum(path.stat().st_size for path in raw.glob("task_runs_*.jsonl")),
        "seconds": round(time.perf_counter() - started, 1),
    }


def add_incremental_file(
    raw: Path, new_rows: int, late_rows: int, memory_limit: str, delivery: int = 1
) -> dict[str, Any]:
    """One new file for the day after the last: `new_rows` new runs, `late_rows` new runs
    dated on the first day, and an exact copy of a line of the first file. Reads only the
    first and last files (they are named by date). `delivery` numbers the new ids, so that
    each added file brings runs of its own."""
    files = sorted(raw.glob("task_runs_*.jsonl"))
    first_file, last_file = files[0], files[-1]
    with duckdb.connect() as connection:
        connection.execute("set threads = 2")
        connection.execute(f"set memory_limit = {sql_text(memory_limit)}")
        first_day = connection.execute(
            f"select min(cast(started_at as timestamp))::date from {read_raw_sql(first_file)}"
        ).fetchone()[0]
        last_day = connection.execute(
            f"select max(cast(started_at as timestamp))::date from {read_raw_sql(last_file)}"
        ).fetchone()[0]
        new_day = last_day + timedelta(days=1)
        if new_day > datetime.now(UTC).date():
            raise RuntimeError(f"the new file's day {new_day} would be in the future")
        path = raw / f"task_runs_{new_day:%Y-%m-%d}.jsonl"

        # New runs are earlier runs under new ids; LIMIT stops the scan once it has enough.
        def earlier(count: int) -> str:
            return f"(select * from {read_raw_sql(files)} limit {count})"

        connection.execute(
            f"create table duplicated as select * from {read_raw_sql(first_file)} limit 1"
        )
        duplicate_id = connection.execute("select task_run_id from duplicated").fetchone()[0]
        parts = [
            replica_sql(earlier(new_rows), f"'_n{delivery}'", "0", f"{new_day:%Y-%m-%d}"),
            replica_sql(earlier(late_rows), f"'_late{delivery}'", "0", f"{first_day:%Y-%m-%d}"),
            # Written again by the same path, so its text is the same bytes (checked below).
            replica_sql("duplicated", "''", "0"),
        ]
        connection.execute(
            f"copy (select * exclude (file_date) from ({' union all '.join(parts)})) "
            f"to {sql_text(path)} (format json)"
        )
        copies = connection.execute(
            f"""
            select count(distinct column0), count(*) from read_csv(
                [{sql_text(first_file)}, {sql_text(path)}], columns = {{'column0': 'VARCHAR'}},
                header = false, delim = chr(0), quote = '', escape = '', auto_detect = false,
                max_line_size = 67108864)
            where contains(column0, {sql_text('"task_run_id":"' + duplicate_id + '"')})
            """
        ).fetchone()
    if copies != (1, 2):
        raise RuntimeError(f"the duplicate is not an exact copy (distinct, lines): {copies}")
    return {
        "file": path.name,
        "rows": new_rows + late_rows + 1,
        "new_rows": new_rows,
        "late_rows": late_rows,
        "late_rows_date": f"{first_day:%Y-%m-%d}",
        "exact_duplicate_task_run_id": duplicate_id,
        "bytes": path.stat().st_size,
    }


# ---------------------------------------------------------------------------
# dbt, measured


class PeakPoller:
    """The largest value `sample` returned, sampled in a thread every `interval` seconds."""

    def __init__(self, sample: Callable[[], int | None], interval: float) -> None:
        self.sample, self.interval = sample, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample() or 0)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            # A spill file may be removed while we look.
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def high_water_rss(pid: int) -> int | None:
    """The largest VmHWM (peak resident set since exec) of `pid` and its descendants.
    Not ru_maxrss: a child's ru_maxrss starts at its parent's peak when it is forked, and this
    script's own DuckDB work makes that several GB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:  # the process has exited
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, flags=re.MULTILINE)
    own = int(match.group(1)) * 1024 if match else 0
    return max([own, *(high_water_rss(child) or 0 for child in children)])


def run_measured(
    command: list[str], environment: dict[str, str], timeout_seconds: float | None = None
) -> tuple[int | None, float, int, str]:
    """(exit code or None on timeout, wall seconds, peak RSS bytes, output) of a subprocess.
    The peak is the process's VmHWM (or a descendant's, if larger), polled every 0.2 s: the
    high-water mark only grows, so polling misses at most the last 0.2 s."""
    with tempfile.TemporaryFile(mode="w+") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        timer = None
        if timeout_seconds:
            timer = threading.Timer(timeout_seconds, process.kill)
            timer.start()
        with PeakPoller(lambda: high_water_rss(process.pid), 0.2) as memory:
            process.wait()
        wall = time.perf_counter() - started
        timed_out = timer is not None and not timer.is_alive() and process.returncode < 0
        if timer is not None:
            timer.cancel()
        output.seek(0)
        text = output.read()
    code = None if timed_out else process.returncode
    return code, wall, memory.peak, text


def dbt_build(
    work: Path,
    db_path: Path,
    raw: Path,
    memory_limit: str,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    """`dbt build` on `raw` into `db_path`, measured; raises when a node other than the gap
    tests (severity warn here) errors."""
    target = work / "target"
    temp_dir = Path(f"{db_path}.tmp")
    environment = benchmark_dbt_environment(
        db_path,
        PROJECT_DIR,
        AGENT_SEGMENTS_MEMORY_LIMIT=memory_limit,
        AGENT_SEGMENTS_TEMP_DIR=str(temp_dir),
    )
    dbt_vars = json.dumps({"raw_path": str(raw), "segment_gap_severity": "warn"})
    command = [
        str(DBT),
        "build",
        "--vars",
        dbt_vars,
        "--target-path",
        str(target),
        "--log-path",
        str(work / "logs"),
        *(extra or []),
    ]
    load_before = load_average()
    with PeakPoller(lambda: folder_bytes(temp_dir), 0.5) as spill:
        code, wall, peak_rss, output = run_measured(command, environment)
    results_path = target / "run_results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {"results": []}
    failed = [
        r["unique_id"] for r in results["results"] if r["status"] in ("error", "runtime error")
    ]
    if code not in (0, 1) or failed:
        raise RuntimeError(f"dbt build failed (exit {code}) on {failed}:\n{output[-4000:]}")
    models = {
        r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }
    elapsed = results.get("elapsed_time")
    return {
        "command": "dbt build " + " ".join(extra or []),
        "exit_code": code,
        "wall_seconds": round(wall, 2),
        "dbt_elapsed_seconds": round(elapsed, 2) if elapsed is not None else None,
        "nodes": len(results["results"]),
        "peak_rss_bytes": peak_rss,
        "memory_limit": memory_limit,
        "memory_limit_bytes": parse_bytes(memory_limit),
        "peak_spill_bytes": spill.peak,
        "warehouse_bytes": db_path.stat().st_size if db_path.exists() else None,
        "slowest_models": dict(sorted(models.items(), key=lambda item: -item[1])[:8]),
        "model_seconds": models,
        "load_average": [load_before, load_average()],
    }


def warehouse_counts(db_path: Path) -> dict[str, int]:
    with duckdb.connect(str(db_path), read_only=True) as connection:
        tasks, runs = connection.execute(
            "select count(*), sum(attempt_count) from marts.fct_task_runs"
        ).fetchone()
        rejected = dict(
            connection.execute(
                "select rejection_reason, count(*) from marts.rejected_task_runs group by all"
            ).fetchall()
        )
    return {"tasks": int(tasks), "accepted_runs": int(runs), "rejected": rejected}


# ---------------------------------------------------------------------------
# The lower bound: one DuckDB statement


def lower_bound_sql(raw: Path, dbt_vars: dict[str, Any]) -> str:
    """One statement: the slice counts of int_slice_counts (its dimension columns, slice_key,
    slice_level, task_count, completed_count, excluded_count) straight from the raw files, with
    the delivered user and customer ids (the build shows pseudonyms). It assumes clean records (no
    per-field validation or rejection reasons; unknown statuses and missing required fields
    drop the record); exact duplicate deliveries collapse into one run."""
    config = slice_checks.slice_config(dbt_vars)
    dimensions = sorted(config.dimensions)
    columns = {name: slice_checks.dimension_column(name) for name in dimensions}
    edges = list(dbt_vars["input_length_bucket_edges"])
    length_cases = " ".join(
        f"when input_length_chars < {edge} then '{label}'"
        for edge, label in bucket_labels(edges)
        if edge is not None
    )
    # Every required field is read with one json_extract (one parse of the input per run);
    # the seed is baked into the statement.
    required = pd.read_csv(REQUIRED_FIELDS_SEED, dtype=str)
    fields = sorted(required["field_name"].unique())
    paths = ", ".join(sql_text(f'$."{field}"') for field in fields)
    text = "(field_value ->> '$')"
    blank = (
        f"field_value is null or (json_type(field_value) in ('NULL', 'VARCHAR', 'ARRAY', "
        f"'OBJECT') and ({text} is null or nullif(regexp_replace({text}, '^\\s+|\\s+$', '', "
        f"'g'), '') is null or {text} in ('[]', '{{}}')))"
    )
    missing_by_type = " ".join(
        f"when {sql_text(task_type)} then "
        + " + ".join(f"cast(is_blank[{fields.index(f) + 1}] as integer)" for f in type_fields)
        for task_type, type_fields in required.groupby("task_type")["field_name"]
    )

    attribute_keys = [
        name.split(".", 1)[1] for name in dimensions if name.startswith("attributes.")
    ]
    attribute_columns = "".join(
        f"""attributes ->> '$."{key}"' as "attributes.{key}",\n        """ for key in attribute_keys
    )
    attribute_names = "".join(f'"attributes.{key}",\n        ' for key in attribute_keys)

    def value(name: str) -> str:
        source = dimension_source(name)
        source = f'"{source}"' if source.startswith("attributes.") else source
        return f"coalesce(cast({source} as varchar), '{MISSING}') as {columns[name]}"

    trim = "nullif(regexp_replace({x}, '^\\s+|\\s+$', '', 'g'), '')"
    return f"""
with
runs as (
    select
        {trim.format(x="task_run_id")} as task_run_id,
        coalesce({trim.format(x="task_id")}, {trim.format(x="task_run_id")}) as task_id,
        attempt,
        {trim.format(x="user_id")} as user_id,
        {trim.format(x="customer_id")} as customer_id,
        {trim.format(x="agent_version")} as agent_version,
        {trim.format(x="task_type")} as task_type,
        {trim.format(x="team")} as team,
        lower({trim.format(x="status")}) as status_key,
        cast(timezone('UTC', started_at) as timestamp) as started_at,
        coalesce(length(cast(json(input) as varchar)), 2) as input_length_chars,
        case when {trim.format(x="request_text")} is not null then len(list_filter(
            regexp_split_to_array(lower(request_text), '{REQUEST_SPLIT}'),
            lambda request_part: regexp_matches(request_part, '[\\pL\\pN]')
        )) end as request_part_count,
        input,
        attributes,
        filename as source_file
    from read_json({sql_text(raw / "task_runs*.jsonl")}, columns = {{
        task_run_id: 'VARCHAR', task_id: 'VARCHAR', attempt: 'BIGINT',
        agent_version: 'VARCHAR', task_type: 'VARCHAR', user_id: 'VARCHAR', team: 'VARCHAR',
        customer_id: 'VARCHAR', started_at: 'TIMESTAMPTZ', status: 'VARCHAR',
        request_text: 'VARCHAR', input: 'JSON', attributes: 'JSON'
    }}, format = 'newline_delimited', filename = true)
),
runs_scored as (
    -- Narrow rows from here on: the input is parsed once, per run.
    select
        * exclude (input, attributes, is_blank),
        {attribute_columns}
        case task_type {missing_by_type} else 0 end as missing_required_field_count
    from (
        select
            *,
            list_transform(
                coalesce(json_extract(input, [{paths}]), [{", ".join("null" for _ in fields)}]),
                lambda field_value: {blank}
            ) as is_blank
        from runs
    )
),
status_outcomes as (
    select lower(raw_status) as status_key, outcome
    from read_csv({sql_text(STATUS_SEED)}, all_varchar = true)
),
customers as (
    select trim(customer_id) as customer_id, max(lower(trim(tier))) as customer_tier
    from read_csv({sql_text(raw / "customers.csv")}, all_varchar = true)
    group by 1
),
users as (
    select trim(user_id) as user_id, max(trim(team)) as team
    from read_csv({sql_text(raw / "users.csv")}, all_varchar = true)
    group by 1
),
deciding_runs as (
    -- The task's highest attempt decides; exact re-deliveries of a run are the same run.
    select runs_scored.*, status_outcomes.outcome
    from runs_scored
    inner join status_outcomes on runs_scored.status_key = status_outcomes.status_key
    where runs_scored.task_run_id is not null and runs_scored.task_type is not null
        and runs_scored.started_at is not null
    qualify row_number() over (
        partition by runs_scored.task_id
        order by coalesce(runs_scored.attempt, 1) desc, runs_scored.started_at desc,
            runs_scored.task_run_id desc, runs_scored.source_file desc
    ) = 1
),
tasks as (
    select
        deciding_runs.*,
        coalesce(deciding_runs.team, users.team) as team_resolved,
        customers.customer_tier
    from deciding_runs
    left join customers on deciding_runs.customer_id = customers.customer_id
    left join users on deciding_runs.user_id = users.user_id
),
segment_values as (
    select
        customer_id,
        customer_tier,
        team_resolved as team,
        user_id,
        task_type,
        agent_version,
        {attribute_names}
        outcome,
        case when missing_required_field_count >= 3 then '3+'
            else cast(missing_required_field_count as varchar) end
            as missing_required_fields_bucket,
        case {length_cases} else '{edges[-1]}+' end as input_length_bucket,
        case
            when request_part_count is null or request_part_count = 0 then '{MISSING}'
            when request_part_count = 1 then '1 ask'
            when request_part_count = 2 then '2 asks'
            else '3+ asks'
        end as request_complexity_bucket
    from tasks
),
dimension_values as (
    select {", ".join(value(name) for name in dimensions)}, outcome
    from segment_values
)
select
    {", ".join(columns[name] for name in dimensions)},
    {slice_label_sql(columns, "'{name}=' || {column}")} as slice_key,
    {slice_level_sql(columns)} as slice_level,
    count(case when outcome in ('success', 'failure') then 1 end) as task_count,
    count(case when outcome = 'success' then 1 end) as completed_count,
    count(case when outcome = 'excluded' then 1 end) as excluded_count
from dimension_values
group by grouping sets ({grouping_sets_sql(config, columns)})
having slice_level = 0
    or (slice_level = 1 and task_count > 0)
    or task_count >= {int(dbt_vars["slice_min_support"])}
"""


def run_lower_bound(raw: Path, dbt_vars: dict[str, Any], memory_limit: str) -> dict[str, Any]:
    sql = lower_bound_sql(raw, dbt_vars)
    with duckdb.connect() as connection:
        connection.execute("set threads = 2")
        connection.execute(f"set memory_limit = {sql_text(memory_limit)}")
        connection.execute("set TimeZone = 'UTC'")
        started = time.perf_counter()
        counts = connection.execute(sql).df()
        seconds = time.perf_counter() - started
    population = counts[counts["slice_level"] == 0].iloc[0]
    return {
        "seconds": round(seconds, 2),
        "slices": int((counts["slice_level"] > 0).sum()),
        "counted_tasks": int(population["task_count"]),
    }


# ---------------------------------------------------------------------------
# pandas: the level-1 segment table a notebook would compute


def _is_blank(value: Any) -> bool:
    """macros/json_value_is_blank.sql: absent, null, blank text, [] or {}."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip(" \t\n\r\f\v") == ""
    if isinstance(value, list | dict):
        return len(value) == 0
    return False


def _request_parts(text: Any) -> float:
    if not isinstance(text, str) or not text.strip():
        return math.nan
    parts = re.split(REQUEST_SPLIT, text.lower())
    return float(sum(1 for part in parts if any(char.isalnum() for char in part)))


def _compact_length(value: Any) -> int:
    if not isinstance(value, dict):
        return 2  # a missing input counts as {}
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def pandas_segment_table(raw: Path, dbt_vars: dict[str, Any]) -> pd.DataFrame:
    """One row per (dimension, segment value): task_count, completed_count, completion_rate,
    completion_rate_ci_low/high (Wilson at the one-sided segment_confidence) and gap_pp, as
    segment_completion has them. Reads every file with pd.read_json and keeps only what the
    table needs, file by file."""
    required = pd.read_csv(REQUIRED_FIELDS_SEED).groupby("task_type")["field_name"].agg(list)
    required_by_type = required.to_dict()
    statuses = pd.read_csv(STATUS_SEED)
    outcome_by_status = dict(
        zip(statuses["raw_status"].str.lower(), statuses["outcome"], strict=True)
    )
    attribute_keys = [
        name.split(".", 1)[1] for name in dbt_vars["segment_dimensions"] if "." in name
    ]
    frames = []
    for path in sorted(raw.glob("task_runs*.jsonl")):
        runs = pd.read_json(path, lines=True, dtype=False)
        runs["source_file"] = path.name
        runs["missing_required_field_count"] = [
            sum(
                _is_blank(record.get(field) if isinstance(record, dict) else None)
                for field in required_by_type.get(task_type, [])
            )
            for task_type, record in zip(runs["task_type"], runs["input"], strict=True)
        ]
        runs["input_length_chars"] = runs["input"].map(_compact_length)
        runs["request_part_count"] = runs["request_text"].map(_request_parts)
        for key in attribute_keys:
            runs[f"attributes.{key}"] = runs["attributes"].map(
                lambda attributes, key=key: (
                    attributes.get(key) if isinstance(attributes, dict) else None
                )
            )
        frames.append(runs.drop(columns=["input", "attributes", "request_text"]))
    runs = pd.concat(frames, ignore_index=True)
    for column in ("task_run_id", "task_id", "user_id", "customer_id", "team", "agent_version"):
        if column in runs:
            runs[column] = runs[column].astype("string").str.strip().replace("", pd.NA)
    runs["task_id"] = runs["task_id"].fillna(runs["task_run_id"])
    runs["outcome"] = runs["status"].astype("string").str.strip().str.lower().map(outcome_by_status)
    runs["started_at"] = pd.to_datetime(runs["started_at"], utc=True, format="ISO8601")
    runs = runs.dropna(subset=["task_run_id", "task_type", "started_at", "outcome"])
    runs["attempt_order"] = runs["attempt"].fillna(1)
    tasks = runs.sort_values(
        ["task_id", "attempt_order", "started_at", "task_run_id", "source_file"],
        ascending=False,
    ).drop_duplicates("task_id")

    customers = pd.read_csv(raw / "customers.csv", dtype=str)
    customers = (
        customers.assign(
            customer_id=customers["customer_id"].str.strip(),
            customer_tier=customers["tier"].str.strip().str.lower(),
        )
        .groupby("customer_id", as_index=False)["customer_tier"]
        .max()
    )
    users = pd.read_csv(raw / "users.csv", dtype=str)
    users = (
        users.assign(user_id=users["user_id"].str.strip(), user_team=users["team"].str.strip())
        .groupby("user_id", as_index=False)["user_team"]
        .max()
    )
    tasks = tasks.merge(customers, on="customer_id", how="left").merge(
        users, on="user_id", how="left"
    )
    tasks["team"] = tasks["team"].fillna(tasks["user_team"])
    missing = tasks["missing_required_field_count"]
    tasks["missing_required_fields_bucket"] = missing.clip(upper=3).astype(str).replace("3", "3+")
    edges = list(dbt_vars["input_length_bucket_edges"])
    labels = [label for _, label in bucket_labels(edges)]
    tasks["input_length_bucket"] = pd.cut(
        tasks["input_length_chars"], [-math.inf, *edges, math.inf], right=False, labels=labels
    ).astype(str)
    parts = tasks["request_part_count"]
    tasks["request_complexity_bucket"] = (
        parts.map({1.0: "1 ask", 2.0: "2 asks"})
        .where(parts < 3, "3+ asks")
        .where(parts > 0, MISSING)
    )
    tasks["is_counted"] = tasks["outcome"].isin(["success", "failure"])
    tasks["is_success"] = tasks["outcome"] == "success"

    counted = tasks[tasks["is_counted"]]
    overall = counted["is_success"].mean()
    z = NormalDist().inv_cdf(float(dbt_vars["segment_confidence"]))
    tables = []
    for name in dbt_vars["segment_dimensions"]:
        values = counted[dimension_source(name)].astype("string").fillna(MISSING)
        table = (
            counted.assign(segment_value=values)
            .groupby("segment_value")["is_success"]
            .agg(task_count="size", completed_count="sum")
            .reset_index()
        )
        table.insert(0, "dimension", name)
        tables.append(table)
    segments = pd.concat(tables, ignore_index=True)
    n = segments["task_count"].astype(float)
    rate = segments["completed_count"] / n
    center = (segments["completed_count"] + z * z / 2) / (n + z * z)
    half = z / (1 + z * z / n) * ((rate * (1 - rate) / n + z * z / (4 * n * n)) ** 0.5)
    segments["completion_rate"] = rate
    low = (center - half).clip(lower=0.0)
    high = (center + half).clip(upper=1.0)
    segments["completion_rate_ci_low"] = low.where(segments["completed_count"] > 0, 0.0)
    segments["completion_rate_ci_high"] = high.where(segments["completed_count"] < n, 1.0)
    segments["gap_pp"] = 100 * (overall - rate)
    return segments


def run_pandas(raw: Path, dbt_vars: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    segments = pandas_segment_table(raw, dbt_vars)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "segments": len(segments),
        "counted_tasks": int(
            segments.loc[segments["dimension"] == segments["dimension"].iloc[0], "task_count"].sum()
        ),
    }


def run_child(
    which: str,
    raw: Path,
    dbt_vars: dict[str, Any],
    memory_limit: str,
    timeout_minutes: float,
    address_space_cap: int | None,
) -> dict[str, Any]:
    """The lower bound or the pandas table in a fresh interpreter, so its peak memory is its
    own; timings are measured inside it (no interpreter start-up)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        which,
        "--child-raw",
        str(raw),
        "--child-vars",
        json.dumps(dbt_vars),
        "--memory-limit",
        memory_limit,
    ]
    if address_space_cap:
        command += ["--child-address-space-cap", str(address_space_cap)]
    load_before = load_average()
    code, wall, peak_rss, output = run_measured(command, dict(os.environ), timeout_minutes * 60)
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    if code is None:
        result: dict[str, Any] = {"status": f"did not finish in {timeout_minutes:g} min"}
    elif not lines:
        out_of_memory = "MemoryError" in output or "Out of Memory" in output or code < 0
        result = {
            "status": "out of memory" if out_of_memory else f"failed: {output.strip()[-400:]}"
        }
    else:
        result = {"status": "finished", **json.loads(lines[-1][len("RESULT ") :])}
    result.update(
        wall_seconds=round(wall, 2),
        peak_rss_bytes=peak_rss,
        load_average=[load_before, load_average()],
    )
    return result


def child_main(args: argparse.Namespace) -> int:
    if args.child_address_space_cap:
        cap = args.child_address_space_cap
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    dbt_vars = json.loads(args.child_vars)
    if args.child == "lower-bound":
        result = run_lower_bound(args.child_raw, dbt_vars, args.memory_limit)
    else:
        result = run_pandas(args.child_raw, dbt_vars)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# ---------------------------------------------------------------------------
# Report


def gib(value: float) -> str:
    return f"{value / 2**30:.2f} GiB"


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """The ratios and per-second figures of one size."""
    full, startup = run["full_build"], run["startup"]
    build_seconds = full["wall_seconds"] - startup["wall_seconds"]
    lower, pandas_run = run["lower_bound"], run["pandas"]
    figures: dict[str, Any] = {
        "startup_seconds": startup["wall_seconds"],
        "full_build_seconds_without_startup": round(build_seconds, 2),
        "full_build_rows_per_second": round(run["rows"] / full["wall_seconds"]),
        "full_build_peak_rss_vs_memory_limit": round(
            full["peak_rss_bytes"] / full["memory_limit_bytes"], 2
        ),
        # dbt's own footprint (interpreter, manifest) is the start-up run's peak: the rest of a
        # build's peak is what the memory limit governs.
        "dbt_baseline_rss_bytes": startup["peak_rss_bytes"],
        "full_build_rss_above_baseline_bytes": full["peak_rss_bytes"] - startup["peak_rss_bytes"],
    }
    spill = run.get("spill_build", {})
    if "peak_rss_bytes" in spill:
        figures["spill_build_rss_above_baseline_vs_memory_limit"] = round(
            (spill["peak_rss_bytes"] - startup["peak_rss_bytes"]) / spill["memory_limit_bytes"], 2
        )
    if lower.get("status") == "finished":
        figures["full_build_over_lower_bound"] = round(build_seconds / lower["seconds"], 2)
    if pandas_run.get("status") == "finished":
        figures["full_build_over_pandas"] = round(build_seconds / pandas_run["seconds"], 2)
        figures["pandas_over_full_build"] = round(pandas_run["seconds"] / build_seconds, 2)
    if run.get("incremental_builds"):
        figures.update(incremental_fit(run))
    return figures


def incremental_fit(run: dict[str, Any]) -> dict[str, float]:
    """The least-squares line through the builds with a new file, (rows in the file, seconds):
    its intercept is what a build with a new file costs whatever its size, its slope what each
    new row adds (beside a full build's seconds per row). The build with no new file is not a
    point of it: a new file also brings a new day and late runs, work a build without one skips."""
    points = [
        (step["file"]["rows"], step["build"]["wall_seconds"]) for step in run["incremental_builds"]
    ]
    if len({rows for rows, _ in points}) < 2:
        return {}
    mean_rows = sum(rows for rows, _ in points) / len(points)
    mean_seconds = sum(seconds for _, seconds in points) / len(points)
    spread = sum((rows - mean_rows) ** 2 for rows, _ in points)
    slope = sum((rows - mean_rows) * (seconds - mean_seconds) for rows, seconds in points) / spread
    fixed = mean_seconds - slope * mean_rows
    return {
        "incremental_fixed_seconds": round(fixed, 1),
        "incremental_seconds_per_million_new_rows": round(slope * 1e6, 1),
        "full_build_seconds_per_million_rows": round(
            run["full_build"]["wall_seconds"] / run["rows"] * 1e6, 1
        ),
        "incremental_fixed_over_full_build": round(fixed / run["full_build"]["wall_seconds"], 3),
    }


def table(results: dict[str, Any]) -> str:
    lines = [
        "| rows | raw JSONL | full build | start-up | rows/s | peak memory (limit) | "
        "lower bound | build / lower bound | pandas | build / pandas | "
        "incremental builds: no new file; each new file | with a new file: fixed + per new row |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in results["runs"]:
        full, figures = run["full_build"], run["summary"]
        lower, pandas_run = run["lower_bound"], run["pandas"]
        steps = run.get("incremental_builds", [])
        incremental = "; ".join(
            [f"{run['unchanged_build']['wall_seconds']:.1f} s" if steps else "-"]
            + [
                f"+{step['file']['rows']:,} rows {step['build']['wall_seconds']:.1f} s"
                for step in steps
            ]
        )
        fit = (
            f"{figures['incremental_fixed_seconds']:.1f} s + "
            f"{figures['incremental_seconds_per_million_new_rows']:.1f} s per 1M "
            f"(full build: {figures['full_build_seconds_per_million_rows']:.1f} s per 1M rows)"
            if "incremental_fixed_seconds" in figures
            else "-"
        )
        lines.append(
            f"| {run['rows']:,} | {gib(run['data']['bytes'])} | {full['wall_seconds']:.1f} s | "
            f"{figures['startup_seconds']:.1f} s | {figures['full_build_rows_per_second']:,} | "
            f"{gib(full['peak_rss_bytes'])} ({full['memory_limit']}) | "
            + (
                f"{lower['seconds']:.1f} s | {figures['full_build_over_lower_bound']:.1f}x | "
                if "full_build_over_lower_bound" in figures
                else f"{lower['status']} | - | "
            )
            + (
                f"{pandas_run['seconds']:.1f} s | {figures['full_build_over_pandas']:.2f}x | "
                if "full_build_over_pandas" in figures
                else f"{pandas_run['status']} | - | "
            )
            + f"{incremental} | {fit} |"
        )
    return "\n".join(lines) + "\n"


def incremental_split(build_name: str, full: dict[str, Any], after: dict[str, Any]) -> str:
    """Where an incremental build's model time went, each model beside its full-build time."""
    full_models, models = full["model_seconds"], after["model_seconds"]
    costliest = sorted(models, key=lambda name: -models[name])[:8]
    listed = ", ".join(
        f"{name} {models[name]:.1f} s ({full_models.get(name, 0.0):.1f} s)" for name in costliest
    )
    return (
        f"{build_name}, model by model: all models {sum(models.values()):.1f} s "
        f"against {sum(full_models.values()):.1f} s in the full build (summed over 2 threads). "
        f"The costliest, with their full-build time in parentheses: {listed}."
    )


def notes(results: dict[str, Any]) -> list[str]:
    found = [
        f"Measured {results['measured_at']} on {results['machine']} "
        f"(dbt-core {results['versions']['dbt-core']}, DuckDB {results['versions']['duckdb']}, "
        f"pandas {results['versions']['pandas']}); the load average during each step is in "
        "the JSON. Times exclude data generation."
    ]
    for run in results["runs"]:
        full = run["full_build"]
        models = ", ".join(f"{name} {sec:.1f} s" for name, sec in full["slowest_models"].items())
        found.append(
            f"At {run['rows']:,} rows ({run['data']['files']} files): the slowest models were "
            f"{models}. dbt's own elapsed time was {full['dbt_elapsed_seconds']:.1f} s of "
            f"{full['wall_seconds']:.1f} s wall. Peak memory {gib(full['peak_rss_bytes'])} "
            f"(dbt alone, the start-up run: {gib(run['startup']['peak_rss_bytes'])}), DuckDB "
            f"temp files up to {gib(full['peak_spill_bytes'])}."
        )
        unchanged = run["unchanged_build"]
        found.append(
            f"Incremental at {run['rows']:,} rows with no new file: `dbt build` "
            f"{unchanged['wall_seconds']:.1f} s."
        )
        if "model_seconds" in unchanged and "model_seconds" in full:
            found.append(
                incremental_split(f"With no new file at {run['rows']:,} rows", full, unchanged)
            )
        for delivery, step in enumerate(run["incremental_builds"], start=1):
            added, after = step["file"], step["build"]
            found.append(
                f"Incremental file {delivery} at {run['rows']:,} rows: {added['rows']:,} rows "
                f"({added['new_rows']:,} new runs, {added['late_rows']} late runs dated "
                f"{added['late_rows_date']}, one exact duplicate line), `dbt build` "
                f"{after['wall_seconds']:.1f} s; afterwards "
                f"{after['warehouse']['accepted_runs']:,} accepted runs, rejected "
                f"{after['warehouse']['rejected']}."
            )
            if "model_seconds" in after and "model_seconds" in full:
                found.append(
                    incremental_split(
                        f"Incremental file {delivery} at {run['rows']:,} rows", full, after
                    )
                )
        spill = run.get("spill_build")
        if spill and spill.get("status") == "failed":
            found.append(
                f"At {run['rows']:,} rows the build with memory_limit {spill['memory_limit']} "
                "failed (see the JSON)."
            )
        elif spill:
            found.append(
                f"At {run['rows']:,} rows with memory_limit {spill['memory_limit']} "
                f"({spill['memory_limit_bytes'] / run['data']['bytes']:.0%} of the raw data): the "
                f"build finished in {spill['wall_seconds']:.1f} s (exit {spill['exit_code']}), "
                f"peak memory {gib(spill['peak_rss_bytes'])} "
                f"({gib(spill['peak_rss_bytes'] - run['startup']['peak_rss_bytes'])} above dbt's "
                f"own), DuckDB temp files up to {gib(spill['peak_spill_bytes'])}."
            )
        pandas_run = run["pandas"]
        if "peak_rss_bytes" in pandas_run:
            found.append(
                f"pandas at {run['rows']:,} rows: peak memory {gib(pandas_run['peak_rss_bytes'])}; "
                f"the lower bound's: {gib(run['lower_bound']['peak_rss_bytes'])}."
            )
    return found


def write_markdown(path: Path, results: dict[str, Any]) -> None:
    block = (
        f"{MARKER_START}\n{table(results)}\n"
        + "\n".join(f"- {note}" for note in notes(results))
        + f"\n\nFigures: `docs/benchmarks/build.json`.\n{MARKER_END}"
    )
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if MARKER_START in text and MARKER_END in text:
        before, rest = text.split(MARKER_START, 1)
        text = before + block + rest.split(MARKER_END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Results\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def versions() -> dict[str, str]:
    found = {}
    for name in ("dbt-core", "dbt-duckdb", "duckdb", "pandas", "numpy", "pyarrow"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["python"] = platform.python_version()
    return found


def project_state() -> dict[str, Any]:
    """The commit measured and the files changed in the working tree (models being edited
    change the figures)."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
        ).stdout.strip()

    changed = git("status", "--porcelain", "--", "models", "macros", "dbt_project.yml")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_model_changes": [line[3:] for line in changed.splitlines()],
    }


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} {platform.machine()}"


# ---------------------------------------------------------------------------
# Main


def benchmark_size(work: Path, rows: int, args: argparse.Namespace) -> dict[str, Any]:
    raw = work / "raw"
    run: dict[str, Any] = {"rows": rows}
    log(f"{rows:,}: generating raw JSONL")
    run["data"] = generate_raw(raw, rows, args.base_rows, args.split, args.memory_limit)
    log(f"{rows:,}: {run['data']['files']} files, {gib(run['data']['bytes'])}")
    dbt_vars = project_vars({"raw_path": str(raw)})

    build_dir = work / "build"
    db_path = build_dir / "warehouse.duckdb"
    log(f"{rows:,}: dbt build (full, memory_limit {args.memory_limit})")
    run["full_build"] = dbt_build(build_dir, db_path, raw, args.memory_limit)
    run["full_build"]["warehouse"] = warehouse_counts(db_path)
    log(f"{rows:,}: full build {run['full_build']['wall_seconds']:.1f} s")
    log(f"{rows:,}: start-up (a build that selects nothing)")
    run["startup"] = dbt_build(
        build_dir, db_path, raw, args.memory_limit, ["--select", SELECTS_NOTHING]
    )
    run["startup"]["wall_minus_dbt_elapsed_seconds_of_full_build"] = round(
        run["full_build"]["wall_seconds"] - run["full_build"]["dbt_elapsed_seconds"], 2
    )

    log(f"{rows:,}: lower bound (one DuckDB statement)")
    run["lower_bound"] = run_child(
        "lower-bound", raw, dbt_vars, args.memory_limit, args.child_timeout_minutes, None
    )
    if args.skip_pandas:
        run["pandas"] = {"status": "skipped (--skip-pandas)"}
    else:
        log(f"{rows:,}: pandas")
        run["pandas"] = run_child(
            "pandas",
            raw,
            dbt_vars,
            args.memory_limit,
            args.child_timeout_minutes,
            parse_bytes(args.pandas_address_space_cap),
        )

    if args.spill_memory_limit:
        log(f"{rows:,}: dbt build with memory_limit {args.spill_memory_limit}")
        spill_dir = work / "spill"
        try:
            run["spill_build"] = dbt_build(
                spill_dir, spill_dir / "warehouse.duckdb", raw, args.spill_memory_limit
            )
        except RuntimeError as error:  # a limit too small for some operator: record it
            run["spill_build"] = {
                "status": "failed",
                "memory_limit": args.spill_memory_limit,
                "error": str(error)[-2000:],
            }
        shutil.rmtree(spill_dir)

    log(f"{rows:,}: incremental build with no new file")
    run["unchanged_build"] = dbt_build(build_dir, db_path, raw, args.memory_limit)
    run["incremental_builds"] = []
    for delivery, fraction in enumerate(args.incremental_fraction, start=1):
        new_rows = max(1, round(rows * fraction))
        log(f"{rows:,}: incremental file {delivery} ({new_rows:,} new rows)")
        added = add_incremental_file(raw, new_rows, args.late_rows, args.memory_limit, delivery)
        build = dbt_build(build_dir, db_path, raw, args.memory_limit)
        build["warehouse"] = warehouse_counts(db_path)
        run["incremental_builds"].append({"file": added, "build": build})
    shutil.rmtree(build_dir)

    run["summary"] = summary(run)
    shutil.rmtree(raw)
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=positive_int, nargs="+", default=[1_000_000], help="sizes (default 1M)"
    )
    parser.add_argument(
        "--base-rows",
        type=positive_int,
        default=50_000,
        help="rows the demo generator writes before replication (default 50000)",
    )
    parser.add_argument(
        "--split", choices=("day", "week"), default="day", help="one raw file per day or week"
    )
    parser.add_argument(
        "--memory-limit",
        type=memory_size,
        default=os.environ.get("AGENT_SEGMENTS_MEMORY_LIMIT", "8GB"),
        help="DuckDB memory_limit of the builds and the lower bound (default: the profile's)",
    )
    parser.add_argument(
        "--spill-memory-limit",
        type=memory_size,
        default="1GB",
        help="memory_limit of the extra spill build; '0' skips it (default 1GB)",
    )
    parser.add_argument(
        "--incremental-fraction",
        type=float,
        nargs="+",
        default=[0.01, 0.1],
        help="new runs in each incremental file, as a share of the rows, one build per file "
        "in turn (default 0.01 0.1)",
    )
    parser.add_argument(
        "--late-rows",
        type=positive_int,
        default=20,
        help="runs in the incremental file dated on the first day (default 20)",
    )
    parser.add_argument(
        "--child-timeout-minutes",
        type=float,
        default=60.0,
        help="time limit of the lower bound and of pandas, each (default 60)",
    )
    parser.add_argument(
        "--pandas-address-space-cap",
        type=memory_size,
        default="16GiB",
        help="RLIMIT_AS of the pandas process (default 16GiB)",
    )
    parser.add_argument("--skip-pandas", action="store_true", help="no pandas run")
    parser.add_argument(
        "--json", type=Path, default=PROJECT_DIR / "docs/benchmarks/build.json", help="results"
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=PROJECT_DIR / "docs/benchmarks.md",
        help="page whose results block is rewritten",
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a new temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    # The measured subprocesses call this script again.
    parser.add_argument("--child", choices=("lower-bound", "pandas"), help=argparse.SUPPRESS)
    parser.add_argument("--child-raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-vars", help=argparse.SUPPRESS)
    parser.add_argument("--child-address-space-cap", type=int, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.child:
        return child_main(args)
    if args.spill_memory_limit == "0":
        args.spill_memory_limit = None
    if not all(0 < fraction < 1 for fraction in args.incremental_fraction):
        build_parser().error("--incremental-fraction must be in (0, 1)")
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="benchmark_build_"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "project": project_state(),
        "command": "scripts/benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "memory_limit": args.memory_limit,
        "peak_memory_method": "VmHWM (peak resident set) of the measured process and its "
        "descendants from /proc, polled every 0.2 s",
        "startup_method": f"wall time of `dbt build --select {SELECTS_NOTHING}` (selects "
        "nothing) after the full build, same vars and target path",
        "runs": [],
    }
    try:
        for rows in sorted(args.rows):
            results["runs"].append(benchmark_size(work / f"rows_{rows}", rows, args))
            figures = results["runs"][-1]["summary"]
            log(f"{rows:,}: {json.dumps(figures)}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    write_benchmark_results(results, started, args.json, args.markdown, write_markdown, table)
    for run in results["runs"]:
        figures = run["summary"]
        print(
            f"{run['rows']:,} rows: full build (start-up excluded) / lower bound = "
            f"{figures.get('full_build_over_lower_bound', '-')}x; "
            f"full build / pandas = {figures.get('full_build_over_pandas', '-')}x"
        )
    print(f"total {results['total_minutes']} min; figures in {args.json}")
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
