"""Helpers for the slice-search checks: the same search by the reference packages.

`segment_slices` searches every combination of 1..max_slice_level segment values in one
`GROUP BY GROUPING SETS` pass. The two published slice finders do the same search in memory:

* SliceLine (package ``sliceline``): top-k slices by the score
  ``alpha * ((f/n) / (F/N) - 1) - (1 - alpha) * (N/n - 1)`` with a minimum support;
* DivExplorer (package ``divexplorer``): every itemset with a minimum support (FP-growth),
  its divergence ``f(I) - f(D)`` in the failure rate, and Shapley values of its items.

Both search every combination of up to ``max_l`` columns, while the mart lets a
high-cardinality dimension (var ``high_cardinality_dimensions``) enter only combinations of
at most two dimensions, and never with another high-cardinality one. `search_groups` splits the
search into runs whose lattices together hold exactly the mart's dimension sets: the ordinary
dimensions up to ``max_slice_level``, and each high-cardinality dimension with the ordinary
ones up to level 2. Results are merged by slice key.

Everything here reads a finished build (`conftest.BuildResult`) and the task-level dimension
values the mart grouped (`int_tasks_segment_values`), so the packages see the same rows.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
MISSING = "(missing)"


@dataclass(frozen=True)
class SliceConfig:
    """The vars that shape the slice search."""

    dimensions: tuple[str, ...]  # configured names, sorted (the order of slice keys)
    high_cardinality: frozenset[str]
    max_level: int
    min_support: int
    segment_min_tasks: int

    @property
    def ordinary(self) -> list[str]:
        return [d for d in self.dimensions if d not in self.high_cardinality]


def slice_config(build_vars: dict[str, Any] | None = None) -> SliceConfig:
    """The project's vars (dbt_project.yml) overridden by the build's --vars."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    merged = {**project["vars"], **(build_vars or {})}
    dimensions = tuple(sorted(merged["segment_dimensions"]))
    return SliceConfig(
        dimensions=dimensions,
        high_cardinality=frozenset(merged["high_cardinality_dimensions"]) & set(dimensions),
        max_level=int(merged["max_slice_level"]),
        min_support=int(merged["slice_min_support"]),
        segment_min_tasks=int(merged["segment_min_tasks"]),
    )


def dimension_column(name: str) -> str:
    """The mart's column for a configured dimension (macros/segment_dimensions.sql)."""
    return "dim_" + name.replace(".", "_").replace("-", "_").lower()


def dimension_sets(config: SliceConfig) -> set[tuple[str, ...]]:
    """The sets the mart searches (macros/segment_slice_sets.sql), each sorted."""
    sets = set()
    for level in range(1, config.max_level + 1):
        for subset in itertools.combinations(config.dimensions, level):
            high = sum(d in config.high_cardinality for d in subset)
            if level == 1 or high == 0 or (level == 2 and high == 1):
                sets.add(subset)
    return sets


def search_groups(config: SliceConfig) -> list[tuple[list[str], int]]:
    """(columns, max level) runs whose lattices together hold exactly `dimension_sets`."""
    groups = [(config.ordinary, config.max_level)] if config.ordinary else []
    for high in sorted(config.high_cardinality):
        groups.append(([high, *config.ordinary], min(2, config.max_level)))
    covered = {
        tuple(sorted(subset))
        for columns, level in groups
        for size in range(1, level + 1)
        for subset in itertools.combinations(columns, size)
    }
    assert covered == dimension_sets(config), "search groups must cover the mart's sets exactly"
    return groups


def slice_key(predicates: dict[str, str]) -> str:
    """The mart's canonical key: `dim=value AND ...`, dimensions sorted by name."""
    return " AND ".join(f"{d}={predicates[d]}" for d in sorted(predicates))


def counted_tasks(build: Any, config: SliceConfig) -> pd.DataFrame:
    """One row per counted task the slices judge: a column per dimension and `failed` (0/1)."""
    columns = build.query(
        "select column_name from information_schema.columns "
        "where table_schema = 'intermediate' and table_name = 'int_tasks_segment_values'"
    )["column_name"].tolist()
    # Newer builds judge only an evaluation window (all tasks by default).
    window = "and is_in_evaluation_window" if "is_in_evaluation_window" in columns else ""
    select = ", ".join(f'{dimension_column(d)} as "{d}"' for d in config.dimensions)
    tasks = build.query(
        f"select {select}, case when is_success then 0 else 1 end as failed "
        f"from intermediate.int_tasks_segment_values where is_counted {window} order by task_id"
    )
    for dimension in config.dimensions:
        tasks[dimension] = tasks[dimension].astype(str)
    return tasks


def mart_slices(build: Any) -> pd.DataFrame:
    """The columns of segment_slices the checks read."""
    return build.query(
        "select slice_key, slice_dimensions, slice_level, status, is_redundant, "
        "redundant_under_slice_key, task_count, failed_count, completion_rate, "
        "completion_rate_ci_high, overall_completion_rate, gap_pp, q_value "
        "from marts.segment_slices"
    )


def population(tasks: pd.DataFrame) -> tuple[int, int]:
    """(N, F): counted tasks and failures."""
    return len(tasks), int(tasks["failed"].sum())


# ---------------------------------------------------------------------------
# SliceLine


def sliceline_score(
    task_count: np.ndarray | float,
    failed_count: np.ndarray | float,
    population_tasks: int,
    population_failed: int,
    alpha: float,
) -> np.ndarray | float:
    """SliceLine's score of a slice, from its counts (SIGMOD 2021, eq. 1)."""
    average_error = population_failed / population_tasks
    return alpha * ((np.divide(failed_count, task_count)) / average_error - 1) - (1 - alpha) * (
        np.divide(population_tasks, task_count) - 1
    )


def top_k(frame: pd.DataFrame, k: int, score: str = "score") -> pd.DataFrame:
    """Rows whose score ranks within the first k, ties kept (SliceLine's rule, rank 'min')."""
    rank = frame[score].rank(method="min", ascending=False)
    return frame[rank <= k].sort_values([score, "slice_key"], ascending=[False, True])


def run_sliceline(tasks: pd.DataFrame, config: SliceConfig, alpha: float, k: int) -> pd.DataFrame:
    """SliceLine's top-k slices over the mart's dimension sets: key, level, n, f, score."""
    from sliceline.slicefinder import Slicefinder

    errors = tasks["failed"].to_numpy(dtype=float)
    # Integer codes per column (memory: no Python string per cell), decoded afterwards.
    codes, labels = {}, {}
    for column in config.dimensions:
        codes[column], labels[column] = pd.factorize(tasks[column], sort=True)
    rows = []
    for columns, max_level in search_groups(config):
        finder = Slicefinder(
            alpha=alpha, k=k, max_l=max_level, min_sup=config.min_support, verbose=False
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "numba not available": only slower
            finder.fit(np.column_stack([codes[c] for c in columns]), errors)
        for values, stats in zip(finder.top_slices_, finder.top_slices_statistics_, strict=True):
            predicates = {
                c: str(labels[c][int(v)])
                for c, v in zip(columns, values, strict=True)
                if v is not None
            }
            rows.append(
                {
                    "slice_key": slice_key(predicates),
                    "slice_level": len(predicates),
                    "task_count": int(stats["slice_size"]),
                    "failed_count": int(stats["sum_slice_error"]),
                    "score": stats["slice_score"],
                }
            )
    found = pd.DataFrame(rows).drop_duplicates("slice_key")
    return top_k(found, k)


# ---------------------------------------------------------------------------
# DivExplorer


def min_support_fraction(min_support: int, population_tasks: int) -> float:
    """min_support / N as the fraction FP-growth takes; it keeps itemsets with
    count >= ceil(fraction * N), so nudge the fraction down if rounding would ask for more."""
    fraction = min_support / population_tasks
    while math.ceil(fraction * population_tasks) > min_support:
        fraction = float(np.nextafter(fraction, 0.0))
    return fraction


@contextlib.contextmanager
def divexplorer_max_len(max_len: int) -> Iterator[None]:
    """DivExplorer 0.2.x does not pass a maximum itemset length to its FP-growth
    (`fpgrowth_cm(..., max_len=None)`); set it for the duration of a call."""
    import divexplorer.divexplorer as module

    original = module.fpgrowth_cm
    module.fpgrowth_cm = functools.partial(original, max_len=max_len)
    try:
        yield
    finally:
        module.fpgrowth_cm = original


@dataclass
class DivExplorerResult:
    slices: pd.DataFrame  # slice_key, slice_level, task_count, failed_count, divergence
    processors: list[Any]  # one DivergencePatternProcessor per search group
    group_columns: list[list[str]]

    def shapley(self, predicates: dict[str, str]) -> dict[str, float]:
        """DivExplorer's Shapley values of a slice's items, keyed `dim=value`."""
        for columns, processor in zip(self.group_columns, self.processors, strict=True):
            if set(predicates) <= set(columns):
                pattern = frozenset(f"{d}={v}" for d, v in predicates.items())
                values = processor.shapley_value(pattern=pattern)
                return {next(iter(item)): float(value) for item, value in values.items()}
        raise KeyError(f"no search group holds {sorted(predicates)}")


def run_divexplorer(tasks: pd.DataFrame, config: SliceConfig) -> DivExplorerResult:
    """Every slice with the minimum support over the mart's dimension sets, by DivExplorer."""
    from divexplorer import DivergenceExplorer, DivergencePatternProcessor

    fraction = min_support_fraction(config.min_support, len(tasks))
    rows, processors, group_columns = [], [], []
    for columns, max_level in search_groups(config):
        with divexplorer_max_len(max_level), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecations inside DivExplorer 0.2.6
            patterns = DivergenceExplorer(tasks[[*columns, "failed"]]).get_pattern_divergence(
                min_support=fraction, boolean_outcomes=["failed"], show_coincise=False
            )
        processors.append(DivergencePatternProcessor(patterns, "failed"))
        group_columns.append(columns)
        for record in patterns.to_dict("records"):
            if not record["itemset"]:
                continue  # the whole data set
            predicates = dict(item.split("=", 1) for item in record["itemset"])
            rows.append(
                {
                    "slice_key": slice_key(predicates),
                    "slice_level": len(predicates),
                    "task_count": int(record["support_count"]),
                    "failed_count": int(record["failed_positive"]),
                    "divergence": float(record["failed_div"]),
                }
            )
    slices = pd.DataFrame(rows).drop_duplicates("slice_key").reset_index(drop=True)
    return DivExplorerResult(slices, processors, group_columns)


def parse_slice_key(key: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in key.split(" AND "))


def shapley_from_gaps(gaps: dict[frozenset[str], float], predicates: Sequence[str]) -> dict:
    """Shapley split of gap(S) over S's predicates, gap(empty set) = 0 (for hand checks)."""
    k = len(predicates)
    values = {}
    for item in predicates:
        others = [p for p in predicates if p != item]
        total = 0.0
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in itertools.combinations(others, size):
                without = gaps.get(frozenset(subset), 0.0) if subset else 0.0
                total += weight * (gaps[frozenset((*subset, item))] - without)
        values[item] = total
    return values
