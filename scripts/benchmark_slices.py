"""Benchmark the slice search (segment_slices and friends) against a single GROUP BY GROUPING
SETS pass and against the reference slice finders (SliceLine, DivExplorer).

A script, not a test: run it once on a quiet machine and record the figures.

    .venv/bin/python scripts/benchmark_slices.py            # 1M and 10M tasks, ~20 min

What it does, per size:

1. 1M tasks: generate the story profile as parquet (--tasks-per-week scales it), run
   `dbt build` on the whole project with 8 dimensions and levels up to 3, then
   `dbt run --select int_slice_counts_daily+` (the slice models; segment_alerts, which also
   reads the early-warning models, is left out). Larger sizes: the 1M build's task table
   (fct_task_runs) replicated k times with unique task ids, then the same `dbt run`; the
   pipeline before the slices (JSON validation of raw records) takes minutes per million rows
   here and is not what is measured. Replication keeps every slice's rates, so the slices are
   the same as at 1M with k times the counts. The run is a --full-refresh: the day-by-day
   counts are counted afresh, as in a first build.
2. The lower bound: one GROUP BY GROUPING SETS pass over the same tasks with the same sets,
   written here (one_pass_sql; the project counts day by day, int_slice_counts_daily, so that
   an incremental build recounts only changed days), run alone in DuckDB; and the scoring
   alone (the compiled int_slices_scored reading the pass's counts: Fisher tails, BH,
   shrinkage, redundancy).
3. SliceLine (alpha 0.95, k 10, max_l 3, min_sup = slice_min_support) and DivExplorer (FP-growth
   with min_support = slice_min_support / N, itemsets up to 3 items) on the same tasks, split so
   that high-cardinality dimensions enter only pairs, as in the mart
   (tests/python/slice_checks.py). Each runs in a subprocess with a time limit and a memory cap;
   loading the tasks is not timed.

Results: docs/benchmarks/slices.json, a table on stdout and in docs/combinations.md (between the
benchmark markers). Generated data and warehouses are deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
from cli_support import benchmark_dbt_environment, write_benchmark_results

PROJECT_DIR = Path(__file__).resolve().parents[1]
TESTS_DIR = PROJECT_DIR / "tests" / "python"
sys.path.insert(0, str(TESTS_DIR))
import slice_checks  # noqa: E402  (the reference runs shared with the tests)

DBT = PROJECT_DIR / ".venv" / "bin" / "dbt"
DIMENSIONS = [
    "customer",
    "customer_tier",
    "team",
    "task_type",
    "agent_version",
    "missing_required_fields",
    "input_length",
    "request_complexity",
]
WEEKS = 8
SLICE_SELECTOR = [
    "--select",
    "int_slice_counts_daily+",
    "--exclude",
    "segment_alerts",
    "--full-refresh",
]
SLICE_MODELS = (
    "int_slice_counts_daily",
    "int_slice_counts",
    "int_slices_scored",
    "segment_completion",
    "segment_slices",
    "slice_attribution",
    "segment_pareto",
)
CONFIG = slice_checks.SliceConfig(
    dimensions=tuple(sorted(DIMENSIONS)),
    high_cardinality=frozenset({"customer"}),
    max_level=3,
    min_support=10,
    segment_min_tasks=30,
)
MARKER_START = "<!-- benchmark:start -->"
MARKER_END = "<!-- benchmark:end -->"


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# ---------------------------------------------------------------------------
# dbt


def dbt_vars(raw_path: Path) -> str:
    return json.dumps(
        {
            "raw_path": str(raw_path),
            "segment_dimensions": DIMENSIONS,
            "max_slice_level": 3,
            "segment_gap_severity": "warn",
        }
    )


def run_dbt(command: list[str], db_path: Path, work: Path, raw_path: Path) -> dict[str, Any]:
    """Run a dbt command; wall time, exit code and per-node timings from run_results.json."""
    target = work / "target"
    environment = benchmark_dbt_environment(db_path, PROJECT_DIR)
    load_before = load_average()
    started = time.perf_counter()
    completed = subprocess.run(
        [
            str(DBT),
            *command,
            "--vars",
            dbt_vars(raw_path),
            "--target-path",
            str(target),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    results = json.loads((target / "run_results.json").read_text())
    nodes = {r["unique_id"].split(".")[-1]: r for r in results["results"]}
    errors = [n for n, r in nodes.items() if r["status"] in ("error", "runtime error")]
    if errors:
        raise RuntimeError(f"dbt {command[0]} failed on {errors}:\n{completed.stdout[-3000:]}")
    models = {
        name: round(r["execution_time"], 2)
        for name, r in nodes.items()
        if r["unique_id"].startswith("model.")
    }
    return {
        "command": "dbt " + " ".join(command),
        "exit_code": completed.returncode,
        "wall_seconds": round(wall, 1),
        "dbt_elapsed_seconds": round(results["elapsed_time"], 1),
        "slice_model_seconds": round(sum(models.get(m, 0.0) for m in SLICE_MODELS), 2),
        "model_seconds": dict(sorted(models.items(), key=lambda item: -item[1])),
        "load_average": [load_before, load_average()],
        "target": str(target),
    }


# ---------------------------------------------------------------------------
# DuckDB lower bound


def compiled(target: Path, model: str) -> str:
    return (
        target / "compiled" / "agent_segments" / "models" / "intermediate" / f"{model}.sql"
    ).read_text()


def slice_label_sql(columns: dict[str, str], template: str) -> str:
    """A slice's label in a GROUPING SETS pass: `template` (with {name} and {column}) for
    each dimension the row is grouped by, joined by ' AND ' as the models join them.
    `columns` maps dimension names, sorted, to their columns."""
    cases = ", ".join(
        f"case when grouping({column}) = 0 then {template.format(name=name, column=column)} end"
        for name, column in columns.items()
    )
    return f"concat_ws(' AND ', {cases})"


def slice_level_sql(columns: dict[str, str]) -> str:
    """How many dimensions a row of a GROUPING SETS pass is grouped by."""
    return " + ".join(f"1 - grouping({column})" for column in columns.values())


def grouping_sets_sql(config: slice_checks.SliceConfig, columns: dict[str, str]) -> str:
    """The sets the models search (level by level), then the population `()`."""
    sets = sorted(slice_checks.dimension_sets(config), key=lambda s: (len(s), s))
    return (
        "".join("(" + ", ".join(columns[name] for name in slice_set) + "), " for slice_set in sets)
        + "()"
    )


def one_pass_sql(config: slice_checks.SliceConfig, min_support: int) -> str:
    """int_slice_counts in one GROUP BY GROUPING SETS pass over the tasks in the evaluation
    window (int_tasks_segment_values), with its columns and its minimum support."""
    columns = {name: slice_checks.dimension_column(name) for name in sorted(config.dimensions)}
    return f"""
        select * from (
            select
                {", ".join(columns.values())},
                {slice_label_sql(columns, "'{name}'")} as slice_dimensions,
                {slice_label_sql(columns, "'{name}=' || {column}")} as slice_key,
                {slice_label_sql(columns, "{column}")} as slice_values,
                {slice_level_sql(columns)} as slice_level,
                count(case when is_counted then 1 end) as task_count,
                count(case when is_success then 1 end) as completed_count,
                count(case when outcome = 'excluded' then 1 end) as excluded_count
            from intermediate.int_tasks_segment_values
            where is_in_evaluation_window
            group by grouping sets ({grouping_sets_sql(config, columns)})
        )
        where slice_level = 0 or (slice_level = 1 and task_count > 0)
            or task_count >= {min_support}
    """


def single_pass(db_path: Path, target: Path, repeats: int) -> dict[str, Any]:
    """The grouping-sets pass alone, the scoring alone, and the Fisher tail size."""
    counts_sql = one_pass_sql(CONFIG, CONFIG.min_support)
    scored_sql = compiled(target, "int_slices_scored")
    relation = re.search(r'"[^"]+"\."intermediate"\."int_slice_counts"', scored_sql)
    if relation is None:
        raise RuntimeError("int_slices_scored does not read int_slice_counts")
    with duckdb.connect(str(db_path)) as connection:
        connection.execute("set threads = 2")
        connection.execute("set TimeZone = 'UTC'")
        passes = []
        for _ in range(repeats):
            started = time.perf_counter()
            connection.execute(f"create or replace temp table bench_counts as {counts_sql}")
            passes.append(time.perf_counter() - started)
        started = time.perf_counter()
        connection.execute(
            "create or replace temp table bench_scored as "
            + scored_sql.replace(relation.group(0), "bench_counts")
        )
        scoring = time.perf_counter() - started
        slices, tested, terms, tasks = connection.execute(
            """
            with population as (
                select task_count as pop_tasks, task_count - completed_count as pop_failed
                from bench_counts where slice_level = 0
            ),
            tested as (
                select
                    task_count as n_tasks,
                    task_count - completed_count as n_failed,
                    pop_tasks,
                    pop_failed
                from bench_counts cross join population
                where slice_level > 0 and task_count >= 30
            )
            select
                (select count(*) from bench_counts where slice_level > 0),
                count(*),
                sum(least(n_tasks, pop_failed, floor(
                    greatest(n_failed::double, n_tasks * pop_failed / pop_tasks::double) + 20
                    + 12 * sqrt(n_tasks * (pop_failed / pop_tasks::double)
                        * (1 - pop_failed / pop_tasks::double)
                        * (pop_tasks - n_tasks) / greatest(pop_tasks - 1, 1)::double)
                )) - n_failed + 1),
                max(pop_tasks)
            from tested
            """
        ).fetchone()
    return {
        "grouping_sets_pass_seconds": round(min(passes), 2),
        "grouping_sets_pass_runs": [round(p, 2) for p in passes],
        "scoring_given_counts_seconds": round(scoring, 2),
        "grouping_sets": len(slice_checks.dimension_sets(CONFIG)),
        "slices": int(slices),
        "tested_slices": int(tested),
        "fisher_tail_terms": int(terms),
        "counted_tasks": int(tasks),
    }


# ---------------------------------------------------------------------------
# Reference packages, each in a subprocess with a time limit and a memory cap

CHILD = r"""
import json, resource, sys, time, warnings
cap = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.path.insert(0, sys.argv[3])
warnings.filterwarnings("ignore")
import duckdb
import slice_checks as sc
which, db_path = sys.argv[1], sys.argv[2]
dimensions = json.loads(sys.argv[5])
config = sc.SliceConfig(tuple(sorted(dimensions)), frozenset({"customer", "user"}) &
                        set(dimensions), 3, 10, 30)
columns = ", ".join(f'{sc.dimension_column(d)} as "{d}"' for d in config.dimensions)
with duckdb.connect(db_path, read_only=True) as connection:
    tasks = connection.execute(
        f"select {columns}, case when is_success then 0 else 1 end as failed "
        "from intermediate.int_tasks_segment_values where is_counted"
    ).df()
for d in config.dimensions:
    tasks[d] = tasks[d].astype("category")
started = time.perf_counter()
try:
    if which == "sliceline":
        found = sc.run_sliceline(tasks, config, alpha=0.95, k=10)
    else:
        found = sc.run_divexplorer(tasks, config).slices
        found = found.sort_values("divergence", ascending=False)
    result = {"status": "finished", "seconds": round(time.perf_counter() - started, 1),
              "slices_returned": len(found), "top_slice": found.iloc[0]["slice_key"]}
except MemoryError:
    result = {"status": f"out of memory ({cap / 2**30:g} GiB cap)",
              "seconds": round(time.perf_counter() - started, 1)}
result["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 1)
print("RESULT " + json.dumps(result))
"""


def run_reference(
    which: str, db_path: Path, timeout_minutes: float, memory_cap_gb: float
) -> dict[str, Any]:
    load_before = load_average()
    command = [
        sys.executable,
        "-c",
        CHILD,
        which,
        str(db_path),
        str(TESTS_DIR),
        str(int(memory_cap_gb * 2**30)),
        json.dumps(DIMENSIONS),
    ]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_minutes * 60, check=False
        )
    except subprocess.TimeoutExpired:
        return {
            "status": f"did not finish in {timeout_minutes:g} min",
            "seconds": None,
            "load_average": [load_before, load_average()],
        }
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        tail = (completed.stderr or completed.stdout)[-600:]
        oom = "MemoryError" in tail or "Unable to allocate" in tail or completed.returncode < 0
        return {
            "status": f"out of memory ({memory_cap_gb:g} GiB cap)"
            if oom
            else f"failed: {tail.strip()[-300:]}",
            "seconds": None,
            "load_average": [load_before, load_average()],
        }
    result = json.loads(lines[-1][len("RESULT ") :])
    result["load_average"] = [load_before, load_average()]
    return result


# ---------------------------------------------------------------------------
# Data


def generate(raw_path: Path, tasks: int) -> dict[str, Any]:
    sys.path.insert(0, str(PROJECT_DIR / "scripts"))
    import generate_demo_data  # a script beside this one

    started = time.perf_counter()
    summary = generate_demo_data.generate(
        raw_path, "story", WEEKS, round(tasks / WEEKS), seed=7, file_format="parquet"
    )
    return {
        "rows": summary["rows"],
        "tasks": summary["tasks"],
        "seconds": round(time.perf_counter() - started, 1),
    }


def replicate(source_db: Path, db_path: Path, copies: int) -> float:
    """Copy the warehouse and replace fct_task_runs with `copies` copies of its tasks."""
    shutil.copyfile(source_db, db_path)
    started = time.perf_counter()
    with duckdb.connect(str(db_path)) as connection:
        connection.execute(
            f"""
            create table marts.fct_task_runs_replicated as
            select * replace (
                task_id || '~' || cast(copy as varchar) as task_id,
                task_run_id || '~' || cast(copy as varchar) as task_run_id
            )
            from marts.fct_task_runs, (select range as copy from range({copies}))
            """
        )
        connection.execute("drop view marts.fct_task_runs")
        connection.execute("alter table marts.fct_task_runs_replicated rename to fct_task_runs")
        connection.execute("checkpoint")
    return round(time.perf_counter() - started, 1)


# ---------------------------------------------------------------------------
# Report


def ratio(value: float | None, base: float) -> str:
    return "-" if value is None else f"{value / base:.1f}x"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def table(results: dict[str, Any]) -> str:
    header = (
        "| tasks | single GROUPING SETS pass | slice models (dbt) | scoring alone | "
        "SliceLine | DivExplorer |\n|---|---|---|---|---|---|\n"
    )
    lines = []
    for run in results["runs"]:
        base = run["duckdb"]["grouping_sets_pass_seconds"]
        search = run["dbt_slice_models"]["slice_model_seconds"]
        references = []
        for name in ("sliceline", "divexplorer"):
            reference = run[name]
            if reference["status"] != "finished":
                references.append(reference["status"])
            else:
                references.append(
                    f"{seconds(reference['seconds'])} ({ratio(reference['seconds'], search)} "
                    "the slice models)"
                )
        lines.append(
            f"| {run['counted_tasks']:,} | {seconds(base)} | {seconds(search)} "
            f"({ratio(search, base)} the pass) | "
            f"{seconds(run['duckdb']['scoring_given_counts_seconds'])} | "
            f"{references[0]} | {references[1]} |"
        )
    return header + "\n".join(lines) + "\n"


def write_markdown(path: Path, results: dict[str, Any]) -> None:
    full = results.get("full_build")
    notes = [
        f"Measured {results['measured_at']} on {results['machine']}, "
        f"{len(DIMENSIONS)} dimensions, levels up to 3, "
        f"{results['runs'][0]['duckdb']['grouping_sets']} grouping sets, "
        f"{results['runs'][0]['duckdb']['slices']:,} slices. "
        "Load average during the runs is in the JSON."
    ]
    for run in results["runs"]:
        models = run["dbt_slice_models"]["model_seconds"]
        notes.append(
            f"At {run['counted_tasks']:,} tasks the slice models split as "
            + ", ".join(f"{m} {models[m]:.1f} s" for m in SLICE_MODELS if m in models)
            + f"; the scoring alone (Fisher tails over {run['duckdb']['fisher_tail_terms']:,} "
            f"terms for {run['duckdb']['tested_slices']:,} tested slices, BH, shrinkage, "
            f"redundancy) takes {run['duckdb']['scoring_given_counts_seconds']:.1f} s given the "
            f"counts; `dbt run` wall time {run['dbt_slice_models']['wall_seconds']:.0f} s "
            "(with parsing)."
        )
        for name in ("sliceline", "divexplorer"):
            if "peak_rss_gib" in run[name]:
                notes.append(
                    f"{name} at {run['counted_tasks']:,} tasks: peak memory "
                    f"{run[name]['peak_rss_gib']:g} GiB."
                )
    if full:
        notes.append(
            f"Whole-project `dbt build` at {results['runs'][0]['counted_tasks']:,} tasks: "
            f"{full['wall_seconds']:.0f} s wall; the slice models took "
            f"{full['slice_model_seconds']:.1f} s of it (run beside other models)."
        )
    block = (
        f"{MARKER_START}\n{table(results)}\n"
        + "\n".join(notes)
        + f"\nFigures: `docs/benchmarks/slices.json`.\n{MARKER_END}"
    )
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if MARKER_START in text and MARKER_END in text:
        before, rest = text.split(MARKER_START, 1)
        after = rest.split(MARKER_END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n## Benchmark\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def versions() -> dict[str, str]:
    names = ("dbt-core", "dbt-duckdb", "duckdb", "sliceline", "divexplorer", "numba", "pandas")
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--reference-timeout-minutes", type=float, default=3.0)
    parser.add_argument("--memory-cap-gb", type=float, default=20.0)
    parser.add_argument("--skip-full-build", action="store_true", help="no whole-project build")
    parser.add_argument("--json", type=Path, default=PROJECT_DIR / "docs/benchmarks/slices.json")
    parser.add_argument("--markdown", type=Path, default=PROJECT_DIR / "docs/combinations.md")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep generated data and warehouses")
    args = parser.parse_args(argv)

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="benchmark_slices_"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.machine()}",
        "versions": versions(),
        "dimensions": DIMENSIONS,
        "max_slice_level": 3,
        "reference_settings": {
            "sliceline": "alpha 0.95, k 10, max_l 3 (2 with customer), min_sup 10",
            "divexplorer": "FP-growth, min_support 10/N, itemsets up to 3 (2 with customer)",
            "timeout_minutes": args.reference_timeout_minutes,
            "memory_cap_gb": args.memory_cap_gb,
        },
        "runs": [],
    }
    try:
        base_size = min(args.sizes)
        raw = work / "raw"
        log(f"generating ~{base_size:,} tasks (story, parquet)")
        results["data"] = generate(raw, base_size)
        base_db = work / "base.duckdb"
        if not args.skip_full_build:
            log("dbt build (whole project)")
            results["full_build"] = run_dbt(["build"], base_db, work / "full", raw)
        else:
            log("dbt build up to the slices")
            run_dbt(["build", "--select", "+int_tasks_segment_values"], base_db, work / "up", raw)
        for size in sorted(args.sizes):
            copies = max(1, round(size / base_size))
            db_path = base_db if copies == 1 else work / f"x{copies}.duckdb"
            run: dict[str, Any] = {"target_tasks": size, "replicated": copies}
            if copies > 1:
                log(f"replicating the task table {copies}x")
                run["replicate_seconds"] = replicate(base_db, db_path, copies)
            log(f"{size:,}: dbt run {' '.join(SLICE_SELECTOR)}")
            run["dbt_slice_models"] = run_dbt(
                ["run", *SLICE_SELECTOR], db_path, work / f"slices_{copies}", raw
            )
            log(f"{size:,}: DuckDB single pass")
            target = Path(run["dbt_slice_models"]["target"])
            run["duckdb"] = single_pass(db_path, target, repeats=2 if copies == 1 else 1)
            run["counted_tasks"] = run["duckdb"]["counted_tasks"]
            for which in ("sliceline", "divexplorer"):
                log(f"{size:,}: {which}")
                run[which] = run_reference(
                    which, db_path, args.reference_timeout_minutes, args.memory_cap_gb
                )
            results["runs"].append(run)
            if db_path != base_db:
                db_path.unlink(missing_ok=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    write_benchmark_results(results, started, args.json, args.markdown, write_markdown, table)
    print(f"total {results['total_minutes']} min; figures in {args.json}")
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
