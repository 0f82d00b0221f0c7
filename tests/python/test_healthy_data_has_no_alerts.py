"""Healthy traffic raises no alert, although the naive rule would flag many segments.

The healthy profile has one success rate for everybody, spread over hundreds
of small segments (Zipf-sized customers, many users). Any alert here is a
false alarm. The naive rule "p < P - 15 pp" flags dozens of tiny segments on
the same data: that is why the mart alerts on the Wilson bound and the
false-discovery-controlled Fisher test instead.
"""

from __future__ import annotations

import pytest
import reference
from conftest import BuildResult, Reference, reference_for


@pytest.fixture(scope="module")
def healthy(dbt_build, healthy_raw) -> tuple[BuildResult, Reference]:
    build = dbt_build(healthy_raw)
    assert build.db_path.exists(), build.describe()
    return build, reference_for(build)


def test_no_segment_is_in_alert(healthy):
    build, _ = healthy
    mart = build.table("marts.segment_completion")
    alerts = mart[mart["status"] == "alert"]
    assert alerts.empty, alerts[["dimension", "segment_value", "task_count", "completion_rate"]]


def test_no_combination_is_in_alert(healthy):
    build, expected = healthy
    slices = build.table("marts.segment_slices")
    assert not (slices["status"] == "alert").any()
    assert not (expected.slices["status"] == "alert").any()


def test_dbt_build_passes(healthy):
    build, _ = healthy
    assert build.exit_code == 0, build.describe()
    assert not build.failed_nodes(), build.describe()


def test_the_naive_rule_would_flag_many_segments(healthy):
    build, expected = healthy
    segments = expected.segments
    naive = reference.naive_gap_count(segments)
    assert naive > 20, f"the naive rule flags only {naive} segments"
    # Mostly tiny segments: the method, not the data, keeps them out of alert.
    flagged = segments[segments["completion_rate"] < segments["alert_threshold_rate"]]
    assert flagged["task_count"].median() < 10
    assert (segments["status"] != "alert").all()
    # The mart shows the same naive flags, for transparency.
    mart = build.table("marts.segment_completion")
    assert int(mart["is_naive_gap"].sum()) == naive


def test_healthy_data_has_many_small_segments(healthy):
    _, expected = healthy
    segments = expected.segments
    assert len(segments) > 300
    assert (segments["task_count"] < 30).sum() > 200
