"""Helpers for the segments-over-time and alert delivery tests.

* `build_into`: `dbt build` into a work folder that keeps its DuckDB file and
  target between calls (the alert lifecycle lives across builds), without the
  SQL unit tests (they do not depend on the data) and optionally limited to a
  selection. Returns conftest's BuildResult.
* `PlantedTimeline`: raw JSONL with a known story: one customer healthy at 95%,
  then 50% from a known date, then recovered, then bad again; every other
  customer at 95% throughout. One file per week, so a raw folder can grow
  week by week like arriving logs.
* pandas recomputations from marts.fct_task_runs: the Bernoulli CUSUM, the
  daily/weekly/rolling completion, the difference-in-differences of an
  intervention.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import math
import random
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from conftest import PROJECT_DIR, BuildResult, run_dbt_build

# ---------------------------------------------------------------------------
# Building


def build_into(
    work_dir: Path,
    raw_path: Path,
    dbt_vars: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
    select: Sequence[str] = (),
) -> BuildResult:
    """`dbt build` of `project_dir` on `raw_path` into `work_dir`/warehouse.duckdb.

    Calling it again with the same work_dir builds on the same warehouse (what an
    incremental model such as segment_alerts remembers) and reuses dbt's partial
    parse when the vars are unchanged. Unit tests are left out; with `select`,
    only those models (and tests whose parents are all selected) are built.
    """
    extra_args = ["--exclude-resource-type", "unit_test"]
    if select:
        extra_args += ["--select", *select, "--indirect-selection", "cautious"]
    return run_dbt_build(raw_path, work_dir, dbt_vars, project_dir, extra_args)


def check_built(build: BuildResult, label: str) -> None:
    """Fail with dbt's output unless the build ran and only the gap tests failed."""
    ran = build.db_path.exists() and build.run_results["results"]
    assert ran, f"{label}: dbt build did not run: {build.describe()}"
    assert not build.unexpected_failures(), f"{label}: {build.describe()}"


def snapshot(build: BuildResult, destination: Path) -> BuildResult:
    """A copy of the build's warehouse, so later builds on the same file leave it alone."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(build.db_path, destination)
    return dataclasses.replace(build, db_path=destination)


def data_test_statuses(build: BuildResult, name_part: str) -> dict[str, str]:
    """unique_id -> status of the build's data tests whose name holds name_part."""
    return {
        result["unique_id"]: result["status"]
        for result in build.run_results["results"]
        if result["unique_id"].startswith("test.") and name_part in result["unique_id"]
    }


def load_script(name: str) -> Any:
    """scripts/<name>.py as a module (scripts are not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    path = PROJECT_DIR / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# Planted raw data

TEAMS = ("sales", "success", "support", "marketing")


@dataclass(frozen=True)
class PlantedTimeline:
    """Raw logs of `weeks` weeks from `start` (a Monday), `tasks_per_day` tasks a day.

    Tasks go to `customers` customers and `users` users uniformly at random. Every
    task succeeds with probability `healthy_rate`, except tasks of `bad_customer`
    in the weeks listed in `bad_weeks`, which succeed with `bad_rate`.
    """

    start: date = date(2026, 1, 5)
    weeks: int = 11
    tasks_per_day: int = 100
    customers: int = 20
    users: int = 40
    bad_customer: str = "cust_07"
    bad_weeks: frozenset[int] = field(default_factory=lambda: frozenset({3, 4, 5, 9, 10}))
    healthy_rate: float = 0.95
    bad_rate: float = 0.50
    seed: int = 20260105

    def customer_ids(self) -> list[str]:
        return [f"cust_{number:02d}" for number in range(self.customers)]

    def week_start(self, week: int) -> datetime:
        return datetime.combine(self.start, datetime.min.time()) + timedelta(weeks=week)

    def week_rows(self, week: int) -> list[dict[str, Any]]:
        """The task runs of one week; the same week always gives the same rows."""
        rng = random.Random(self.seed * 1000 + week)
        customers = self.customer_ids()
        rows = []
        for day in range(7):
            day_start = self.week_start(week) + timedelta(days=day)
            seconds = sorted(rng.sample(range(86_400), self.tasks_per_day))
            for number, second in enumerate(seconds):
                customer = customers[rng.randrange(len(customers))]
                bad = customer == self.bad_customer and week in self.bad_weeks
                succeeded = rng.random() < (self.bad_rate if bad else self.healthy_rate)
                started = day_start + timedelta(seconds=second)
                task_id = f"t_{started:%Y%m%d}_{number:03d}"
                rows.append(
                    {
                        "task_run_id": f"{task_id}_1",
                        "task_id": task_id,
                        "attempt": 1,
                        "agent_name": "crm-copilot",
                        "agent_version": "3.1.0",
                        "task_type": ("lookup", "summary")[rng.randrange(2)],
                        "user_id": f"u_{rng.randrange(self.users):02d}",
                        "customer_id": customer,
                        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "finished_at": (started + timedelta(seconds=30)).strftime(
                            "%Y-%m-%dT%H:%M:%SZ"
                        ),
                        "status": "completed" if succeeded else "failed",
                        "request_text": "Summarise the account",
                        "input": {"account": customer, "notes": "x" * rng.randrange(50)},
                    }
                )
        return rows

    def write_lookups(self, raw_dir: Path) -> None:
        raw_dir.mkdir(parents=True, exist_ok=True)
        with (raw_dir / "customers.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["customer_id", "customer_name", "tier"])
            for number, customer in enumerate(self.customer_ids()):
                tier = "enterprise" if number % 2 else "smb"
                writer.writerow([customer, f"Customer {number}", tier])
        with (raw_dir / "users.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["user_id", "email", "team", "role"])
            for number in range(self.users):
                team = TEAMS[number % len(TEAMS)]
                writer.writerow([f"u_{number:02d}", f"u{number}@example.com", team, "rep"])

    def write_weeks(self, raw_dir: Path, weeks: range) -> None:
        """Add the weekly files `weeks` (and the lookups) to raw_dir."""
        self.write_lookups(raw_dir)
        for week in weeks:
            path = raw_dir / f"task_runs_{self.week_start(week):%Y-%m-%d}.jsonl"
            with path.open("w", encoding="utf-8") as handle:
                for row in self.week_rows(week):
                    handle.write(json.dumps(row) + "\n")


# ---------------------------------------------------------------------------
# pandas recomputations

# fct_task_runs column behind each built-in dimension (reference.DIMENSION_COLUMNS).
MISSING = "(missing)"


def segment_frame(tasks: pd.DataFrame, dimension_columns: Mapping[str, str]) -> pd.DataFrame:
    """Counted tasks in long form: task_id, started_at, is_success, dimension, segment_value."""
    counted = tasks[tasks["is_counted"].astype(bool)]
    parts = []
    for dimension, column in dimension_columns.items():
        values = counted[column].astype(object).where(counted[column].notna(), MISSING)
        parts.append(
            pd.DataFrame(
                {
                    "task_id": counted["task_id"].astype(str),
                    "started_at": pd.to_datetime(counted["started_at"]),
                    "is_success": counted["is_success"].astype(bool),
                    "dimension": dimension,
                    "segment_value": values.astype(str),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def cusum_reference(
    long: pd.DataFrame,
    overall_rate: float,
    gap_pp: float,
    arl0: float,
    window_start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """METHOD section 7: per segment, tasks by (started_at, task_id), Bernoulli CUSUM of
    p1 = P - d - 0.05 against p0 = P - d + 0.05, alarm at ln(ARL0). One row per segment.
    A second CUSUM starts afresh with the first task after `window_start` (the evaluation
    window; None: all tasks): it says whether the segment alarms now, and since when."""
    gap = gap_pp / 100
    p0 = min(0.9999, max(0.0001, overall_rate - gap + 0.05))
    p1 = min(0.9999, max(0.0001, overall_rate - gap - 0.05))
    success_llr, failure_llr = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    threshold = math.log(arl0)
    rows = []
    for (dimension, value), group in long.groupby(["dimension", "segment_value"], sort=True):
        group = group.sort_values(["started_at", "task_id"], kind="mergesort")
        statistic, first_alarm, first_alarm_at = 0.0, None, None
        window_statistic, window_alarm_at = 0.0, None
        for number, (success, started) in enumerate(
            zip(group["is_success"], group["started_at"], strict=True), start=1
        ):
            step = success_llr if success else failure_llr
            statistic = max(0.0, statistic + step)
            if first_alarm is None and statistic >= threshold:
                first_alarm, first_alarm_at = number, started
            if window_start is None or started > window_start:
                window_statistic = max(0.0, window_statistic + step)
                if window_alarm_at is None and window_statistic >= threshold:
                    window_alarm_at = started
        alarming_now = window_statistic >= threshold
        rows.append(
            {
                "dimension": dimension,
                "segment_value": value,
                "task_count": len(group),
                "tasks_until_first_alarm": first_alarm,
                "first_alarm_at": first_alarm_at,
                "cusum_statistic": statistic,
                "window_cusum_statistic": window_statistic,
                "is_alarming_now": alarming_now,
                "current_alarm_at": window_alarm_at if alarming_now else None,
            }
        )
    return pd.DataFrame(rows)


def cusum_mismatches(
    tasks: pd.DataFrame,
    mart: pd.DataFrame,
    dimension_columns: Mapping[str, str],
    gap_pp: float,
    arl0: float,
    window_days: int | None,
) -> list[str]:
    """segment_early_warnings against cusum_reference over fct_task_runs' counted tasks:
    the same segments, task counts and first alarms (after how many tasks, and when)
    exactly, statistics within 1e-9, the same current state and episode start. Empty when
    they agree."""
    counted = tasks[tasks["is_counted"].astype(bool)]
    expected = cusum_reference(
        segment_frame(tasks, dimension_columns),
        overall_rate=float(counted["is_success"].mean()),
        gap_pp=gap_pp,
        arl0=arl0,
        window_start=None
        if window_days is None
        else pd.Timestamp(tasks["started_at"].max()) - pd.Timedelta(days=window_days),
    ).set_index(["dimension", "segment_value"])
    mart = mart.set_index(["dimension", "segment_value"])
    if set(mart.index) != set(expected.index):
        return [f"segments differ: {sorted(set(mart.index) ^ set(expected.index))}"]
    problems = []
    for key, row in expected.iterrows():
        actual = mart.loc[key]
        if actual["task_count"] != row["task_count"]:
            problems.append(f"{key} task_count {actual['task_count']} != {row['task_count']}")
        first = (
            None
            if pd.isna(actual["tasks_until_first_alarm"])
            else actual["tasks_until_first_alarm"]
        )
        expected_first = (
            None if pd.isna(row["tasks_until_first_alarm"]) else row["tasks_until_first_alarm"]
        )
        if first != expected_first:
            problems.append(f"{key} tasks_until_first_alarm {first} != {expected_first}")
        for column in ("cusum_statistic", "window_cusum_statistic"):
            if not math.isclose(actual[column], row[column], abs_tol=1e-9):
                problems.append(f"{key} {column} {actual[column]} != {row[column]}")
        if bool(actual["is_alarming_now"]) != bool(row["is_alarming_now"]):
            problems.append(f"{key} is_alarming_now {actual['is_alarming_now']}")
        for column in ("first_alarm_at", "current_alarm_at"):  # a time, or none on both sides
            if pd.isna(actual[column]) != pd.isna(row[column]) or (
                pd.notna(row[column]) and pd.Timestamp(actual[column]) != pd.Timestamp(row[column])
            ):
                problems.append(f"{key} {column} {actual[column]} != {row[column]}")
    return problems


def periodic_reference(long: pd.DataFrame, rolling_days: int) -> pd.DataFrame:
    """Per (grain, period_start, dimension, segment_value): counts, rate, the period's overall
    rate and the rolling window over periods starting within rolling_days days."""
    frames = []
    tasks = long.drop_duplicates("task_id")
    for grain in ("day", "week"):
        day = long["started_at"].dt.normalize()
        period = day if grain == "day" else day - pd.to_timedelta(day.dt.day_of_week, unit="D")
        counts = (
            long.assign(period_start=period)
            .groupby(["dimension", "segment_value", "period_start"])["is_success"]
            .agg(task_count="size", completed_count="sum")
            .reset_index()
        )
        overall_day = tasks["started_at"].dt.normalize()
        overall_period = (
            overall_day
            if grain == "day"
            else overall_day - pd.to_timedelta(overall_day.dt.day_of_week, unit="D")
        )
        overall = (
            tasks.assign(period_start=overall_period)
            .groupby("period_start")["is_success"]
            .agg(overall_task_count="size", overall_completed_count="sum")
            .reset_index()
        )
        counts = counts.merge(overall, on="period_start")
        # Rolling window by explicit pairs: every period starting within the window's days.
        window = pd.Timedelta(days=rolling_days - 1)
        keys = ["dimension", "segment_value"]
        pairs = counts[[*keys, "period_start"]].merge(
            counts[[*keys, "period_start", "task_count", "completed_count"]],
            on=keys,
            suffixes=("", "_earlier"),
        )
        pairs = pairs[
            (pairs["period_start_earlier"] <= pairs["period_start"])
            & (pairs["period_start_earlier"] >= pairs["period_start"] - window)
        ]
        segment_rolling = (
            pairs.groupby([*keys, "period_start"])[["task_count", "completed_count"]]
            .sum()
            .add_prefix("rolling_")
            .reset_index()
        )
        overall_pairs = overall[["period_start"]].merge(overall, how="cross", suffixes=("", "_e"))
        overall_pairs = overall_pairs[
            (overall_pairs["period_start_e"] <= overall_pairs["period_start"])
            & (overall_pairs["period_start_e"] >= overall_pairs["period_start"] - window)
        ]
        overall_rolling = (
            overall_pairs.groupby("period_start")[["overall_task_count", "overall_completed_count"]]
            .sum()
            .add_prefix("rolling_")
            .reset_index()
        )
        counts = counts.merge(segment_rolling, on=[*keys, "period_start"]).merge(
            overall_rolling, on="period_start"
        )
        counts["grain"] = grain
        frames.append(counts)
    result = pd.concat(frames, ignore_index=True)
    result["completion_rate"] = result["completed_count"] / result["task_count"]
    result["overall_completion_rate"] = (
        result["overall_completed_count"] / result["overall_task_count"]
    )
    result["gap_pp"] = 100 * (result["overall_completion_rate"] - result["completion_rate"])
    result["rolling_completion_rate"] = (
        result["rolling_completed_count"] / result["rolling_task_count"]
    )
    result["rolling_overall_completion_rate"] = (
        result["rolling_overall_completed_count"] / result["rolling_overall_task_count"]
    )
    result["rolling_gap_pp"] = 100 * (
        result["rolling_overall_completion_rate"] - result["rolling_completion_rate"]
    )
    return result


def difference_in_differences(
    tasks: pd.DataFrame, in_slice: pd.Series, intervention_day: date, window_days: int
) -> dict[str, float | int]:
    """Before/after rates of the slice and of the rest over window_days on each side."""
    counted = tasks[tasks["is_counted"].astype(bool)]
    started = pd.to_datetime(counted["started_at"])
    cut = pd.Timestamp(intervention_day)
    window = pd.Timedelta(days=window_days)
    in_window = (started >= cut - window) & (started < cut + window)
    after = started >= cut
    member = in_slice.loc[counted.index].astype(bool)
    success = counted["is_success"].astype(bool)
    result: dict[str, float | int] = {}
    for name, mask in {
        "before": in_window & member & ~after,
        "after": in_window & member & after,
        "rest_before": in_window & ~member & ~after,
        "rest_after": in_window & ~member & after,
    }.items():
        result[f"{name}_task_count"] = int(mask.sum())
        result[f"{name}_completion_rate"] = float(success[mask].mean())
    result["difference_in_differences_pp"] = 100 * (
        (result["after_completion_rate"] - result["before_completion_rate"])
        - (result["rest_after_completion_rate"] - result["rest_before_completion_rate"])
    )
    return result
