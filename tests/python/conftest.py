"""Harness for the end-to-end tests: build the dbt project on a raw folder.

Each build gets its own target, log folder and DuckDB file, so builds never
clash, and a session-wide cache builds the same (project, raw folder, vars)
only once. Tests read the marts read-only and compare them with
`reference.py`, which recomputes everything from the same raw folder.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parents[1]
FIXTURES_DIR = TESTS_DIR / "fixtures"
DBT_EXECUTABLE = PROJECT_DIR / ".venv" / "bin" / "dbt"
DBT_TIMEOUT_SECONDS = 600

# Tests import reference.py and the helpers below whatever pytest's import mode.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

import reference  # noqa: E402  (after the sys.path line above)

# The salt of the pseudonyms in every build the tests run (docs/privacy.md):
# set for this process, so every dbt the tests start (through this harness or
# their own) gets it, and reference.py hashes the ids with the same one.
TEST_ID_SALT = "agent-segments-test-salt"
os.environ["AGENT_SEGMENTS_ID_SALT"] = TEST_ID_SALT
# The story demo's failing customer (generate_demo_data.NORTHWIND_ID) as the marts show it.
STORY_FAILING_CUSTOMER = reference.pseudonym("cust_northwind", "cust", TEST_ID_SALT)

# Data tests that fail the build by design when a segment is in `alert`
# (dbt names them <package>_segment_gap_within_threshold_<model>_...).
GAP_TEST_NAME = "segment_gap_within_threshold"
FAILED_STATUSES = {"error", "fail", "runtime error", "skipped"}

DEFAULT_DIMENSIONS = [
    "customer",
    "customer_tier",
    "team",
    "user",
    "task_type",
    "agent_version",
    "missing_required_fields",
    "input_length",
    "request_complexity",
]
DEFAULT_VARS: dict[str, Any] = {
    "segment_dimensions": DEFAULT_DIMENSIONS,
    "segment_gap_pp": 15,
    "segment_min_tasks": 30,
    "segment_confidence": 0.95,
    "segment_fdr": 0.05,
    "input_length_bucket_edges": [400, 800, 1600],
    "max_clock_skew_hours": 24,
    "max_slice_level": 3,
    "high_cardinality_dimensions": ["customer", "user"],
    "slice_min_support": 10,
    "slice_redundancy_margin": 0.05,
}


def _is_gap_test(unique_id: str) -> bool:
    resource_type, _, name = unique_id.split(".")[:3]
    return resource_type == "test" and GAP_TEST_NAME in name


@dataclass(frozen=True)
class BuildResult:
    """What one `dbt build` left behind."""

    exit_code: int
    run_results: dict
    db_path: Path
    project_dir: Path
    raw_path: Path
    vars: dict
    started_at: datetime
    output: str

    def node_statuses(self) -> dict[str, str]:
        return {result["unique_id"]: result["status"] for result in self.run_results["results"]}

    def failed_nodes(self) -> list[str]:
        """unique_ids of nodes that errored, failed or were skipped."""
        return sorted(
            unique_id
            for unique_id, status in self.node_statuses().items()
            if status in FAILED_STATUSES
        )

    def unexpected_failures(self) -> list[str]:
        """Failed nodes other than the segment gap tests (which fail by design on alerts)."""
        return [unique_id for unique_id in self.failed_nodes() if not _is_gap_test(unique_id)]

    def gap_test_failures(self) -> list[str]:
        return [unique_id for unique_id in self.failed_nodes() if _is_gap_test(unique_id)]

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.db_path), read_only=True) as connection:
            return connection.execute(sql).df()

    def table(self, relation: str) -> pd.DataFrame:
        return self.query(f"select * from {relation}")

    def describe(self) -> str:
        """A short account of a build for assertion messages."""
        failed = {unique_id: self.node_statuses()[unique_id] for unique_id in self.failed_nodes()}
        return f"exit {self.exit_code}, failed nodes {failed}\n{self.output[-4000:]}"


@dataclass(frozen=True)
class DbtBuildCommand:
    """How run_dbt_build starts dbt; a test that must kill a build starts it itself."""

    command: list[str]
    environment: dict[str, str]
    project_dir: Path
    raw_path: Path
    vars: dict
    db_path: Path
    target_path: Path


def dbt_build_command(
    raw_path: Path,
    work_dir: Path,
    dbt_vars: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
    extra_args: Sequence[str] = (),
) -> DbtBuildCommand:
    """`dbt build` of `project_dir` on `raw_path`, writing only under `work_dir`
    (its warehouse is `work_dir`/warehouse.duckdb, so building into the same
    work_dir again builds on the same warehouse). `extra_args` go to dbt build."""
    raw_path = Path(raw_path).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    all_vars = {**(dbt_vars or {}), "raw_path": str(raw_path)}
    db_path = work_dir / "warehouse.duckdb"
    target_path = work_dir / "target"
    environment = {
        **os.environ,
        "AGENT_SEGMENTS_DB": str(db_path),
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "AGENT_SEGMENTS_ID_SALT": TEST_ID_SALT,
    }
    command = [
        str(DBT_EXECUTABLE),
        "build",
        "--vars",
        json.dumps(all_vars),
        "--target-path",
        str(target_path),
        "--log-path",
        str(work_dir / "logs"),
        *extra_args,
    ]
    return DbtBuildCommand(
        command, environment, Path(project_dir), raw_path, all_vars, db_path, target_path
    )


def run_dbt_build(
    raw_path: Path,
    work_dir: Path,
    dbt_vars: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
    extra_args: Sequence[str] = (),
) -> BuildResult:
    """Runs dbt_build_command(...) to its end (same arguments)."""
    build = dbt_build_command(raw_path, work_dir, dbt_vars, project_dir, extra_args)
    started_at = datetime.now(UTC)
    completed = subprocess.run(
        build.command,
        cwd=build.project_dir,
        env=build.environment,
        capture_output=True,
        text=True,
        timeout=DBT_TIMEOUT_SECONDS,
        check=False,
    )
    run_results_path = build.target_path / "run_results.json"
    run_results = (
        json.loads(run_results_path.read_text()) if run_results_path.exists() else {"results": []}
    )
    return BuildResult(
        exit_code=completed.returncode,
        run_results=run_results,
        db_path=build.db_path,
        project_dir=build.project_dir,
        raw_path=build.raw_path,
        vars=build.vars,
        started_at=started_at,
        output=completed.stdout + completed.stderr,
    )


@pytest.fixture(scope="session")
def dbt_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., BuildResult]:
    """build(raw_path, dbt_vars=None, project_dir=PROJECT_DIR) -> BuildResult, once per session."""
    cache: dict[tuple[str, str, str], BuildResult] = {}

    def build(
        raw_path: Path,
        dbt_vars: Mapping[str, Any] | None = None,
        project_dir: Path = PROJECT_DIR,
    ) -> BuildResult:
        key = (
            str(Path(project_dir).resolve()),
            str(Path(raw_path).resolve()),
            json.dumps(dbt_vars or {}, sort_keys=True),
        )
        if key not in cache:
            work_dir = tmp_path_factory.mktemp("dbt_build")
            cache[key] = run_dbt_build(Path(raw_path), work_dir, dbt_vars, Path(project_dir))
        return cache[key]

    return build


# ---------------------------------------------------------------------------
# Demo data


def load_generator() -> Any:
    """scripts/generate_demo_data.py as a module (it is a script, not a package)."""
    path = PROJECT_DIR / "scripts" / "generate_demo_data.py"
    if not path.exists():
        pytest.fail(f"{path} is missing: the demo data generator is needed for this test")
    spec = importlib.util.spec_from_file_location("generate_demo_data", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_demo_data", module)
    spec.loader.exec_module(module)
    return module


def generate_demo(
    out_dir: Path,
    profile: str,
    weeks: int,
    tasks_per_week: int,
    seed: int,
    file_format: str = "jsonl",
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    load_generator().generate(
        out_dir=out_dir,
        profile=profile,
        weeks=weeks,
        tasks_per_week=tasks_per_week,
        seed=seed,
        file_format=file_format,
    )
    return out_dir


@pytest.fixture(scope="session")
def story_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story demo: planted problems (a failing customer, 3+ missing fields)."""
    return generate_demo(
        tmp_path_factory.mktemp("story"), "story", weeks=4, tasks_per_week=300, seed=7
    )


@pytest.fixture(scope="session")
def healthy_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Healthy traffic: many small segments, Zipf customers, no real problem."""
    return generate_demo(
        tmp_path_factory.mktemp("healthy"), "healthy", weeks=4, tasks_per_week=400, seed=11
    )


# ---------------------------------------------------------------------------
# Reference results and comparisons


@dataclass(frozen=True)
class Reference:
    accepted_runs: pd.DataFrame
    rejected: pd.DataFrame
    tasks: pd.DataFrame
    slices: pd.DataFrame
    segments: pd.DataFrame


def reference_for(build: BuildResult) -> Reference:
    """reference.py's answer for the raw folder, seeds and vars of `build`."""
    dbt_vars = {**DEFAULT_VARS, **build.vars}
    accepted, rejected, task_table = reference.build_reference(
        build.raw_path,
        build.project_dir,
        input_length_bucket_edges=dbt_vars["input_length_bucket_edges"],
        max_clock_skew_hours=dbt_vars["max_clock_skew_hours"],
        now=build.started_at,
        id_salt=str(dbt_vars.get("id_salt", TEST_ID_SALT)),
        show_customer_names=bool(dbt_vars.get("show_customer_names", False)),
    )
    slices = reference.slice_completion(
        task_table,
        dbt_vars["segment_dimensions"],
        gap_pp=dbt_vars["segment_gap_pp"],
        min_tasks=dbt_vars["segment_min_tasks"],
        confidence=dbt_vars["segment_confidence"],
        fdr=dbt_vars["segment_fdr"],
        max_slice_level=dbt_vars["max_slice_level"],
        high_cardinality_dimensions=dbt_vars["high_cardinality_dimensions"],
        slice_min_support=dbt_vars["slice_min_support"],
        redundancy_margin=dbt_vars["slice_redundancy_margin"],
    )
    segments = (
        slices[slices["slice_level"] == 1]
        .rename(columns={"slice_dimensions": "dimension", "slice_values": "segment_value"})[
            reference.SEGMENT_COLUMNS
        ]
        .reset_index(drop=True)
    )
    return Reference(accepted, rejected, task_table, slices, segments)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


COUNT_COLUMNS = ["task_count", "completed_count", "failed_count"]
EXACT_COLUMNS = [
    *COUNT_COLUMNS,
    "is_tested",
    "is_naive_gap",
    "status",
    "slice_level",
    "is_redundant",
    "redundant_under_slice_key",
]
RATE_COLUMNS = [
    "completion_rate",
    "completion_rate_ci_low",
    "completion_rate_ci_high",
    "overall_completion_rate",
    "alert_threshold_rate",
    "rest_completion_rate",
    "failure_share",
    "traffic_share",
    "lift",
    "attributable_share",
    "shrunk_completion_rate",
]
POINT_COLUMNS = ["gap_pp", "gap_to_rest_pp"]
PROBABILITY_COLUMNS = ["p_value", "q_value"]


def _by_segment(frame: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """Rows by (dimension, segment_value), or by (slice_dimensions, slice_values) for slices."""
    if "dimension" in frame:
        keys = ["dimension", "segment_value"]
    else:
        keys = ["slice_dimensions", "slice_values"]
    return {(row[keys[0]], row[keys[1]]): row for row in frame.to_dict("records")}


def _close(actual: Any, expected: Any, rel: float, abs_: float) -> bool:
    if _missing(expected) or _missing(actual):
        return _missing(expected) and _missing(actual)
    return math.isclose(float(actual), float(expected), rel_tol=rel, abs_tol=abs_)


def segment_mismatches(
    mart: pd.DataFrame,
    expected: pd.DataFrame,
    columns: Iterable[str] | None = None,
) -> list[str]:
    """Differences between segment_completion (or segment_slices) and the reference, one line
    each. Columns the reference frame lacks are not compared."""
    actual_rows = _by_segment(mart)
    expected_rows = _by_segment(expected)
    problems = []
    only_mart = sorted(set(actual_rows) - set(expected_rows))
    only_reference = sorted(set(expected_rows) - set(actual_rows))
    if only_mart:
        problems.append(f"segments only in the mart: {only_mart[:20]}")
    if only_reference:
        problems.append(f"segments only in the reference: {only_reference[:20]}")
    wanted = (
        set(columns)
        if columns is not None
        else {*EXACT_COLUMNS, *RATE_COLUMNS, *POINT_COLUMNS, *PROBABILITY_COLUMNS}
    )
    wanted &= set(expected.columns)
    absent = sorted(wanted - set(mart.columns))
    if absent:
        problems.append(f"columns missing from the mart: {absent}")
        wanted -= set(absent)
    for key in sorted(set(actual_rows) & set(expected_rows)):
        actual, reference_row = actual_rows[key], expected_rows[key]
        for column in EXACT_COLUMNS:
            if column not in wanted or column not in reference_row:
                continue
            if _normalise(actual[column]) != _normalise(reference_row[column]):
                problems.append(
                    f"{key} {column}: mart {actual[column]!r}, reference {reference_row[column]!r}"
                )
        for column_group, rel, abs_ in (
            (RATE_COLUMNS, 0.0, 1e-9),
            (POINT_COLUMNS, 0.0, 1e-7),
            (PROBABILITY_COLUMNS, 1e-6, 1e-12),
        ):
            for column in column_group:
                if (
                    column in wanted
                    and column in reference_row
                    and not _close(actual[column], reference_row[column], rel, abs_)
                ):
                    problems.append(
                        f"{key} {column}: mart {actual[column]!r}, "
                        f"reference {reference_row[column]!r}"
                    )
    return problems


def _normalise(value: Any) -> Any:
    """Comparable form of a mart or reference cell: None for missing, plain Python types."""
    if _missing(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


# Columns of fct_task_runs compared with reference.tasks(); text segments may be
# stored as null or '(missing)', both mean "missing".
TASK_TEXT_COLUMNS = [
    "task_run_id",
    "user_id",
    "customer_id",
    "customer_name",
    "team",
    "customer_tier",
    "task_type",
    "agent_version",
    "outcome",
    "missing_required_fields_bucket",
    "input_length_bucket",
    "request_complexity_bucket",
]
TASK_NUMBER_COLUMNS = [
    "missing_required_field_count",
    "input_length_chars",
    "request_part_count",
    "attempt_count",
    "is_counted",
    "started_at",
]


def task_mismatches(fct: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Differences between fct_task_runs and reference.tasks(), per task_id."""
    actual_rows = {str(row["task_id"]): row for row in fct.to_dict("records")}
    expected_rows = {str(row["task_id"]): row for row in expected.to_dict("records")}
    problems = []
    if len(actual_rows) != len(fct):
        problems.append(f"fct_task_runs has {len(fct) - len(actual_rows)} repeated task_id(s)")
    only_mart = sorted(set(actual_rows) - set(expected_rows))
    only_reference = sorted(set(expected_rows) - set(actual_rows))
    if only_mart:
        problems.append(f"tasks only in the mart: {only_mart[:20]}")
    if only_reference:
        problems.append(f"tasks only in the reference: {only_reference[:20]}")
    checks: list[tuple[str, Callable[[Any], Any]]] = [
        *((column, _segment_text) for column in TASK_TEXT_COLUMNS),
        *((column, _normalise) for column in TASK_NUMBER_COLUMNS),
    ]
    for task_id in sorted(set(actual_rows) & set(expected_rows)):
        actual, reference_row = actual_rows[task_id], expected_rows[task_id]
        for column, normalise in checks:
            if column not in actual:
                problems.append(f"fct_task_runs has no column {column}")
                continue
            if normalise(actual[column]) != normalise(reference_row[column]):
                problems.append(
                    f"task {task_id} {column}: mart {actual[column]!r}, "
                    f"reference {reference_row[column]!r}"
                )
        if reference_row["is_counted"] and bool(actual["is_success"]) != bool(
            reference_row["is_success"]
        ):
            problems.append(f"task {task_id} is_success: mart {actual['is_success']!r}")
        if "duration_seconds" in actual and not _close(
            actual["duration_seconds"], reference_row["duration_seconds"], 0.0, 1e-6
        ):
            problems.append(
                f"task {task_id} duration_seconds: mart {actual['duration_seconds']!r}, "
                f"reference {reference_row['duration_seconds']!r}"
            )
    return problems


def _segment_text(value: Any) -> str:
    value = _normalise(value)
    return reference.MISSING if value is None else str(value)


def format_problems(problems: list[str], limit: int = 40) -> str:
    shown = "\n".join(problems[:limit])
    more = f"\n... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} difference(s):\n{shown}{more}"
