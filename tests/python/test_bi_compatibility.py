"""A DuckDB 1.x client (as in BI drivers) reads the published marts and the DuckDB file.

Most BI drivers bundle DuckDB 1.x, which cannot open a file in DuckDB 2.x's
default storage format. The profile writes the 1.x-compatible format, and every
complete build publishes the marts as a Parquet snapshot (on-run-end hook,
docs/reliability.md). The 1.x client lives in its own virtualenv
(.venv-duckdb1, made by `make setup`), like a BI driver; it runs the SQL recipe
of docs/reliability.md and scripts/marts_snapshot.py as BI users would.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import duckdb
import marts_snapshot
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
# Runs inside the DuckDB 1.x virtualenv: row counts of every mart in the file and
# through the SQL recipe (given as the second argument), and the alerting segments.
READ_WITH_DUCKDB1 = """
import json, sys
import duckdb
db_path, recipe, marts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
connection = duckdb.connect(db_path, read_only=True)
snapshot = duckdb.connect()
snapshot.execute(recipe)
print(json.dumps({
    "version": duckdb.__version__,
    "file_rows": {m: connection.execute(f"select count(*) from marts.{m}").fetchall()[0][0]
                  for m in marts},
    "parquet_rows": {m: snapshot.execute(f"select count(*) from marts.{m}").fetchall()[0][0]
                     for m in marts},
    "alerts": sorted(snapshot.execute(
        "select dimension || '=' || segment_value from marts.segment_completion"
        " where status = 'alert'").fetchall()),
}))
"""
RECIPE_MARKER = "<!-- bi-recipe"


@pytest.fixture(scope="module")
def story_build(dbt_build, story_raw):
    build = dbt_build(story_raw)
    assert not build.unexpected_failures(), build.describe()
    return build


def export_dir(build) -> Path:
    return build.db_path.parent / "marts_parquet"


def row_counts(db_path: Path) -> dict[str, int]:
    with duckdb.connect(str(db_path), read_only=True) as connection:
        return {
            mart: connection.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]
            for mart in MARTS
        }


def bi_recipe(export_folder: Path) -> str:
    """The DuckDB SQL recipe of docs/reliability.md, pointed at `export_folder`."""
    text = (PROJECT_DIR / "docs" / "reliability.md").read_text()
    found = re.search(re.escape(RECIPE_MARKER) + r".*?```sql\n(.*?)```", text, re.DOTALL)
    assert found, f"docs/reliability.md has no SQL block after {RECIPE_MARKER}"
    assert "/abs/path/data/marts_parquet" in found.group(1)
    return found.group(1).replace("/abs/path/data/marts_parquet", str(export_folder))


def test_every_mart_is_published_even_when_the_gap_test_fails(story_build):
    assert story_build.gap_test_failures(), "the story demo should fail its gap test"
    snapshot = marts_snapshot.current_snapshot(export_dir(story_build))
    assert snapshot.build_id == story_build.run_results["metadata"]["invocation_id"]
    expected = row_counts(story_build.db_path)
    assert {mart: snapshot.row_counts[mart] for mart in MARTS} == expected
    with marts_snapshot.connect(snapshot) as connection:
        assert not marts_snapshot.problems(snapshot, connection)
        for mart in MARTS:
            rows = connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            assert rows == expected[mart], mart
    assert expected["segment_completion"] > 0


def test_a_duckdb_1_client_reads_the_file_and_the_published_marts(story_build):
    if not DUCKDB1_PYTHON.exists():
        pytest.skip(f"{DUCKDB1_PYTHON} is missing: `make setup` creates the DuckDB 1.x client")
    completed = subprocess.run(
        [
            str(DUCKDB1_PYTHON),
            "-c",
            READ_WITH_DUCKDB1,
            str(story_build.db_path),
            bi_recipe(export_dir(story_build)),
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


def test_the_reader_helper_runs_on_a_duckdb_1_client(story_build):
    if not DUCKDB1_PYTHON.exists():
        pytest.skip(f"{DUCKDB1_PYTHON} is missing: `make setup` creates the DuckDB 1.x client")
    completed = subprocess.run(
        [
            str(DUCKDB1_PYTHON),
            str(PROJECT_DIR / "scripts" / "marts_snapshot.py"),
            str(export_dir(story_build)),
            "--check",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert story_build.run_results["metadata"]["invocation_id"] in completed.stdout
    assert "every file matches the manifest" in completed.stdout


def test_the_recipe_names_every_mart():
    """A new mart needs its line in the recipe, or BI tools never see it."""
    views = set(re.findall(r"create or replace view marts\.(\w+)", bi_recipe(Path("/x"))))
    assert views == {path.stem for path in (PROJECT_DIR / "models" / "marts").glob("*.sql")}
