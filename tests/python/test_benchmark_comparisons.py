"""The benchmark's comparison implementations (scripts/benchmark.py) compute what the marts hold.

The benchmark reports the full build against two other ways of doing the same work: one DuckDB
statement over the raw files (the engine's lower bound) and a pandas notebook. Their ratios mean
something only if they compute the same numbers. On a few thousand rows written by the
benchmark's own generator, with its incremental file added (new runs, late runs, one exact
duplicate line), one `dbt build` must agree with:

* the lower-bound statement: every slice's task, completed and excluded counts equal
  int_slice_counts (the counts behind segment_slices), the same slices and no more;
* the pandas table: segment_completion's counts, rate, Wilson interval and gap;
* the slice benchmark's lower bound (scripts/benchmark_slices.py, one GROUPING SETS pass over
  the tasks): int_slice_counts row for row, which the project counts day by day and sums.

The marts show user and customer ids as pseudonyms; the comparisons, like a notebook, use the
delivered ids, so the mart's values are mapped back through restricted.pseudonym_lookup.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import slice_checks
from conftest import PROJECT_DIR, BuildResult, format_problems, segment_mismatches

sys.path.insert(0, str(PROJECT_DIR / "scripts"))
import benchmark  # scripts/ is not a package: found through the path above
import benchmark_slices

ROWS = 3_000
# A base smaller than ROWS, so the rows are replicated (new ids, shifted dates).
BASE_ROWS = 1_400
PSEUDONYMOUS_DIMENSIONS = {"customer": "customer", "user": "user"}
SEGMENT_COLUMNS = [
    "task_count",
    "completed_count",
    "completion_rate",
    "completion_rate_ci_low",
    "completion_rate_ci_high",
    "gap_pp",
]


@pytest.fixture(scope="module")
def benchmark_raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    raw = tmp_path_factory.mktemp("benchmark") / "raw"
    generated = benchmark.generate_raw(raw, ROWS, BASE_ROWS, "day")
    added = benchmark.add_incremental_file(raw, new_rows=40, late_rows=5, memory_limit="1GB")
    return raw, generated, added


@pytest.fixture(scope="module")
def build(dbt_build, benchmark_raw) -> BuildResult:
    raw, _, _ = benchmark_raw
    result = dbt_build(raw)
    assert result.db_path.exists(), result.describe()
    assert not result.unexpected_failures(), result.describe()
    return result


@pytest.fixture(scope="module")
def delivered_ids(build) -> dict[tuple[str, str], str]:
    """(dimension, pseudonym) -> delivered id; empty when the build shows delivered ids."""
    tables = build.query(
        "select table_name from information_schema.tables "
        "where table_schema = 'restricted' and table_name = 'pseudonym_lookup'"
    )
    if tables.empty:
        return {}
    lookup = build.table("restricted.pseudonym_lookup")
    return {
        (row["id_kind"], row["pseudonym"]): row["delivered_id"] for row in lookup.to_dict("records")
    }


def test_generator_writes_exactly_the_rows_asked_for_with_unique_ids(benchmark_raw):
    raw, generated, added = benchmark_raw
    with duckdb.connect() as connection:
        lines, run_ids, dated_files = connection.execute(
            f"""
            select count(*), count(distinct task_run_id),
                count(distinct filename) filter (
                    where regexp_matches(filename, 'task_runs_\\d{{4}}-\\d{{2}}-\\d{{2}}\\.jsonl$'))
            from {benchmark.read_raw_sql(sorted(raw.glob("task_runs_*.jsonl")), filename=True)}
            """
        ).fetchone()
    files = len(list(raw.glob("task_runs_*.jsonl")))
    assert generated["files"] + 1 == files == dated_files
    # The incremental file holds the new and late runs and one line already delivered.
    assert lines == ROWS + added["rows"]
    assert run_ids == ROWS + added["rows"] - 1


def test_the_build_rejects_only_the_duplicate_line(build, benchmark_raw):
    _, _, added = benchmark_raw
    rejected = build.table("marts.rejected_task_runs")
    assert rejected["rejection_reason"].tolist() == ["duplicate_delivery"]
    accepted = build.query("select sum(attempt_count) as runs from marts.fct_task_runs")
    assert int(accepted["runs"].iloc[0]) == ROWS + added["rows"] - 1


def _with_delivered_ids(frame: pd.DataFrame, columns: dict[str, str], lookup: dict) -> pd.DataFrame:
    """Mart values of the pseudonymous dimensions (column -> id kind) as delivered ids."""
    frame = frame.copy()
    for column, kind in columns.items():
        frame[column] = [
            lookup.get((kind, value), value) if isinstance(value, str) else value
            for value in frame[column]
        ]
    return frame


def _by_dimension_values(frame: pd.DataFrame, dimension_columns: list[str]) -> pd.DataFrame:
    keys = frame[dimension_columns].astype(object).where(frame[dimension_columns].notna(), None)
    return frame.assign(slice=[tuple(row) for row in keys.itertuples(index=False)]).set_index(
        "slice"
    )


def test_lower_bound_statement_counts_equal_int_slice_counts(build, delivered_ids):
    dbt_vars = benchmark.project_vars(build.vars)
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        lower_bound = connection.execute(benchmark.lower_bound_sql(build.raw_path, dbt_vars)).df()
    config = slice_checks.slice_config(build.vars)
    dimension_columns = [slice_checks.dimension_column(name) for name in config.dimensions]
    pseudonymous = {
        slice_checks.dimension_column(name): kind
        for name, kind in PSEUDONYMOUS_DIMENSIONS.items()
        if name in config.dimensions
    }
    mart = _with_delivered_ids(
        build.table("intermediate.int_slice_counts"), pseudonymous, delivered_ids
    )
    mart = _by_dimension_values(mart, dimension_columns)
    lower_bound = _by_dimension_values(lower_bound, dimension_columns)

    assert mart.index.is_unique and lower_bound.index.is_unique
    assert set(mart.index) == set(lower_bound.index)
    counts = ["slice_level", "task_count", "completed_count", "excluded_count"]
    joined = mart[counts].merge(
        lower_bound[counts], left_index=True, right_index=True, suffixes=("", "_lower_bound")
    )
    differing = [
        f"{key} {column}: mart {row[column]}, lower bound {row[column + '_lower_bound']}"
        for key, row in joined.iterrows()
        for column in counts
        if row[column] != row[column + "_lower_bound"]
    ]
    assert not differing, format_problems(differing)
    # Every grouping set of the mart is there, not only the population.
    assert set(mart["slice_level"]) == set(range(config.max_level + 1))


def test_slice_benchmark_one_pass_equals_int_slice_counts(build):
    config = slice_checks.slice_config(build.vars)
    one_pass = benchmark_slices.one_pass_sql(config, config.min_support)
    with duckdb.connect(str(build.db_path), read_only=True) as connection:
        slices = connection.execute("select count(*) from intermediate.int_slice_counts").fetchone()
        only_one_side = [
            connection.execute(f"select count(*) from ({left} except all {right})").fetchone()[0]
            for left, right in [
                (one_pass, "select * from intermediate.int_slice_counts"),
                ("select * from intermediate.int_slice_counts", one_pass),
            ]
        ]
    assert slices[0] > 100
    assert only_one_side == [0, 0]


def test_pandas_segment_table_equals_segment_completion(build, delivered_ids):
    dbt_vars = benchmark.project_vars(build.vars)
    table = benchmark.pandas_segment_table(build.raw_path, dbt_vars)
    mart = build.table("marts.segment_completion")
    mart["segment_value"] = [
        delivered_ids.get((PSEUDONYMOUS_DIMENSIONS[dimension], value), value)
        if dimension in PSEUDONYMOUS_DIMENSIONS
        else value
        for dimension, value in zip(mart["dimension"], mart["segment_value"], strict=True)
    ]
    problems = segment_mismatches(mart, table, columns=SEGMENT_COLUMNS)
    assert not problems, format_problems(problems)
    assert len(table) == len(mart) > 100
