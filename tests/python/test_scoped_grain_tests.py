"""Grain tests scoped to the rows written since they last passed (issue #4,
macros/rows_built_since_last_pass.sql).

The large tables an incremental build rewrites only in part (the validated
records, the deciding runs, the day-kept tables) carry `row_built_at`; their
grain tests, and those of the views showing them one for one, check the keys
of rows written since the test's last recorded pass, against every row holding
them. These tests plant a second row for a key in a built warehouse and check
what the grain test reports against a plain `group by` over the whole relation:
a repeat written after the last pass fails it, a failed test keeps failing
until the rows are fixed (a failure records no pass), a repeat dated before the
pass is seen only once no pass is on record or the tested view is deployed with
another definition, and an --empty build records none.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import BuildResult, generate_demo, run_dbt_build

PASSES = "test_failures.data_test_passes"


@dataclass(frozen=True)
class GrainTest:
    tested: str  # the relation the test reads
    key: list[str]
    written_in: str  # the table whose rows carry row_built_at
    row_to_copy: str  # which row gets a second copy

    @property
    def node_name(self) -> str:
        name = self.tested.split(".")[1]
        return f"unique_combination_of_columns_{name}_row_built_at__{'__'.join(self.key)}"


VALIDATED = GrainTest(
    "intermediate.int_task_runs_validated",
    ["source_file", "record_number"],
    "intermediate.int_task_runs_validated",
    "true",
)
GRAIN_TESTS = [
    VALIDATED,
    # A key with a null part: a segment's day-end row has no task_sequence.
    GrainTest(
        "intermediate.int_segment_failures_daily",
        ["task_date", "segment_number", "task_sequence"],
        "intermediate.int_segment_failures_daily",
        "task_sequence is null",
    ),
    # A view showing a table's rows: the keys come from the table.
    GrainTest(
        "marts.fct_task_runs",
        ["task_id"],
        "intermediate.int_tasks_joined_to_customers_and_users",
        "true",
    ),
]


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    raw = generate_demo(
        tmp_path_factory.mktemp("scoped_raw"), "story", weeks=2, tasks_per_week=80, seed=5
    )
    build = run_dbt_build(raw, tmp_path_factory.mktemp("scoped_build"))
    assert not build.unexpected_failures(), build.describe()
    return build


def _naive_utc(moment: datetime) -> datetime:
    """As the warehouse stores it: UTC without a zone (a naive value is taken as UTC)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _copy_of(build: BuildResult, tmp_path: Path) -> Path:
    """A work folder holding a copy of the build's warehouse (and target)."""
    work_dir = tmp_path / "work"
    shutil.copytree(build.db_path.parent, work_dir)
    return work_dir


def _run_test(build: BuildResult, work_dir: Path, grain: GrainTest) -> dict:
    """Runs only the grain test on the warehouse in work_dir; its result."""
    ran = run_dbt_build(build.raw_path, work_dir, extra_args=["--select", _node(build, grain)])
    return _result(ran, grain)


def _node(build: BuildResult, grain: GrainTest) -> str:
    (name,) = [
        unique_id.split(".")[2]
        for unique_id in build.node_statuses()
        if unique_id.startswith("test.") and grain.node_name in unique_id
    ]
    return name


def _result(build: BuildResult, grain: GrainTest) -> dict:
    (result,) = [
        result for result in build.run_results["results"] if grain.node_name in result["unique_id"]
    ]
    return result


def _passes(work_dir: Path) -> dict[str, tuple[datetime, str]]:
    with duckdb.connect(str(work_dir / "warehouse.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            f"select test_key, passed_build_started_at, invocation_id from {PASSES}"
        ).fetchall()
    return {key: (started, invocation) for key, started, invocation in rows}


def _pass_of(work_dir: Path, grain: GrainTest) -> tuple[datetime, str]:
    key = (
        f"{grain.tested}:unique_combination_of_columns({', '.join(grain.key)})"
        f" by {grain.written_in}.row_built_at"
    )
    return _passes(work_dir)[key]


def _repeated_keys(work_dir: Path, grain: GrainTest) -> int:
    """The independent answer: keys held by more than one row of the tested relation."""
    with duckdb.connect(str(work_dir / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(
            f"select count(*) from (select {', '.join(grain.key)} from {grain.tested}"
            " group by all having count(*) > 1)"
        ).fetchall()[0][0]


def _plant_copy(work_dir: Path, grain: GrainTest, built_at: datetime) -> None:
    """A second row for one key, as if a build started at `built_at` wrote it."""
    with duckdb.connect(str(work_dir / "warehouse.duckdb")) as connection:
        connection.execute(
            f"insert into {grain.written_in}"
            " select * replace (cast(? as timestamp) as row_built_at)"
            f" from {grain.written_in} where {grain.row_to_copy} limit 1",
            [_naive_utc(built_at)],
        )


def _remove_copies(work_dir: Path, grain: GrainTest, built_at: datetime) -> None:
    with duckdb.connect(str(work_dir / "warehouse.duckdb")) as connection:
        connection.execute(
            f"delete from {grain.written_in} where row_built_at = cast(? as timestamp)",
            [_naive_utc(built_at)],
        )


def test_a_build_records_the_pass_of_each_scoped_grain_test(built_once: BuildResult) -> None:
    """The first build found no pass on record (each test read every row); it
    records one per scoped test, at its start, with its invocation id."""
    passes = _passes(built_once.db_path.parent)
    invocation = built_once.run_results["metadata"]["invocation_id"]
    stamps = built_once.query(
        f"select max(row_built_at), count(distinct row_built_at) from {VALIDATED.tested}"
    )
    stamp = stamps.iloc[0, 0].to_pydatetime()
    assert stamps.iloc[0, 1] == 1
    # The build's start in UTC: after the harness started it, before its results were written.
    finished = datetime.fromisoformat(built_once.run_results["metadata"]["generated_at"])
    assert _naive_utc(built_once.started_at) <= stamp <= _naive_utc(finished)
    for grain in GRAIN_TESTS:
        assert _result(built_once, grain)["status"] == "pass"
        assert _pass_of(built_once.db_path.parent, grain) == (stamp, invocation)
    assert len(passes) == 7, sorted(passes)


@pytest.mark.parametrize("grain", GRAIN_TESTS, ids=lambda grain: grain.tested)
def test_a_repeat_written_after_the_last_pass_fails_until_fixed(
    built_once: BuildResult, grain: GrainTest, tmp_path: Path
) -> None:
    work_dir = _copy_of(built_once, tmp_path)
    first_pass = _pass_of(work_dir, grain)

    planted_at = datetime.now(UTC)
    _plant_copy(work_dir, grain, planted_at)
    assert _repeated_keys(work_dir, grain) == 1
    failed = _run_test(built_once, work_dir, grain)
    assert (failed["status"], failed["failures"]) == ("fail", 1)
    # A failure records no pass: the next plain build (nothing new to load)
    # checks the same rows and fails again.
    assert _pass_of(work_dir, grain) == first_pass
    rebuilt = run_dbt_build(built_once.raw_path, work_dir)
    assert _result(rebuilt, grain)["status"] == "fail", rebuilt.describe()
    assert _pass_of(work_dir, grain) == first_pass

    # Fixed: the test passes, and its pass moves to that invocation's start.
    _remove_copies(work_dir, grain, planted_at)
    assert _repeated_keys(work_dir, grain) == 0
    fixed = _run_test(built_once, work_dir, grain)
    assert fixed["status"] == "pass"
    passed_at, _ = _pass_of(work_dir, grain)
    assert passed_at > _naive_utc(planted_at)


def _repeat_dated_at_the_last_pass(
    built_once: BuildResult, tmp_path: Path, grain: GrainTest
) -> Path:
    """A copy of the warehouse with a repeat dated at the test's last pass, which
    the scoped test does not read (it passes); the copy's work folder."""
    work_dir = _copy_of(built_once, tmp_path)
    first_pass, _ = _pass_of(work_dir, grain)
    _plant_copy(work_dir, grain, first_pass)
    assert _repeated_keys(work_dir, grain) == 1
    assert _run_test(built_once, work_dir, grain)["status"] == "pass"
    return work_dir


def test_a_repeat_dated_before_the_last_pass_is_seen_only_without_a_pass(
    built_once: BuildResult, tmp_path: Path
) -> None:
    """What the scope leaves out: a row dated before the last pass (changed
    outside dbt) is not read again while that pass stands; with no pass on
    record the test reads every row and finds it."""
    work_dir = _repeat_dated_at_the_last_pass(built_once, tmp_path, VALIDATED)

    with duckdb.connect(str(work_dir / "warehouse.duckdb")) as connection:
        connection.execute(f"delete from {PASSES} where test_key like ?", [f"{VALIDATED.tested}:%"])
    whole = _run_test(built_once, work_dir, VALIDATED)
    assert (whole["status"], whole["failures"]) == ("fail", 1)


def test_a_view_deployed_with_another_definition_is_tested_whole(
    built_once: BuildResult, tmp_path: Path
) -> None:
    """A pass covers the view as it was deployed: `dbt test` on an edited view
    before `dbt run` deploys it passes on the old view. Once the view's
    definition changes, no pass covers it, and the test reads every row."""
    fct = GRAIN_TESTS[2]
    work_dir = _repeat_dated_at_the_last_pass(built_once, tmp_path, fct)

    with duckdb.connect(str(work_dir / "warehouse.duckdb")) as connection:
        (definition,) = connection.execute(
            "select sql from duckdb_views()"
            " where schema_name = 'marts' and view_name = 'fct_task_runs'"
        ).fetchone()
        shown = definition.split(" AS ", 1)[1].rstrip().rstrip(";")
        connection.execute(
            f"create or replace view {fct.tested} as select * from ({shown}) as redeployed"
        )
    whole = _run_test(built_once, work_dir, fct)
    assert (whole["status"], whole["failures"]) == ("fail", 1)


def test_an_empty_build_records_no_pass(built_once: BuildResult, tmp_path: Path) -> None:
    empty = run_dbt_build(built_once.raw_path, tmp_path / "work", extra_args=["--empty"])
    assert not empty.unexpected_failures(), empty.describe()
    tables = empty.query(
        "select table_name from information_schema.tables where table_schema = 'test_failures'"
    )
    assert "data_test_passes" not in set(tables["table_name"])
