"""BI tools can read the marts: as Parquet, and from the DuckDB file with a DuckDB 1.x client.

Most BI drivers bundle DuckDB 1.x, which cannot open a file in DuckDB 2.x's
default storage format. The profile writes the 1.x-compatible format, and every
build also exports the marts as Parquet (on-run-end hook). The 1.x client lives
in its own virtualenv (.venv-duckdb1, made by `make setup`), like a BI driver.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, STORY_FAILING_CUSTOMER

DUCKDB1_PYTHON = PROJECT_DIR / ".venv-duckdb1" / "bin" / "python"
MARTS = [
    "fct_task_runs",
    "segment_completion",
    "segment_slices",
    "slice_attribution",
    "segment_pareto",
    "segment_completion_periodic",
    "segment_early_warnings",
    "segment_alerts",
    "intervention_effects",
    "input_field_gaps_by_customer",
    "rejected_task_runs",
]
# Runs inside the DuckDB 1.x virtualenv: row counts of every mart in the file
# and in the Parquet export, and the alerting segments.
READ_WITH_DUCKDB1 = """
import json, sys
import duckdb
db_path, export_dir, marts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
connection = duckdb.connect(db_path, read_only=True)
print(json.dumps({
    "version": duckdb.__version__,
    "file_rows": {m: connection.execute(f"select count(*) from marts.{m}").fetchall()[0][0]
                  for m in marts},
    "parquet_rows": {m: connection.execute(
        f"select count(*) from read_parquet('{export_dir}/{m}.parquet')").fetchall()[0][0]
        for m in marts},
    "alerts": sorted(connection.execute(
        "select dimension || '=' || segment_value from marts.segment_completion"
        " where status = 'alert'").fetchall()),
}))
"""


@pytest.fixture(scope="module")
def story_build(dbt_build, story_raw):
    build = dbt_build(story_raw)
    assert not build.unexpected_failures(), build.describe()
    return build


def row_counts(db_path: Path) -> dict[str, int]:
    with duckdb.connect(str(db_path), read_only=True) as connection:
        return {
            mart: connection.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]
            for mart in MARTS
        }


def test_every_mart_is_exported_as_parquet_even_when_the_gap_test_fails(story_build):
    assert story_build.gap_test_failures(), "the story demo should fail its gap test"
    export_dir = story_build.db_path.parent / "marts_parquet"
    expected = row_counts(story_build.db_path)
    for mart in MARTS:
        path = export_dir / f"{mart}.parquet"
        assert path.exists(), f"{path} missing"
        rows = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
        assert rows == expected[mart], mart
    assert expected["segment_completion"] > 0


def test_a_duckdb_1_client_reads_the_file_and_the_parquet(story_build):
    if not DUCKDB1_PYTHON.exists():
        pytest.skip(f"{DUCKDB1_PYTHON} is missing: `make setup` creates the DuckDB 1.x client")
    completed = subprocess.run(
        [
            str(DUCKDB1_PYTHON),
            "-c",
            READ_WITH_DUCKDB1,
            str(story_build.db_path),
            str(story_build.db_path.parent / "marts_parquet"),
            json.dumps(MARTS),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    assert seen["version"].startswith("1."), seen["version"]
    expected = row_counts(story_build.db_path)
    assert seen["file_rows"] == expected
    assert seen["parquet_rows"] == expected
    assert seen["alerts"] == [
        [f"customer={STORY_FAILING_CUSTOMER}"],
        ["missing_required_fields=3+"],
    ]
