"""A wrong configuration fails early, naming what is wrong, before any mart changes.

Each case compiles the model that reads the setting, with the setting wrong,
and checks dbt exits non-zero with the project's own one-line message (not a
SQL error from deep inside a query).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import DBT_EXECUTABLE, DBT_TIMEOUT_SECONDS, PROJECT_DIR

MALFORMED_FIXTURE = PROJECT_DIR / "tests" / "python" / "fixtures" / "malformed"

CASES = {
    "unknown dimension": (
        {"segment_dimensions": ["customer", "colour"]},
        "int_tasks_segment_values",
        "Unknown segment dimension 'colour'",
    ),
    "unsafe attributes key": (
        {"segment_dimensions": ["attributes.region'; drop table x; --"]},
        "int_tasks_segment_values",
        "an attributes key may hold only letters, digits",
    ),
    "dimension listed twice": (
        {"segment_dimensions": ["team", "team"]},
        "int_tasks_segment_values",
        "is listed twice",
    ),
    "gap out of range": (
        {"segment_gap_pp": 150},
        "int_slices_scored",
        "segment_gap_pp must be a number of percentage points in (0, 100)",
    ),
    "confidence out of range": (
        {"segment_confidence": 1.5},
        "int_slices_scored",
        "normal_quantile needs a probability strictly between 0 and 1",
    ),
    "false discovery rate out of range": (
        {"segment_fdr": 0},
        "int_slices_scored",
        "segment_fdr must be a rate in (0, 1)",
    ),
    "slice level out of range": (
        {"max_slice_level": 9},
        "int_slice_counts_daily",
        "max_slice_level must be 1, 2, 3 or 4",
    ),
    "raw folder without task runs": (
        {"raw_path": "/nonexistent/agent/logs"},
        "stg_agent_logs__task_runs",
        "holds no task_runs*.jsonl or task_runs*.parquet file",
    ),
    "bucket edges not ascending": (
        {"input_length_bucket_edges": [800, 400]},
        "int_tasks_joined_to_customers_and_users",
        "Bucket edges must be ascending positive numbers",
    ),
}


def compile_model(work_dir: Path, dbt_vars: dict, model: str) -> subprocess.CompletedProcess:
    all_vars = {"raw_path": str(MALFORMED_FIXTURE), **dbt_vars}
    return subprocess.run(
        [
            str(DBT_EXECUTABLE),
            "compile",
            "--select",
            model,
            "--vars",
            json.dumps(all_vars),
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
        ],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "AGENT_SEGMENTS_DB": str(work_dir / "warehouse.duckdb"),
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
        },
        capture_output=True,
        text=True,
        timeout=DBT_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_setting_fails_with_a_clear_message(case, tmp_path):
    dbt_vars, model, message = CASES[case]
    completed = compile_model(tmp_path, dbt_vars, model)
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output[-3000:]
    assert message in " ".join(output.split()), output[-3000:]


def test_the_same_models_compile_with_the_defaults(tmp_path):
    """The cases above fail because of the setting, not because the models never compile."""
    completed = compile_model(
        tmp_path, {}, "int_slices_scored int_tasks_joined_to_customers_and_users"
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
