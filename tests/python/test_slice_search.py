"""The combination search (segment_slices, slice_attribution) on planted and healthy data, and
against the reference slice finders (SliceLine, DivExplorer) on the same tasks.

* The `interaction` demo profile plants a failing combination whose attributes look mild
  alone: enterprise tier ~3-4 points below the aggregate, 3+ missing fields ~6 below, the two
  together ~37 below, spread over dozens of enterprise customers. It must be the only
  non-redundant alert, its attributes alone must not alert, and its Shapley contributions must
  add up to its gap.
* Healthy traffic (Zipf customers, hundreds of small segments) must raise no alert.
* SliceLine and DivExplorer, run on the task-level dimension values the mart grouped, must find
  the same slices with the same sizes and failure counts, the same top slice, the same scores,
  and the same Shapley values. Helpers: slice_checks.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import slice_checks as sc
from conftest import BuildResult, generate_demo

PLANTED = "customer_tier=enterprise AND missing_required_fields=3+"
ENTERPRISE = "customer_tier=enterprise"
MISSING_3 = "missing_required_fields=3+"
# Seed 3: ~20k tasks, 409 in the planted slice, no enterprise customer with 30 tasks in it.
INTERACTION_ARGS = {"weeks": 4, "tasks_per_week": 5000, "seed": 3}
K = 10


@pytest.fixture(scope="module")
def interaction_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_demo(tmp_path_factory.mktemp("interaction"), "interaction", **INTERACTION_ARGS)


@pytest.fixture(scope="module")
def interaction(dbt_build, interaction_raw) -> BuildResult:
    build = dbt_build(interaction_raw)
    assert build.db_path.exists(), build.describe()
    assert not build.unexpected_failures(), build.describe()
    return build


@pytest.fixture(scope="module")
def interaction_slices(interaction) -> pd.DataFrame:
    return sc.mart_slices(interaction).set_index("slice_key", drop=False)


# ---------------------------------------------------------------------------
# Planted interaction


def test_interaction_profile_plants_a_combination_neither_attribute_shows(interaction_slices):
    slices = interaction_slices
    population = slices[slices["slice_dimensions"] == "customer_tier"]["task_count"].sum()
    assert 18_000 <= population <= 22_000
    assert 2.5 <= slices.loc[ENTERPRISE, "gap_pp"] <= 5
    assert 4 <= slices.loc[MISSING_3, "gap_pp"] <= 8
    assert 33 <= slices.loc[PLANTED, "gap_pp"] <= 42
    assert slices.loc[PLANTED, "task_count"] >= 300
    # Everything else is flat: no other large segment is more than 3 points off.
    singles = slices[(slices["slice_level"] == 1) & (slices["task_count"] >= 500)]
    others = singles.drop(index=[ENTERPRISE, MISSING_3])
    assert (others["gap_pp"].abs() < 3).all(), others[["task_count", "gap_pp"]]
    # Spread over many customers: no customer has enough 3+ tasks to be tested on its own.
    per_customer = slices[
        (slices["slice_dimensions"] == "customer AND missing_required_fields")
        & slices["slice_key"].str.endswith(MISSING_3)
    ]
    assert len(per_customer) >= 10
    assert per_customer["task_count"].max() < 30


def test_the_combination_is_the_only_non_redundant_alert(interaction, interaction_slices):
    slices = interaction_slices
    alerts = slices[slices["status"] == "alert"]
    assert alerts[~alerts["is_redundant"]]["slice_key"].tolist() == [PLANTED]
    assert slices.loc[ENTERPRISE, "status"] != "alert"
    assert slices.loc[MISSING_3, "status"] != "alert"
    # The other alerts are refinements of the combination, reported under it.
    for key in alerts[alerts["is_redundant"]]["slice_key"]:
        assert {ENTERPRISE, MISSING_3} <= set(key.split(" AND ")), key
    # A one-dimension-at-a-time monitor never fires on this data.
    segments = interaction.table("marts.segment_completion")
    assert (segments["status"] != "alert").all()


def test_the_gap_test_names_the_combination(interaction):
    failed = interaction.gap_test_failures()
    assert failed and all("segment_slices" in unique_id for unique_id in failed), failed
    tables = interaction.query(
        "select table_name from information_schema.columns "
        "where table_schema = 'test_failures' and column_name = 'slice_key'"
    )["table_name"]
    assert len(tables) == 1
    stored = interaction.table(f'test_failures."{tables.iloc[0]}"')
    assert stored["slice_key"].tolist() == [PLANTED]
    assert {"task_count", "completion_rate", "gap_pp", "failure_share"} <= set(stored.columns)


def test_shapley_contributions_add_up_to_the_gap(interaction, interaction_slices):
    slices = interaction_slices
    attribution = interaction.query(
        f"select * from marts.slice_attribution where slice_key = '{PLANTED}'"
    )
    assert sorted(attribution["predicate_dimension"]) == [
        "customer_tier",
        "missing_required_fields",
    ]
    gap = slices.loc[PLANTED, "gap_pp"]
    assert math.isclose(attribution["contribution_pp"].sum(), gap, abs_tol=1e-9)
    assert math.isclose(attribution["contribution_share"].sum(), 1.0, abs_tol=1e-12)
    assert (attribution["slice_gap_pp"] - gap).abs().max() < 1e-9
    # By hand: phi(a) = gap(a)/2 + (gap(a, b) - gap(b))/2.
    gaps = {
        frozenset([ENTERPRISE]): slices.loc[ENTERPRISE, "gap_pp"],
        frozenset([MISSING_3]): slices.loc[MISSING_3, "gap_pp"],
        frozenset([ENTERPRISE, MISSING_3]): gap,
    }
    expected = sc.shapley_from_gaps(gaps, [ENTERPRISE, MISSING_3])
    for row in attribution.to_dict("records"):
        predicate = f"{row['predicate_dimension']}={row['predicate_value']}"
        assert math.isclose(row["contribution_pp"], expected[predicate], abs_tol=1e-9)
        # Each attribute explains far more inside the combination than it shows alone.
        assert row["contribution_pp"] > 2 * gaps[frozenset([predicate])]


# ---------------------------------------------------------------------------
# Healthy traffic


def test_healthy_traffic_raises_no_slice_alert(dbt_build, healthy_raw):
    build = dbt_build(healthy_raw)
    slices = sc.mart_slices(build)
    alerts = slices[slices["status"] == "alert"]
    assert alerts.empty, alerts[["slice_key", "task_count", "completion_rate", "q_value"]]
    # Not vacuous: hundreds of small segments, and many combinations large enough to test.
    singles = slices[slices["slice_level"] == 1]
    assert (singles["task_count"] < 30).sum() > 200
    tested_combinations = slices[(slices["slice_level"] >= 2) & (slices["task_count"] >= 30)]
    assert len(tested_combinations) > 500
    # The naive rule would have flagged some of them.
    naive = slices[slices["completion_rate"] < slices["overall_completion_rate"] - 0.15]
    assert len(naive) > 20


# ---------------------------------------------------------------------------
# Reference implementations on the same tasks


@pytest.fixture(scope="module", params=["interaction", "story"])
def cross_check(request, dbt_build) -> tuple[BuildResult, sc.SliceConfig, pd.DataFrame]:
    """A build, its slice vars and the counted tasks the mart grouped."""
    if request.param == "interaction":
        build = request.getfixturevalue("interaction")
    else:
        build = dbt_build(request.getfixturevalue("story_raw"))
    config = sc.slice_config(build.vars)
    tasks = sc.counted_tasks(build, config)
    return build, config, tasks


@pytest.fixture(scope="module")
def divexplorer_result(cross_check) -> sc.DivExplorerResult:
    _, config, tasks = cross_check
    return sc.run_divexplorer(tasks, config)


def test_the_packages_see_the_mart_population(cross_check):
    build, _, tasks = cross_check
    population_tasks, population_failed = sc.population(tasks)
    overall = build.query("select distinct overall_completion_rate from marts.segment_slices")
    assert len(overall) == 1
    assert math.isclose(overall.iloc[0, 0], 1 - population_failed / population_tasks, abs_tol=1e-12)


def test_divexplorer_finds_the_same_slices_with_the_same_counts(cross_check, divexplorer_result):
    build, config, _ = cross_check
    mart = sc.mart_slices(build)
    # The mart keeps every single segment; combinations need the minimum support, as itemsets do.
    mart = mart[mart["task_count"] >= config.min_support].set_index("slice_key")
    found = divexplorer_result.slices.set_index("slice_key")
    assert sorted(set(found.index) - set(mart.index))[:10] == []
    assert sorted(set(mart.index) - set(found.index))[:10] == []
    joined = mart.join(found.add_suffix("_divexplorer"))
    assert (joined["task_count"] == joined["task_count_divexplorer"]).all()
    assert (joined["failed_count"] == joined["failed_count_divexplorer"]).all()
    assert (joined["slice_level"] == joined["slice_level_divexplorer"]).all()
    # DivExplorer's divergence of the failure rate is the mart's gap, in points.
    difference = (joined["gap_pp"] - 100 * joined["divergence_divexplorer"]).abs()
    assert difference.max() < 1e-9, joined.loc[difference.idxmax()]


def test_sliceline_top_slices_match_the_mart(cross_check):
    build, config, tasks = cross_check
    population_tasks, population_failed = sc.population(tasks)
    mart = sc.mart_slices(build)
    mart = mart[mart["task_count"] >= config.min_support].copy()
    # SliceLine takes seconds on the large build: one alpha there, two on the small one.
    for alpha in (0.95,) if len(tasks) > 5_000 else (0.95, 0.99):
        found = sc.run_sliceline(tasks, config, alpha=alpha, k=K).set_index("slice_key")
        mart["score"] = sc.sliceline_score(
            mart["task_count"], mart["failed_count"], population_tasks, population_failed, alpha
        )
        expected = sc.top_k(mart[mart["score"] > 0], K).set_index("slice_key")
        assert len(expected) >= K, alpha
        assert list(found.index) == list(expected.index), alpha
        assert (found["task_count"] == expected["task_count"]).all(), alpha
        assert (found["failed_count"] == expected["failed_count"]).all(), alpha
        tolerance = 1e-9 * expected["score"].abs()
        assert ((found["score"] - expected["score"]).abs() <= tolerance).all(), alpha
        if build.raw_path.name.startswith("interaction") and alpha == 0.95:
            assert found.index[0] == PLANTED


def test_divexplorer_shapley_matches_slice_attribution(cross_check, divexplorer_result):
    build, _, _ = cross_check
    attribution = build.table("marts.slice_attribution")
    if build.raw_path.name.startswith("interaction"):
        assert PLANTED in set(attribution["slice_key"])
    for key, rows in attribution.groupby("slice_key"):
        shapley = divexplorer_result.shapley(sc.parse_slice_key(key))
        assert len(shapley) == len(rows)
        for row in rows.to_dict("records"):
            predicate = f"{row['predicate_dimension']}={row['predicate_value']}"
            # contribution_pp is in points of completion gap = failure-rate divergence x 100.
            assert math.isclose(row["contribution_pp"], 100 * shapley[predicate], abs_tol=1e-9)
