"""The project works on a contract of its own: other task types, fields, dimensions, formats.

A copy of the project gets a different seeds/required_input_fields.csv and a
Parquet raw folder with task types the shipped seed does not know; segments
are configured as `task_type`, `attributes.region` and
`missing_required_fields`. A second folder mixes JSONL and Parquet (with
`input` as a Parquet struct and timestamps as Parquet timestamps). The marts
must equal reference.py's recomputation.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import (
    PROJECT_DIR,
    BuildResult,
    format_problems,
    reference_for,
    segment_mismatches,
    task_mismatches,
)

DIMENSIONS = ["task_type", "attributes.region", "missing_required_fields"]
CUSTOM_VARS = {"segment_dimensions": DIMENSIONS}

REQUIRED_FIELDS_CSV = """task_type,field_name
invoice_review,vendor_name
invoice_review,invoice_total
invoice_review,due_date
contract_check,party_a
contract_check,party_b
contract_check,effective_date
contract_check,governing_law
"""
# expense_audit has no required fields: its tasks miss 0.
TASK_FIELDS = {
    "invoice_review": ["vendor_name", "invoice_total", "due_date"],
    "contract_check": ["party_a", "party_b", "effective_date", "governing_law"],
    "expense_audit": [],
}
REGIONS = ["nordics", "iberia", "benelux", "latam", None]
# latam completes far less often: the build should alert on it.
REGION_SUCCESS = {"nordics": 0.93, "iberia": 0.92, "benelux": 0.94, "latam": 0.45, None: 0.9}
STATUSES_SUCCESS = ["completed", "Succeeded", "done"]
STATUSES_FAILURE = ["failed", "error", "timeout"]
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def copy_project(destination: Path) -> Path:
    """The dbt project without its virtualenv, data, build output and Python tests."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "selectors.yml"):
        if (PROJECT_DIR / name).exists():
            shutil.copy2(PROJECT_DIR / name, destination / name)
    for folder in ("models", "macros", "seeds", "analyses", "snapshots"):
        if (PROJECT_DIR / folder).is_dir():
            shutil.copytree(PROJECT_DIR / folder, destination / folder)
    tests = destination / "tests"
    tests.mkdir()
    for path in (PROJECT_DIR / "tests").glob("*.sql"):
        shutil.copy2(path, tests / path.name)
    for folder in ("generic", "fixtures"):
        if (PROJECT_DIR / "tests" / folder).is_dir():
            shutil.copytree(PROJECT_DIR / "tests" / folder, tests / folder)
    return destination


def _task_rows(rng: np.random.Generator, count: int, prefix: str) -> list[dict]:
    """Task runs of the custom contract, as plain records (one run per task, some retried)."""
    rows = []
    task_types = list(TASK_FIELDS)
    for number in range(count):
        task_type = task_types[rng.integers(len(task_types))]
        region = REGIONS[rng.integers(len(REGIONS))]
        fields = TASK_FIELDS[task_type]
        payload: dict = {}
        for field in fields:
            roll = rng.random()
            if roll < 0.12:
                continue  # absent
            payload[field] = None if roll < 0.18 else ("  " if roll < 0.22 else f"{field}-{number}")
        payload["notes"] = "x" * int(rng.integers(0, 900))
        succeeded = rng.random() < REGION_SUCCESS[region]
        status = (STATUSES_SUCCESS if succeeded else STATUSES_FAILURE)[rng.integers(3)]
        if rng.random() < 0.03:
            status = "cancelled"
        started = START + timedelta(minutes=int(number * 7 + rng.integers(0, 5)))
        attributes: dict = {"channel": ["web", "api"][rng.integers(2)]}
        if region is not None:
            attributes["region"] = region
        base = {
            "task_id": f"{prefix}-task-{number:04d}",
            "task_type": task_type,
            "user_id": f"user-{rng.integers(12):02d}",
            "customer_id": f"cust-{rng.integers(25):02d}",
            "request_text": "Check the totals and then file it; also notify finance"
            if rng.random() < 0.3
            else "Check it",
            "latency_ms": int(rng.integers(300, 90_000)),
        }
        if rng.random() < 0.1:
            # A failed first attempt before the deciding one.
            rows.append(
                {
                    **base,
                    "task_run_id": f"{prefix}-run-{number:04d}-1",
                    "attempt": 1,
                    "status": "failed",
                    "started_at": started - timedelta(minutes=3),
                    "input": payload,
                    "attributes": attributes,
                }
            )
            attempt = 2
        else:
            attempt = 1
        rows.append(
            {
                **base,
                "task_run_id": f"{prefix}-run-{number:04d}-{attempt}",
                "attempt": attempt,
                "status": status,
                "started_at": started,
                "input": payload,
                "attributes": attributes,
            }
        )
    return rows


def _as_text_table(rows: list[dict]) -> pa.Table:
    """Parquet as many writers produce it: timestamps as ISO text, JSON columns as text."""
    return pa.table(
        {
            "task_run_id": [row["task_run_id"] for row in rows],
            "task_id": [row["task_id"] for row in rows],
            "attempt": pa.array([row["attempt"] for row in rows], pa.int64()),
            "task_type": [row["task_type"] for row in rows],
            "user_id": [row["user_id"] for row in rows],
            "customer_id": [row["customer_id"] for row in rows],
            "status": [row["status"] for row in rows],
            "started_at": [row["started_at"].strftime("%Y-%m-%dT%H:%M:%SZ") for row in rows],
            "request_text": [row["request_text"] for row in rows],
            "latency_ms": pa.array([row["latency_ms"] for row in rows], pa.int64()),
            "input": [json.dumps(row["input"]) for row in rows],
            "attributes": [json.dumps(row["attributes"]) for row in rows],
        }
    )


def _as_typed_table(rows: list[dict]) -> pa.Table:
    """Parquet with native types: timestamps as timestamps, `input` as a struct."""
    fields = sorted({field for row in rows for field in row["input"]})
    input_type = pa.struct([(field, pa.string()) for field in fields])
    return pa.table(
        {
            "task_run_id": [row["task_run_id"] for row in rows],
            "task_id": [row["task_id"] for row in rows],
            "attempt": pa.array([row["attempt"] for row in rows], pa.int64()),
            "task_type": [row["task_type"] for row in rows],
            "user_id": [row["user_id"] for row in rows],
            "customer_id": [row["customer_id"] for row in rows],
            "status": [row["status"] for row in rows],
            "started_at": pa.array(
                [row["started_at"].replace(tzinfo=None) for row in rows], pa.timestamp("us")
            ),
            "latency_ms": pa.array([row["latency_ms"] for row in rows], pa.int64()),
            "input": pa.array([row["input"] for row in rows], input_type),
            "attributes": [json.dumps(row["attributes"]) for row in rows],
        }
    )


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            record = {**row, "started_at": row["started_at"].isoformat()}
            handle.write(json.dumps(record) + "\n")


@pytest.fixture(scope="module")
def custom_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("custom_project") / "project")
    (project / "seeds" / "required_input_fields.csv").write_text(REQUIRED_FIELDS_CSV)
    return project


@pytest.fixture(scope="module")
def parquet_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("custom_parquet")
    rng = np.random.default_rng(2024)
    pq.write_table(_as_text_table(_task_rows(rng, 260, "p1")), raw / "task_runs_part1.parquet")
    pq.write_table(_as_text_table(_task_rows(rng, 260, "p2")), raw / "task_runs_part2.parquet")
    return raw


@pytest.fixture(scope="module")
def mixed_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("custom_mixed")
    rng = np.random.default_rng(77)
    _write_jsonl(raw / "task_runs_jsonl_part.jsonl", _task_rows(rng, 180, "j"))
    pq.write_table(_as_typed_table(_task_rows(rng, 180, "q")), raw / "task_runs_typed.parquet")
    (raw / "customers.csv").write_text(
        "customer_id,customer_name,tier\n"
        + "".join(f"cust-{n:02d},Customer {n},{['free', 'pro'][n % 2]}\n" for n in range(20))
    )
    return raw


@pytest.fixture(scope="module", params=["parquet", "mixed"])
def custom_build(request, dbt_build, custom_project) -> BuildResult:
    raw = request.getfixturevalue(f"{request.param}_raw")
    build = dbt_build(raw, CUSTOM_VARS, project_dir=custom_project)
    assert build.db_path.exists(), build.describe()
    return build


def test_build_fails_only_on_gap_tests(custom_build):
    assert not custom_build.unexpected_failures(), custom_build.describe()


def test_segments_match_the_reference(custom_build):
    mart = custom_build.table("marts.segment_completion")
    expected = reference_for(custom_build)
    assert set(mart["dimension"]) == set(DIMENSIONS)
    assert set(expected.segments["dimension"]) == set(DIMENSIONS)
    problems = segment_mismatches(mart, expected.segments)
    assert not problems, format_problems(problems)


def test_tasks_match_the_reference(custom_build):
    expected = reference_for(custom_build)
    assert set(expected.tasks["task_type"]) == set(TASK_FIELDS)
    assert (expected.tasks["missing_required_field_count"] > 0).any()
    problems = task_mismatches(custom_build.table("marts.fct_task_runs"), expected.tasks)
    assert not problems, format_problems(problems)


def test_nothing_is_rejected(custom_build):
    rejected = custom_build.table("marts.rejected_task_runs")
    assert rejected.empty, rejected[["source_file", "record_number", "rejection_reason"]]


def test_the_planted_region_alerts(custom_build):
    mart = custom_build.table("marts.segment_completion").set_index(["dimension", "segment_value"])
    assert mart.loc[("attributes.region", "latam"), "status"] == "alert"
    assert mart.loc[("attributes.region", "nordics"), "status"] == "ok"
    assert ("attributes.region", "(missing)") in mart.index
    assert ("task_type", "expense_audit") in mart.index
