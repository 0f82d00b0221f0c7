"""Incremental loading of raw task runs (issue #4): a plain `dbt build` reads
only the raw files that are new or were rewritten since the last build, and
the marts it leaves are exactly those of a full build on the same files.

The demo logs arrive in three deliveries: two weekly files; two more with a
file of late-arriving runs (dated in the first week), an exact copy of an
already delivered line, a conflicting copy of a run and a run moved to
another task; then the last two weeks, with the first file rewritten without
its first line and with a few more runs, built with a shorter evaluation
window; then the same files with a smaller slice search over one dimension
fewer and a smaller allowance for clock skew. A run dated just beyond the
allowed clock skew arrives with the first delivery: rejected then, it counts
once the clock has passed it, as it does in a full build. Each step is an
incremental build on one warehouse. After the third build and after the last,
a full build of the same folder with the same settings on a new warehouse must
agree with it table for table, intermediate tables included: on DuckDB records
are validated again and tasks decided again only where their inputs changed,
and the facts, the task order, the slice counts and the failures' places are
redone only for changed days (macros/days_to_recount.sql).
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import PROJECT_DIR, BuildResult, generate_demo, run_dbt_build

STAGING_MODEL_SQL = Path(
    "compiled/agent_segments/models/staging/agent_logs/stg_agent_logs__task_runs.sql"
)
# The alert lifecycle depends on the history of builds by design (first seen,
# new / ongoing), so it is the one mart that may differ.
HISTORY_DEPENDENT_MARTS = {"segment_alerts"}
# When the build that wrote a row started (row_built_at, for the scoped grain
# tests): differs between any two builds by design, so tables compare without it.
BUILD_TIME_COLUMNS = ["row_built_at"]


@pytest.fixture(scope="module")
def weekly_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("weekly_raw")
    generate_demo(raw, "story", weeks=6, tasks_per_week=120, seed=11)
    return raw


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _renamed_runs(lines: list[str], suffix: str) -> list[str]:
    """The same runs as new ones: run and task ids get `suffix`."""
    renamed = []
    for line in lines:
        record = json.loads(line)
        record["task_run_id"] += suffix
        record["task_id"] += suffix
        renamed.append(json.dumps(record))
    return renamed


def _late_arrivals(first_week: Path, second_week: Path) -> list[str]:
    """Five new runs dated in the first week, an exact copy of a line already
    delivered, a run delivered again with a different status, and one delivered
    again under another task (its task loses the run)."""
    late = _renamed_runs(_lines(first_week)[:5], "_late")
    late.append(_lines(second_week)[3])
    conflicting = json.loads(_lines(second_week)[4])
    conflicting["status"] = "failed" if conflicting["status"] != "failed" else "completed"
    late.append(json.dumps(conflicting))
    moved = json.loads(_lines(second_week)[5])
    moved["task_id"] += "_moved"
    late.append(json.dumps(moved))
    return late


def _extra_run_dated(line: str, suffix: str, started_at: datetime) -> str:
    """Another run of the task of `line` (its run id gets `suffix`), started at
    `started_at` as attempt 0: it never decides its task, so it moves no
    task's date and no evaluation window."""
    record = json.loads(line)
    record["task_run_id"] += suffix
    record["attempt"] = 0
    record["started_at"] = started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    record["finished_at"] = (started_at + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(record)


def _verdict(build: BuildResult, task_run_id: str) -> str | None:
    verdicts = build.query(
        "select rejection_reason from intermediate.int_task_runs_validated"
        f" where task_run_id = '{task_run_id}'"
    )["rejection_reason"]
    assert len(verdicts) == 1, verdicts
    return verdicts[0]


def _marts(build: BuildResult) -> dict[str, pd.DataFrame]:
    relations = build.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('marts', 'intermediate', 'staging') order by 1, 2"
    )
    frames = {}
    for schema, name in relations.itertuples(index=False):
        if name in HISTORY_DEPENDENT_MARTS:
            continue
        frame = build.table(f"{schema}.{name}").drop(columns=BUILD_TIME_COLUMNS, errors="ignore")
        frames[f"{schema}.{name}"] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return frames


def _assert_same_tables(incremental: BuildResult, full: BuildResult) -> None:
    """Every staging, intermediate and mart table of `incremental` equals that of
    `full`, a full build on the same files with the same settings."""
    assert not full.unexpected_failures(), full.describe()
    incremental_tables, full_tables = _marts(incremental), _marts(full)
    assert incremental_tables.keys() == full_tables.keys()
    for relation, expected in full_tables.items():
        pd.testing.assert_frame_equal(incremental_tables[relation], expected, obj=relation)


def _loaded_files(build: BuildResult) -> str:
    return (build.db_path.parent / "target" / STAGING_MODEL_SQL).read_text()


def test_incremental_builds_equal_a_full_build(weekly_files: Path, tmp_path: Path) -> None:
    weeks = sorted(weekly_files.glob("task_runs_*.jsonl"))
    assert len(weeks) == 6
    arriving = tmp_path / "raw"
    arriving.mkdir()
    for lookup in weekly_files.glob("*.csv"):
        shutil.copy(lookup, arriving)
    warehouse = tmp_path / "incremental"

    def deliver(*paths: Path) -> None:
        for path in paths:
            shutil.copy(path, arriving / path.name)

    deliver(*weeks[:2])
    # A run dated 2 minutes beyond the default clock skew allowance (24 hours): in the
    # future for the first build, not for the third. And one 2 hours ahead: accepted
    # until the fourth build allows 1 hour of skew. Both are extra runs of delivered
    # tasks, so they change attempt counts.
    skew_hours = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
        "max_clock_skew_hours"
    ]
    now = datetime.now(UTC)
    due = now + timedelta(hours=skew_hours, minutes=2)
    (arriving / "task_runs_clock.jsonl").write_text(
        _extra_run_dated(_lines(weeks[0])[7], "_due", due)
        + "\n"
        + _extra_run_dated(_lines(weeks[0])[8], "_ahead", now + timedelta(hours=2))
        + "\n"
    )
    first = run_dbt_build(arriving, warehouse)
    assert not first.unexpected_failures(), first.describe()
    assert _verdict(first, json.loads(_lines(weeks[0])[7])["task_run_id"] + "_due") == (
        "timestamp_in_future"
    )

    deliver(*weeks[2:4])
    (arriving / "task_runs_late_arrivals.jsonl").write_text(
        "\n".join(_late_arrivals(weeks[0], weeks[1])) + "\n"
    )
    second = run_dbt_build(arriving, warehouse)
    assert not second.unexpected_failures(), second.describe()
    staging_sql = _loaded_files(second)
    # Only the new files were read; the files of the first build were not.
    assert weeks[2].name in staging_sql and "task_runs_late_arrivals.jsonl" in staging_sql
    assert weeks[0].name not in staging_sql and weeks[1].name not in staging_sql

    deliver(*weeks[4:])
    extra_runs = _renamed_runs(_lines(weeks[5])[:3], "_extra")
    # The first file is rewritten without its first line, and with three more runs: its
    # records move up a line, and the dropped run is gone.
    rewritten = arriving / weeks[0].name
    rewritten.write_text("\n".join(_lines(rewritten)[1:] + extra_runs) + "\n")
    # The last build also narrows the evaluation window: days leave it.
    until_due = due - timedelta(hours=skew_hours) - datetime.now(UTC)
    time.sleep(max(0.0, until_due.total_seconds() + 1))
    third = run_dbt_build(arriving, warehouse, {"evaluation_window_days": 14})
    assert not third.unexpected_failures(), third.describe()
    staging_sql = _loaded_files(third)
    assert weeks[0].name in staging_sql and weeks[4].name in staging_sql
    assert weeks[1].name not in staging_sql and "task_runs_late_arrivals.jsonl" not in staging_sql
    assert _verdict(third, json.loads(_lines(weeks[0])[7])["task_run_id"] + "_due") is None
    # Compared here too, not only after the last build: its change of settings rebuilds
    # whole models and would hide a day or a record this build failed to redo.
    _assert_same_tables(
        third, run_dbt_build(arriving, tmp_path / "full_third", {"evaluation_window_days": 14})
    )

    # Then, on the same files, a smaller slice search without the user dimension: no task
    # changed, but every day's slice counts do (int_slice_counts_daily keeps counts day by
    # day), and the synced tables lose a column. With 1 hour of clock skew allowed, the
    # run 2 hours ahead is rejected: a change of rules validates every record again.
    project_dimensions = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
        "segment_dimensions"
    ]
    changed_settings = {
        "evaluation_window_days": 14,
        "max_slice_level": 2,
        "segment_dimensions": [name for name in project_dimensions if name != "user"],
        "max_clock_skew_hours": 1,
    }
    fourth = run_dbt_build(arriving, warehouse, changed_settings)
    assert not fourth.unexpected_failures(), fourth.describe()
    assert _verdict(fourth, json.loads(_lines(weeks[0])[8])["task_run_id"] + "_ahead") == (
        "timestamp_in_future"
    )

    _assert_same_tables(fourth, run_dbt_build(arriving, tmp_path / "full", changed_settings))

    # Every raw line is a record once: the rewritten file replaced its rows.
    raw_lines = sum(
        len([line for line in _lines(path) if line.strip()])
        for path in arriving.glob("task_runs_*.jsonl")
    )
    staged = fourth.query(
        "select count(*) as records,"
        " count(distinct source_file || ':' || record_number) as keys"
        " from staging.stg_agent_logs__task_runs"
    )
    assert staged.loc[0, "records"] == staged.loc[0, "keys"] == raw_lines
    # The late runs count, the exact copy does not, the conflicting copy wins.
    rejected = fourth.table("marts.rejected_task_runs")
    assert (rejected["rejection_reason"] == "duplicate_delivery").sum() == 1
    assert (rejected["rejection_reason"] == "conflicting_duplicate").sum() == 2
    late_tasks = {json.loads(line)["task_id"] + "_late" for line in _lines(weeks[0])[:5]}
    fact = fourth.table("marts.fct_task_runs")
    assert set(fact.loc[fact["task_id"].str.endswith("_late"), "task_id"]) == late_tasks
    # The moved run left its task; the dropped line's run is gone.
    moved = json.loads(_lines(weeks[1])[5])
    assert moved["task_id"] + "_moved" in set(fact["task_id"])
    assert moved["task_run_id"] not in set(
        fact.loc[fact["task_id"] == moved["task_id"], "task_run_id"]
    )
    dropped = json.loads(_lines(weeks[0])[0])
    validated = fourth.table("intermediate.int_task_runs_validated")
    assert dropped["task_run_id"] not in set(validated["task_run_id"])


def test_lookups_settings_and_an_emptied_day_reach_every_day_kept_table(
    weekly_files: Path, tmp_path: Path
) -> None:
    """What the day fingerprints must follow besides the runs: customers.csv and
    users.csv edited, another pseudonym salt, customer names shown, other input
    length buckets, and a day whose every run is gone (its file rewritten without
    them). One incremental build after all of it equals a full build."""
    arriving = tmp_path / "raw"
    shutil.copytree(weekly_files, arriving)
    warehouse = tmp_path / "incremental"
    assert not run_dbt_build(arriving, warehouse).unexpected_failures()

    for name, column, values in [
        ("customers.csv", "tier", ("enterprise", "free")),
        ("users.csv", "team", ("sales", "support")),
    ]:
        path = arriving / name
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        rows[0][column] = values[1] if rows[0][column] == values[0] else values[0]
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    second_week = sorted(arriving.glob("task_runs_*.jsonl"))[1]
    lines = _lines(second_week)
    emptied_day = json.loads(lines[0])["started_at"][:10]
    kept = [line for line in lines if json.loads(line)["started_at"][:10] != emptied_day]
    assert 0 < len(kept) < len(lines)
    second_week.write_text("\n".join(kept) + "\n")

    settings = {
        "id_salt": "another salt",
        "show_customer_names": True,
        "input_length_bucket_edges": [300, 900],
    }
    incremental = run_dbt_build(arriving, warehouse, settings)
    assert not incremental.unexpected_failures(), incremental.describe()
    facts = incremental.table("marts.fct_task_runs")
    assert emptied_day not in set(facts["started_date"].astype(str))
    assert facts["customer_name"].notna().any()
    _assert_same_tables(incremental, run_dbt_build(arriving, tmp_path / "full", settings))


def test_a_vanished_raw_file_stops_an_incremental_build(weekly_files: Path, tmp_path: Path) -> None:
    arriving = tmp_path / "raw"
    shutil.copytree(weekly_files, arriving)
    warehouse = tmp_path / "warehouse"
    assert not run_dbt_build(arriving, warehouse).unexpected_failures()

    removed = sorted(arriving.glob("task_runs_*.jsonl"))[0]
    removed.unlink()
    _assert_stops_until_a_full_refresh(arriving, warehouse, "no longer in raw_path", removed)


def _assert_stops_until_a_full_refresh(
    raw: Path, warehouse: Path, message: str, changed_file: Path
) -> None:
    """An incremental build stops, naming `changed_file` and the way out; a full
    refresh then builds without loading any record of it."""
    stopped = run_dbt_build(raw, warehouse)
    assert stopped.exit_code != 0
    assert message in stopped.output and changed_file.name in stopped.output
    assert "--full-refresh" in stopped.output

    refreshed = run_dbt_build(raw, warehouse, extra_args=["--full-refresh"])
    assert not refreshed.unexpected_failures(), refreshed.describe()
    files = refreshed.query("select distinct source_file from staging.stg_agent_logs__task_runs")
    assert not files["source_file"].str.endswith("/" + changed_file.name).any()


def test_empty_raw_files_are_named_and_an_emptied_one_stops_an_incremental_build(
    weekly_files: Path, tmp_path: Path
) -> None:
    """A delivery that arrives empty (0 bytes) is named in a warning and brings no
    record; a loaded file emptied later stops the build, as a vanished one does,
    since its records would otherwise stay."""
    arriving = tmp_path / "raw"
    shutil.copytree(weekly_files, arriving)
    empty_delivery = arriving / "task_runs_empty_delivery.jsonl"
    empty_delivery.write_bytes(b"")
    warehouse = tmp_path / "warehouse"
    built = run_dbt_build(arriving, warehouse)
    assert not built.unexpected_failures(), built.describe()
    assert "are empty (0 bytes)" in built.output and empty_delivery.name in built.output
    loaded = built.query("select distinct source_file from staging.stg_agent_logs__task_runs")
    assert not loaded["source_file"].str.endswith(empty_delivery.name).any()
    tasks = len(built.table("marts.fct_task_runs"))

    # An incremental build that finds another empty delivery names it too.
    second_empty = arriving / "task_runs_empty_again.jsonl"
    second_empty.write_bytes(b"")
    again = run_dbt_build(arriving, warehouse)
    assert not again.unexpected_failures(), again.describe()
    assert second_empty.name in again.output and "are empty (0 bytes)" in again.output
    assert len(again.table("marts.fct_task_runs")) == tasks

    emptied = max(arriving.glob("task_runs_*.jsonl"), key=lambda path: path.stat().st_size)
    assert emptied.stat().st_size > 0
    emptied.write_bytes(b"")
    _assert_stops_until_a_full_refresh(arriving, warehouse, "are now empty (0 bytes)", emptied)


def test_a_warehouse_built_before_the_fingerprint_columns_upgrades_in_place(
    weekly_files: Path, tmp_path: Path
) -> None:
    """A warehouse built by a version whose validation, deciding-run and task-order
    tables lack the columns an incremental build compares (file version, rules, runs
    and day fingerprints, the task order's day) and the build time of each row (for the
    scoped grain tests: a row without it counts as older than any pass, and no pass is
    on record), whose day-kept tables hold sums of
    hashes as day fingerprints, whose facts are a table and not a view, and whose
    joined tasks are a view: the next plain build recomputes those tables and adds
    the columns, leaving every table as it was, with no --full-refresh."""
    raw = tmp_path / "raw"
    shutil.copytree(weekly_files, raw)
    warehouse = tmp_path / "warehouse"
    built = run_dbt_build(raw, warehouse)
    assert not built.unexpected_failures(), built.describe()
    before = _marts(built)

    with duckdb.connect(str(built.db_path)) as connection:
        for table, column in [
            ("int_task_runs_validated", "source_file_version"),
            ("int_task_runs_validated", "validation_rules_fingerprint"),
            ("int_tasks_reduced_to_deciding_run", "runs_fingerprint"),
            ("int_task_runs_validated", "row_built_at"),
            ("int_tasks_reduced_to_deciding_run", "row_built_at"),
            ("int_tasks_ordered_in_time", "row_built_at"),
            ("int_slice_counts_daily", "row_built_at"),
            ("int_segment_failures_daily", "row_built_at"),
            ("int_tasks_ordered_in_time", "task_date"),
            ("int_tasks_ordered_in_time", "day_fingerprint"),
        ]:
            connection.execute(f"alter table intermediate.{table} drop column {column}")
        # The slice counts and failures by day stored sums of hashes, wider than one
        # hash: the upgrade must keep the column's type and recount every day.
        for table in ("int_slice_counts_daily", "int_segment_failures_daily"):
            connection.execute(
                f"alter table intermediate.{table} alter day_fingerprint type decimal(38, 0);"
                f"update intermediate.{table}"
                " set day_fingerprint = day_fingerprint + 100000000000000000000"
            )
        connection.execute(
            "create table marts.facts_stored as select * from marts.fct_task_runs;"
            "drop view marts.fct_task_runs;"
            "alter table marts.facts_stored rename to fct_task_runs;"
            "drop table intermediate.int_tasks_joined_to_customers_and_users;"
            "create view intermediate.int_tasks_joined_to_customers_and_users as"
            " select * exclude (started_date) from marts.fct_task_runs"
        )

    upgraded = run_dbt_build(raw, warehouse)
    assert not upgraded.unexpected_failures(), upgraded.describe()
    after = _marts(upgraded)
    assert after.keys() == before.keys()
    for relation, expected in before.items():
        # The added columns come last in the upgraded tables: compared by name.
        columns = list(expected.columns)
        actual = after[relation][columns].sort_values(columns).reset_index(drop=True)
        pd.testing.assert_frame_equal(actual, expected, obj=relation)
