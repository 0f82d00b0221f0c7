"""The marts equal an independent recomputation from the raw files (reference.py).

Both demo profiles are generated small, built with dbt, and compared segment
by segment and task by task: counts and statuses exactly, rates, intervals and
shrunken rates within 1e-9, p- and q-values within 1e-6 relative.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import reference
import yaml
from conftest import (
    PROJECT_DIR,
    TEST_ID_SALT,
    BuildResult,
    Reference,
    format_problems,
    reference_for,
    segment_mismatches,
    task_mismatches,
)
from time_checks import cusum_mismatches


@pytest.fixture(scope="module", params=["story", "healthy"])
def demo(request, dbt_build) -> tuple[str, BuildResult, Reference]:
    raw = request.getfixturevalue(f"{request.param}_raw")
    build = dbt_build(raw)
    assert build.db_path.exists(), build.describe()
    return request.param, build, reference_for(build)


def test_build_fails_only_on_gap_tests(demo):
    _, build, _ = demo
    assert not build.unexpected_failures(), build.describe()


def test_same_segments_and_statistics(demo):
    _, build, expected = demo
    mart = build.table("marts.segment_completion")
    assert len(mart) > 0
    problems = segment_mismatches(mart, expected.segments)
    assert not problems, format_problems(problems)


def test_segment_slices_match(demo):
    """Every combination too: counts, statistics, BH over all levels, redundancy."""
    _, build, expected = demo
    mart = build.table("marts.segment_slices")
    assert (mart["slice_level"] > 1).any()
    problems = segment_mismatches(mart, expected.slices)
    assert not problems, format_problems(problems)


def test_fct_task_runs_features_match(demo):
    _, build, expected = demo
    problems = task_mismatches(build.table("marts.fct_task_runs"), expected.tasks)
    assert not problems, format_problems(problems)


def test_example_failed_tasks_are_each_alerts_latest_failures(demo):
    """segment_slices names, for each alert that is not redundant, its 5 latest counted
    failures (latest first, ties by task id); the model looks for them only on the latest
    days that hold them, so alerts whose failures are spread over days check that cut."""
    profile, build, _ = demo
    # The examples come from the evaluation window: all data by default.
    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert project_vars["evaluation_window_days"] is None
    tasks = build.table("marts.fct_task_runs")
    tasks["started_at"] = pd.to_datetime(tasks["started_at"])
    failures = tasks[tasks["is_counted"].astype(bool) & ~tasks["is_success"].astype(bool)]
    slices = build.table("marts.segment_slices")
    alerts = slices[(slices["status"] == "alert") & ~slices["is_redundant"].astype(bool)]
    problems, spread_over_days = [], 0
    for _, alert in alerts.iterrows():
        matching = failures
        for dimension, column in reference.DIMENSION_COLUMNS.items():
            value = alert[f"dim_{dimension}"]
            if pd.notna(value):
                values = (
                    matching[column].astype(object).where(matching[column].notna(), "(missing)")
                )
                matching = matching[values.astype(str) == value]
        latest = matching.sort_values(["started_at", "task_id"], ascending=[False, True]).head(5)
        spread_over_days += latest["started_at"].dt.date.nunique() > 1
        expected = ", ".join(latest["task_id"])
        if alert["example_failed_task_ids"] != expected:
            problems.append(
                f"{alert['slice_key']}: {alert['example_failed_task_ids']} != {expected}"
            )
    assert not problems, format_problems(problems)
    if profile == "story":
        assert len(alerts) > 0 and spread_over_days > 0


def test_early_warning_over_all_data_equals_a_pandas_cusum(demo):
    """The default window is all data: the window's statistic is the whole one.
    (test_segments_over_time checks a 14-day window.)"""
    profile, build, _ = demo
    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert project_vars["evaluation_window_days"] is None
    tasks = build.table("marts.fct_task_runs")
    tasks["started_at"] = pd.to_datetime(tasks["started_at"])
    mart = build.table("marts.segment_early_warnings")
    problems = cusum_mismatches(
        tasks,
        mart,
        reference.DIMENSION_COLUMNS,
        project_vars["segment_gap_pp"],
        project_vars["early_warning_arl0"],
        window_days=None,
    )
    assert not problems, format_problems(problems)
    if profile == "story":  # the planted problems alarm
        assert mart["has_alarmed"].any() and mart["is_alarming_now"].any()


def _file_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _rejections(frame: pd.DataFrame) -> list[tuple]:
    """(file name, record number, task_run_id, reason, detail) per rejected record; the
    mart names files by path, the reference by name, also in a duplicate's 'kept at'."""
    columns = ["source_file", "record_number", "task_run_id", "rejection_reason"]
    rows = []
    for name, number, run_id, reason, detail in frame[[*columns, "rejection_detail"]].itertuples(
        index=False
    ):
        if isinstance(detail, str) and detail.startswith("kept at "):
            detail = "kept at " + _file_name(detail.removeprefix("kept at "))
        run_id = None if pd.isna(run_id) else str(run_id)
        detail = None if pd.isna(detail) else detail
        rows.append((_file_name(name), int(number), run_id, reason, detail))
    return sorted(rows, key=str)


def test_rejected_and_accepted_records_match(demo):
    _, build, expected = demo
    rejected = build.table("marts.rejected_task_runs")
    assert _rejections(rejected) == _rejections(expected.rejected)
    # Which field, never a value: the mart carries no raw text of a record.
    assert list(rejected.columns) == list(expected.rejected.columns)
    fct = build.table("marts.fct_task_runs")
    assert int(fct["attempt_count"].sum()) == len(expected.accepted_runs)


def test_gap_test_fails_the_build_exactly_when_a_segment_alerts(demo):
    """The gap tests gate segment_completion and the non-redundant slices."""
    _, build, expected = demo
    slices = expected.slices
    alerts = int(((slices["status"] == "alert") & ~slices["is_redundant"].astype(bool)).sum())
    if alerts:
        assert build.exit_code == 1 and build.gap_test_failures(), build.describe()
    else:
        assert build.exit_code == 0 and not build.failed_nodes(), build.describe()


def test_story_demo_alerts_on_the_planted_problems(story_raw, dbt_build):
    build = dbt_build(story_raw)
    mart = build.table("marts.segment_completion")
    alerts = set(
        mart.loc[mart["status"] == "alert", ["dimension", "segment_value"]].itertuples(
            index=False, name=None
        )
    )
    planted = {
        ("customer", reference.pseudonym("cust_northwind", "cust", TEST_ID_SALT)),
        ("missing_required_fields", "3+"),
    }
    assert planted <= alerts, alerts
    # The reference reaches the same verdict on its own.
    expected = reference_for(build).segments
    reference_alerts = set(
        expected.loc[expected["status"] == "alert", ["dimension", "segment_value"]].itertuples(
            index=False, name=None
        )
    )
    assert planted <= reference_alerts
    assert build.exit_code == 1 and build.gap_test_failures(), build.describe()


def test_reference_statistics_follow_the_formulas():
    """reference.py's scipy calls equal definitions.md's formulas, written out in plain math."""
    sizes = {"A": (5, 2), "B": (40, 1), "C": (55, 3)}  # segment: (n, failures)
    rows = [
        {"customer_id": name, "is_counted": True, "is_success": k >= failures, "attributes": {}}
        for name, (n, failures) in sizes.items()
        for k in range(n)
    ]
    table = reference.segment_completion(pd.DataFrame(rows), ["customer"], min_tasks=5)
    actual = table.set_index("segment_value")
    total, total_failed = 100, 6
    overall = 94 / 100
    z = 1.6448536269514722  # Φ⁻¹(0.95)
    p_values = {}
    for name, (n, f) in sizes.items():
        s = n - f
        p = s / n
        c = (s + z * z / 2) / (n + z * z)
        h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        row = actual.loc[name]
        assert row["completion_rate_ci_low"] == pytest.approx(max(0, c - h), abs=1e-12)
        assert row["completion_rate_ci_high"] == pytest.approx(min(1, c + h), abs=1e-12)
        tail = sum(
            math.comb(total_failed, k) * math.comb(total - total_failed, n - k)
            for k in range(f, min(n, total_failed) + 1)
        ) / math.comb(total, n)
        p_values[name] = tail
        assert row["p_value"] == pytest.approx(tail, rel=1e-12)
        rest = total - n
        assert row["rest_completion_rate"] == pytest.approx((94 - s) / rest, abs=1e-15)
        assert row["lift"] == pytest.approx((f / n) / (total_failed / total))
        expected_share = (f - n * (total_failed - f) / rest) / total_failed
        assert row["attributable_share"] == pytest.approx(expected_share)
        assert row["gap_pp"] == pytest.approx(100 * (overall - p))
    # Benjamini-Hochberg by hand: q_(i) = min_{j >= i} min(1, m p_(j) / j).
    ordered = sorted(p_values, key=p_values.get)
    m = len(ordered)
    for i, name in enumerate(ordered, start=1):
        later = list(enumerate(ordered, start=1))[i - 1 :]
        q = min(min(1, m * p_values[other] / j) for j, other in later)
        assert actual.loc[name, "q_value"] == pytest.approx(q, rel=1e-12)
    # Empirical Bayes by hand.
    rates = [(n - f) / n for n, f in sizes.values()]
    mu = 94 / 100
    mean_rate = sum(rates) / 3
    tau2 = (
        sum((r - mean_rate) ** 2 for r in rates) / 3
        - sum(mu * (1 - mu) / n for n, _ in sizes.values()) / 3
    )
    for name, (n, f) in sizes.items():
        if tau2 <= 0:
            shrunk = mu
        else:
            prior = mu * (1 - mu) / tau2 - 1
            shrunk = (n - f) / n if prior <= 0 else (n - f + mu * prior) / (n + prior)
        assert actual.loc[name, "shrunk_completion_rate"] == pytest.approx(shrunk, abs=1e-12)
    # A: 60% with 5 tasks is far below 79% but not confidently: watch or ok, never alert.
    assert actual.loc["A", "is_naive_gap"] and actual.loc["A", "status"] != "alert"
