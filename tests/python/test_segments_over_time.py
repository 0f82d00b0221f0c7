"""Segments over time (issue 4): early warning, alert lifecycle, trends, fix tracking, window.

One planted timeline, built the way logs arrive: 20 customers at 95%, except
cust_07, which drops to 50% at the start of week 4 (2026-01-26), recovers in
week 7 (2026-02-16) and relapses in week 10. A copy of the project declares two
interventions: the fix for cust_07 on the recovery date, and a change for a
healthy customer that changed nothing. Four builds on one warehouse, all with
evaluation_window_days = 14:

  bad        weeks 1-6     cust_07 alerts: new
  rebuilt    the same data  ongoing, same alert id
  recovered  weeks 1-9     resolved
  reopened   weeks 1-11    reopened

Each stage's warehouse is snapshotted; every check reads the snapshots and
compares the marts with pandas recomputations from marts.fct_task_runs.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest
import reference
import yaml
from conftest import PROJECT_DIR, TEST_ID_SALT, BuildResult, format_problems
from test_custom_contract import copy_project
from time_checks import (
    PlantedTimeline,
    build_into,
    check_built,
    cusum_mismatches,
    data_test_statuses,
    difference_in_differences,
    periodic_reference,
    segment_frame,
    snapshot,
)

TIMELINE = PlantedTimeline()
# The marts and the interventions seed name customers by pseudonym (docs/privacy.md).
BAD = reference.pseudonym(TIMELINE.bad_customer, "cust", TEST_ID_SALT)
HEALTHY_CUSTOMER = reference.pseudonym("cust_02", "cust", TEST_ID_SALT)
CHANGE_AT = TIMELINE.week_start(3)
RECOVERED_AT = TIMELINE.week_start(6)
WINDOW_DAYS = 14
BUILD_VARS = {"evaluation_window_days": WINDOW_DAYS}
# The project's defaults (dbt_project.yml); the recomputations use the same.
GAP_PP = 15
ARL0 = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["early_warning_arl0"]
ROLLING_DAYS = 28
INTERVENTION_WINDOW_DAYS = 28
DIMENSION_COLUMNS = reference.DIMENSION_COLUMNS
INTERVENTIONS_CSV = (
    "intervention_id,intervention_date,slice_key,description,expects_gap_closed\n"
    f"fix_{BAD},{RECOVERED_AT:%Y-%m-%d},customer={BAD},"
    "Validate CRM records before the agent runs,true\n"
    f"noop_{HEALTHY_CUSTOMER},{RECOVERED_AT:%Y-%m-%d},customer={HEALTHY_CUSTOMER},"
    "Prompt tweak for a customer that had no gap,true\n"
)
STAGES = ("bad", "rebuilt", "recovered", "reopened")


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuildResult]:
    root = tmp_path_factory.mktemp("segments_over_time")
    project = copy_project(root / "project")
    (project / "seeds" / "interventions.csv").write_text(INTERVENTIONS_CSV)
    raw, work = root / "raw", root / "work"
    # Weekly files arriving before each build (none before the rebuild).
    arrivals = {
        "bad": range(0, 6),
        "rebuilt": range(0),
        "recovered": range(6, 9),
        "reopened": range(9, 11),
    }
    built = {}
    for stage in STAGES:
        TIMELINE.write_weeks(raw, arrivals[stage])
        build = build_into(work, raw, BUILD_VARS, project)
        check_built(build, stage)
        built[stage] = snapshot(build, root / f"{stage}.duckdb")
    return built


def _tasks(build: BuildResult) -> pd.DataFrame:
    tasks = build.table("marts.fct_task_runs")
    tasks["started_at"] = pd.to_datetime(tasks["started_at"])
    return tasks


def _alerts(build: BuildResult) -> pd.DataFrame:
    return build.table("marts.segment_alerts").set_index("slice_key")


# ---------------------------------------------------------------------------
# (a) Early warning


def test_bad_customer_is_warned_within_50_of_its_tasks_after_the_change(stages):
    build = stages["bad"]
    warnings = build.table("marts.segment_early_warnings").set_index(["dimension", "segment_value"])
    warning = warnings.loc[("customer", BAD)]
    assert warning["has_alarmed"], warning
    alarm_at = pd.Timestamp(warning["first_alarm_at"])
    assert alarm_at >= CHANGE_AT, f"alarmed at {alarm_at}, before the change at {CHANGE_AT}"
    tasks = _tasks(build)
    bad_tasks = tasks[(tasks["customer_id"] == BAD) & tasks["is_counted"]]
    since_change = bad_tasks[
        (bad_tasks["started_at"] >= CHANGE_AT) & (bad_tasks["started_at"] <= alarm_at)
    ]
    assert 0 < len(since_change) <= 50, (
        f"{len(since_change)} of {BAD}'s tasks between the change and the alarm"
    )
    tipping = tasks.set_index("task_id").loc[warning["tipping_task_id"]]
    assert tipping["customer_id"] == BAD
    assert pd.Timestamp(tipping["started_at"]) == alarm_at
    before_change = int((bad_tasks["started_at"] < CHANGE_AT).sum())
    assert warning["tasks_until_first_alarm"] == before_change + len(since_change)


@pytest.mark.parametrize("stage", ["bad", "reopened"])
def test_healthy_segments_never_alarm(stages, stage):
    warnings = stages[stage].table("marts.segment_early_warnings")
    alarmed = warnings[warnings["has_alarmed"].astype(bool)]
    assert set(zip(alarmed["dimension"], alarmed["segment_value"], strict=True)) == {
        ("customer", BAD)
    }, alarmed[["dimension", "segment_value", "tasks_until_first_alarm", "task_count"]]
    # Many healthy segments were watched: every customer, user, team, tier, task type.
    assert len(warnings) > 60


@pytest.mark.parametrize("stage", ["bad", "recovered", "reopened"])
def test_early_warning_equals_a_pandas_cusum(stages, stage):
    build = stages[stage]
    mart = build.table("marts.segment_early_warnings")
    problems = cusum_mismatches(_tasks(build), mart, DIMENSION_COLUMNS, GAP_PP, ARL0, WINDOW_DAYS)
    assert not problems, format_problems(problems)
    mart = mart.set_index(["dimension", "segment_value"])
    bad = mart.loc[("customer", BAD)]
    assert bad["alarm_threshold"] == pytest.approx(math.log(ARL0))
    if stage != "recovered":
        assert bool(bad["is_alarming_now"])  # cust_07 ends these stages in a bad spell


def test_early_warning_clears_after_three_healthy_weeks(stages):
    """The whole-history statistic remembers a long bad spell; "now" is judged on the
    evaluation window (14 days), which has moved past it."""
    warnings = stages["recovered"].table("marts.segment_early_warnings")
    bad = warnings[(warnings["dimension"] == "customer") & (warnings["segment_value"] == BAD)]
    assert not bool(bad["is_alarming_now"].item())


# ---------------------------------------------------------------------------
# (b) Alert lifecycle


def test_first_build_raises_one_new_alert(stages):
    alerts = _alerts(stages["bad"])
    assert list(alerts.index) == [f"customer={BAD}"], alerts
    alert = alerts.loc[f"customer={BAD}"]
    assert alert["alert_status"] == "new"
    # Latest figures are the segment's, as segment_slices judged it.
    slices = stages["bad"].table("marts.segment_slices").set_index("slice_key")
    for column in ("task_count", "failed_count", "completion_rate", "gap_pp", "failure_share"):
        assert alert[column] == pytest.approx(slices.loc[f"customer={BAD}", column]), column
    assert pd.Timestamp(alert["warned_since_at"]) >= CHANGE_AT


def test_rebuild_on_the_same_data_creates_no_new_alert(stages):
    first, second = _alerts(stages["bad"]), _alerts(stages["rebuilt"])
    assert list(second.index) == list(first.index)
    assert (second["alert_id"] == first["alert_id"]).all()
    assert (second["alert_status"] == "ongoing").all(), second["alert_status"]
    assert (second["first_seen_at"] == first["first_seen_at"]).all()
    assert (second["warned_since_at"] == first["warned_since_at"]).all()
    assert (second["last_seen_at"] > first["last_seen_at"]).all()


def test_recovery_resolves_the_alert(stages):
    before, after = _alerts(stages["rebuilt"]), _alerts(stages["recovered"])
    alert = after.loc[f"customer={BAD}"]
    assert alert["alert_status"] == "resolved"
    assert alert["alert_id"] == before.loc[f"customer={BAD}", "alert_id"]
    assert pd.notna(alert["resolved_at"])
    assert alert["last_seen_at"] == before.loc[f"customer={BAD}", "last_seen_at"]
    segments = stages["recovered"].table("marts.segment_completion")
    status = segments[(segments["dimension"] == "customer") & (segments["segment_value"] == BAD)]
    assert status["status"].item() != "alert"
    assert len(after) == 1, after


def test_relapse_reopens_the_same_alert(stages):
    first, relapse = _alerts(stages["bad"]), _alerts(stages["reopened"])
    alert = relapse.loc[f"customer={BAD}"]
    assert alert["alert_status"] == "reopened"
    assert alert["alert_id"] == first.loc[f"customer={BAD}", "alert_id"]
    assert alert["first_seen_at"] == first.loc[f"customer={BAD}", "first_seen_at"]
    assert pd.isna(alert["resolved_at"])
    assert alert["peak_gap_pp"] >= first.loc[f"customer={BAD}", "gap_pp"] - 1e-9
    assert len(relapse) == 1, relapse


# ---------------------------------------------------------------------------
# (c) Daily and weekly completion with a rolling window


@pytest.mark.parametrize("stage", ["recovered"])
def test_periodic_completion_equals_pandas(stages, stage):
    build = stages[stage]
    tasks = _tasks(build)
    expected = periodic_reference(segment_frame(tasks, DIMENSION_COLUMNS), ROLLING_DAYS)
    mart = build.table("marts.segment_completion_periodic")
    keys = ["grain", "period_start", "dimension", "segment_value"]
    mart["period_start"] = pd.to_datetime(mart["period_start"])
    merged = mart.merge(expected, on=keys, how="outer", suffixes=("", "_expected"), indicator=True)
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, unmatched[[*keys, "_merge"]].head(20)
    assert set(mart["grain"]) == {"day", "week"}
    assert mart[mart["grain"] == "week"]["period_start"].dt.day_of_week.eq(0).all()
    problems = []
    for column in ("task_count", "completed_count", "overall_task_count", "rolling_task_count"):
        wrong = merged[merged[column] != merged[f"{column}_expected"]]
        problems += [f"{column} {row[keys].tolist()}" for _, row in wrong.head(10).iterrows()]
    for column in (
        "completion_rate",
        "overall_completion_rate",
        "gap_pp",
        "rolling_completion_rate",
        "rolling_overall_completion_rate",
        "rolling_gap_pp",
    ):
        close = (merged[column] - merged[f"{column}_expected"]).abs() <= 1e-9
        problems += [
            f"{column} {row[keys].tolist()}" for _, row in merged[~close].head(10).iterrows()
        ]
    assert not problems, format_problems(problems)
    # The rolling window really spans 28 days: 4 weeks, 28 days.
    bad_weeks = merged[
        (merged["grain"] == "week")
        & (merged["dimension"] == "customer")
        & (merged["segment_value"] == BAD)
    ].sort_values("period_start")
    last = bad_weeks.iloc[-1]
    assert last["rolling_task_count"] == bad_weeks["task_count"].iloc[-4:].sum()


# ---------------------------------------------------------------------------
# (d) Fix tracking


def _intervention_rows(build: BuildResult) -> pd.DataFrame:
    return build.table("marts.intervention_effects").set_index("intervention_id")


@pytest.mark.parametrize(
    ("intervention_id", "customer", "closed"),
    [(f"fix_{BAD}", BAD, True), (f"noop_{HEALTHY_CUSTOMER}", HEALTHY_CUSTOMER, False)],
)
def test_intervention_effect_equals_pandas(stages, intervention_id, customer, closed):
    build = stages["recovered"]
    row = _intervention_rows(build).loc[intervention_id]
    tasks = _tasks(build)
    expected = difference_in_differences(
        tasks, tasks["customer_id"] == customer, RECOVERED_AT.date(), INTERVENTION_WINDOW_DAYS
    )
    compared = [column for column in expected if column in row.index]
    assert len(compared) >= 7, compared
    for column in compared:
        assert row[column] == pytest.approx(expected[column], abs=1e-9), column
    assert bool(row["is_gap_closed"]) is closed, row
    if closed:
        assert expected["difference_in_differences_pp"] > 20
        assert row["difference_in_differences_ci_low_pp"] > 0
    else:
        assert abs(expected["difference_in_differences_pp"]) < 10


def test_a_declared_fix_that_closed_nothing_warns(stages):
    statuses = data_test_statuses(stages["recovered"], "declared_fixes_closed_their_gap")
    assert list(statuses.values()) == ["warn"], statuses
    results = {result["unique_id"]: result for result in stages["recovered"].run_results["results"]}
    assert [results[unique_id]["failures"] for unique_id in statuses] == [1]


# ---------------------------------------------------------------------------
# (e) Evaluation window


def test_segment_marts_judge_only_the_last_14_days(stages):
    build = stages["bad"]
    tasks = _tasks(build)
    window_start = tasks["started_at"].max() - timedelta(days=WINDOW_DAYS)
    recent = tasks[tasks["is_counted"] & (tasks["started_at"] > window_start)]
    assert 0 < len(recent) < tasks["is_counted"].sum()
    long = segment_frame(recent, DIMENSION_COLUMNS)
    expected = (
        long.groupby(["dimension", "segment_value"])["is_success"]
        .agg(task_count="size", completed_count="sum")
        .reset_index()
    )
    for relation in (
        "marts.segment_completion",
        "marts.segment_slices",
    ):
        mart = build.table(relation)
        if relation.endswith("segment_slices"):
            mart = mart[mart["slice_level"] == 1]
        mart = mart.rename(
            columns={"slice_dimensions": "dimension", "slice_values": "segment_value"}
        )
        merged = mart.merge(
            expected, on=["dimension", "segment_value"], how="outer", indicator=True
        )
        assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
        assert (merged["task_count_x"] == merged["task_count_y"]).all(), relation
        assert (merged["completed_count_x"] == merged["completed_count_y"]).all(), relation
        assert (
            merged["overall_completion_rate"].sub(recent["is_success"].mean()).abs().max() < 1e-12
        )
    # Example failed tasks come from the window too.
    slices = build.table("marts.segment_slices").set_index("slice_key")
    examples = slices.loc[f"customer={BAD}", "example_failed_task_ids"].split(", ")
    by_id = tasks.set_index("task_id")
    assert all(by_id.loc[task, "started_at"] > window_start for task in examples)
    # Trends and the early warning still read all data.
    periodic = build.table("marts.segment_completion_periodic")
    assert periodic[periodic["grain"] == "week"]["period_start"].nunique() == 6


def test_the_window_is_what_lets_the_alert_resolve(stages):
    """At the recovered stage cust_07's last 14 days are healthy, its whole history is not."""
    tasks = _tasks(stages["recovered"])
    bad = tasks[(tasks["customer_id"] == BAD) & tasks["is_counted"]]
    assert bad["is_success"].mean() < 0.85
    segments = (
        stages["recovered"]
        .table("marts.segment_completion")
        .set_index(["dimension", "segment_value"])
    )
    assert segments.loc[("customer", BAD), "completion_rate"] > 0.85
