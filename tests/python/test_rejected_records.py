"""Every raw record is accepted or rejected with the right reason (definitions.md, section 2).

The fixture `fixtures/malformed/` is written by hand: one record for each
rejection reason, records that test the rules' precedence, and valid records
of every awkward shape the contract allows. The expected reasons, details and
tasks below were worked out by hand from the fixture, not computed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import reference
from conftest import (
    FIXTURES_DIR,
    PROJECT_DIR,
    BuildResult,
    format_problems,
    reference_for,
    task_mismatches,
)

MALFORMED = FIXTURES_DIR / "malformed"
FILE_A = "task_runs_2024_05_a.jsonl"
FILE_B = "task_runs_2024_05_b.jsonl"

# (file, line) -> (rejection_reason, detail); a detail of None is not checked,
# a tuple lists substrings the detail must contain. A detail names a field,
# never a value of the record (docs/privacy.md).
EXPECTED_REJECTIONS: dict[tuple[str, int], tuple[str, str | tuple[str, ...] | None]] = {
    (FILE_A, 4): ("malformed_json", None),
    (FILE_A, 5): ("record_not_an_object", None),
    (FILE_A, 6): ("invalid_type", "attempt"),
    (FILE_A, 7): ("missing_required_field", "status"),
    (FILE_A, 8): ("unparseable_timestamp", "started_at"),
    (FILE_A, 9): ("timestamp_in_future", "started_at"),
    (FILE_A, 10): ("unknown_status", "status"),
    (FILE_A, 11): ("input_not_an_object", "input"),
    (FILE_A, 12): ("attributes_not_an_object", "attributes"),
    # An exact copy of line 18: the later delivery is kept.
    (FILE_A, 17): ("duplicate_delivery", ("kept at ", f"{FILE_A}:18")),
    # Same task_run_id as 17-18 and later, but rejected itself: supersedes nothing.
    (FILE_A, 19): ("attributes_not_an_object", "attributes"),
    # Superseded by a different version in the later file.
    (FILE_A, 20): ("conflicting_duplicate", ("kept at ", f"{FILE_B}:1")),
    # Same content as line 22 once whitespace is normalised.
    (FILE_A, 21): ("duplicate_delivery", ("kept at ", f"{FILE_A}:22")),
    # task_run_id `true`: a wrong type comes before "missing".
    (FILE_A, 23): ("invalid_type", "task_run_id"),
    # Bad timestamp, unknown status and a non-object input: the timestamp rule comes first.
    (FILE_A, 24): ("unparseable_timestamp", "started_at"),
    # Blank task_type and a future start: "missing" comes first.
    (FILE_A, 25): ("missing_required_field", "task_type"),
    (FILE_A, 30): ("unparseable_timestamp", "finished_at"),
    (FILE_A, 31): ("missing_required_field", "started_at"),
    # T24:00:00 and year 0000: DuckDB alone would read them (the next midnight, 1 BC).
    (FILE_B, 5): ("unparseable_timestamp", "started_at"),
    (FILE_B, 6): ("unparseable_timestamp", "started_at"),
    # Valid text whose offset carries it into 1 BC in UTC.
    (FILE_B, 7): ("unparseable_timestamp", "started_at"),
}

# (file, line) of every accepted task run.
EXPECTED_ACCEPTED = {
    (FILE_A, 1),
    (FILE_A, 2),
    (FILE_A, 13),
    (FILE_A, 15),
    (FILE_A, 16),
    (FILE_A, 18),
    (FILE_A, 22),
    (FILE_A, 26),
    (FILE_A, 27),
    (FILE_A, 28),
    (FILE_A, 29),
    (FILE_B, 1),
    (FILE_B, 3),
}

# task_id -> the features worked out by hand. None means missing.
EXPECTED_TASKS = {
    # Two attempts: attempt 2 (" Completed ") decides. Input: industry blank,
    # renewal_date null -> 2 missing; request: "... and then ...; also ..." -> 3 asks.
    "task-001": {
        "task_run_id": "run-002",
        "outcome": "success",
        "attempt_count": 2,
        "missing_required_field_count": 2,
        "request_part_count": 3,
        "request_complexity_bucket": "3+ asks",
        "team": "sales",
        "customer_tier": "enterprise",
        "started_at": datetime(2024, 5, 1, 9, 5),
    },
    # Integer task_run_id, cancelled: kept, but counts in no rate.
    "1001": {
        "task_run_id": "1001",
        "outcome": "excluded",
        "attempt_count": 1,
        "is_counted": False,
        "missing_required_field_count": 0,
        "customer_tier": "pro",
    },
    # +02:00 offset; input given as a string holding an object (usage_trend []
    # is missing); the run's own team beats users.csv; customer not in customers.csv.
    "run-012": {
        "task_run_id": "run-012",
        "outcome": "success",
        "started_at": datetime(2024, 5, 2, 8, 30),
        "missing_required_field_count": 1,
        "request_part_count": 1,
        "request_complexity_bucket": "1 ask",
        "team": "renewals",
        "customer_tier": None,
        "duration_seconds": 60.0,
    },
    # Naive timestamp = UTC; no input = {} (all 5 renewal_forecast fields missing).
    "run-013": {
        "task_run_id": "run-013",
        "outcome": "failure",
        "started_at": datetime(2024, 5, 2, 11, 0),
        "missing_required_field_count": 5,
        "missing_required_fields_bucket": "3+",
        "input_length_chars": 2,
        "input_length_bucket": "under 400",
        "request_complexity_bucket": "(missing)",
        "team": "sales",
        "duration_seconds": 2.5,
    },
    "run-014": {"task_run_id": "run-014", "outcome": "success", "attempt_count": 1},
    "run-015": {"task_run_id": "run-015", "outcome": "success", "attempt_count": 1},
    # The later file's version wins.
    "task-016": {
        "task_run_id": "run-016",
        "outcome": "success",
        "attempt_count": 1,
        "missing_required_field_count": 0,
        "team": "success",
    },
    # No attempt numbers: the latest start decides, not the file order.
    "task-019": {"task_run_id": "run-019a", "outcome": "failure", "attempt_count": 2},
    # The highest attempt decides even though attempt 1 started later.
    "task-020": {"task_run_id": "run-020a", "outcome": "success", "attempt_count": 2},
    # A task type with no required fields; user not in users.csv; "DONE".
    "run-023": {
        "task_run_id": "run-023",
        "outcome": "success",
        "missing_required_field_count": 0,
        "request_part_count": 2,
        "request_complexity_bucket": "2 asks",
        "team": None,
        "started_at": datetime(2024, 5, 6, 9, 0, 0, 250000),
    },
}


def count_raw_records(folder: Path) -> int:
    """Non-blank lines of the JSONL files, counted without reference.py."""
    return sum(
        1
        for path in folder.glob("task_runs*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )


def _location(source_file: str, record_number: int) -> tuple[str, int]:
    return Path(source_file).name, int(record_number)


def _matches(detail: str | None, expected: str | tuple[str, ...] | None) -> bool:
    if expected is None:
        return True
    if detail is None or pd.isna(detail):
        return False
    if isinstance(expected, str):
        return detail == expected
    return all(part in detail for part in expected)


def _check_rejections(rejected: pd.DataFrame) -> list[str]:
    problems = []
    found = {
        _location(row["source_file"], row["record_number"]): row
        for row in rejected.to_dict("records")
    }
    if len(found) != len(rejected):
        problems.append("a raw record is rejected more than once")
    for location in sorted(set(found) - set(EXPECTED_REJECTIONS)):
        row = found[location]
        problems.append(
            f"{location} rejected unexpectedly: {row['rejection_reason']} "
            f"({row['rejection_detail']})"
        )
    for location, (reason, detail) in sorted(EXPECTED_REJECTIONS.items()):
        if location not in found:
            problems.append(f"{location} should be rejected as {reason} but was not")
            continue
        row = found[location]
        if row["rejection_reason"] != reason:
            problems.append(f"{location}: reason {row['rejection_reason']!r}, expected {reason!r}")
        elif not _matches(row["rejection_detail"], detail):
            problems.append(
                f"{location} ({reason}): detail {row['rejection_detail']!r}, expected {detail!r}"
            )
    return problems


@pytest.fixture(scope="module")
def build(dbt_build) -> BuildResult:
    result = dbt_build(MALFORMED)
    assert result.db_path.exists(), result.describe()
    return result


def test_build_succeeds(build):
    """No alert on this fixture (under 30 tasks per segment), so every node must pass."""
    assert build.exit_code == 0 and not build.failed_nodes(), build.describe()


def test_fixture_line_numbers_are_as_documented():
    """Guards the hand-written expectations against edits of the fixture."""
    lines = (MALFORMED / FILE_A).read_text(encoding="utf-8").split("\n")
    assert lines[2] == ""
    assert lines[13].strip() == "" and lines[13] != ""
    assert '"run-003"' in lines[3] and not lines[3].rstrip().endswith("}")
    assert '"run-022"' in lines[30]
    lines_b = (MALFORMED / FILE_B).read_text(encoding="utf-8").split("\n")
    assert '"run-016"' in lines_b[0] and lines_b[1] == "" and '"run-023"' in lines_b[2]
    assert lines_b[3] == "" and '"run-024"' in lines_b[4] and '"run-025"' in lines_b[5]
    assert '"run-026"' in lines_b[6]
    assert count_raw_records(MALFORMED) == 34


def test_every_rejection_has_the_expected_reason_and_detail(build):
    rejected = build.table("marts.rejected_task_runs")
    problems = _check_rejections(rejected)
    assert not problems, format_problems(problems)


def test_rejected_rows_point_at_the_raw_line_and_keep_its_task_run_id(build):
    """source_file and record_number open the line; the raw text itself stays out of the
    mart (docs/privacy.md), as do the values a detail used to quote."""
    rejected = build.table("marts.rejected_task_runs")
    assert "raw_record" not in rejected.columns
    lines = {
        name: (MALFORMED / name).read_text(encoding="utf-8").split("\n")
        for name in (FILE_A, FILE_B)
    }
    for row in rejected.to_dict("records"):
        name, number = _location(row["source_file"], row["record_number"])
        line = lines[name][number - 1]
        assert line.strip(), (name, number)
        if not pd.isna(row["task_run_id"]):
            assert str(row["task_run_id"]) in line, (name, number)
    quoted_values = ["yesterday", "2999-01-01", "Exploded", "not a time", "soon"]
    cells = [str(cell) for cell in rejected.to_numpy().ravel()]
    assert not [value for value in quoted_values if any(value in cell for cell in cells)]
    by_location = {
        _location(row["source_file"], row["record_number"]): row["task_run_id"]
        for row in rejected.to_dict("records")
    }
    assert by_location[(FILE_A, 6)] == "run-005"
    assert by_location[(FILE_A, 20)] == "run-016"
    assert pd.isna(by_location[(FILE_A, 4)])


def test_raw_records_reconcile(build):
    fct = build.table("marts.fct_task_runs")
    rejected = build.table("marts.rejected_task_runs")
    # Accepted task runs are the tasks' runs: attempt_count adds them up.
    accepted = int(fct["attempt_count"].sum())
    assert accepted == len(EXPECTED_ACCEPTED)
    assert accepted + len(rejected) == count_raw_records(MALFORMED)


def test_tasks_have_the_features_worked_out_by_hand(build):
    fct = build.table("marts.fct_task_runs")
    rows = {str(row["task_id"]): row for row in fct.to_dict("records")}
    assert set(rows) == set(EXPECTED_TASKS)
    problems = []
    for task_id, expected in EXPECTED_TASKS.items():
        for column, value in expected.items():
            actual = rows[task_id][column]
            if isinstance(actual, pd.Timestamp):
                actual = actual.to_pydatetime().replace(tzinfo=None)
            if value is None:
                ok = pd.isna(actual) or actual == "(missing)"
            else:
                ok = not pd.isna(actual) and actual == value
            if not ok:
                problems.append(f"task {task_id} {column}: mart {actual!r}, expected {value!r}")
    assert not problems, format_problems(problems)


def test_reference_agrees_with_the_hand_written_expectations():
    accepted, rejected, task_table = reference.build_reference(MALFORMED, PROJECT_DIR)
    assert not _check_rejections(rejected)
    assert {
        _location(row["source_file"], row["record_number"]) for row in accepted.to_dict("records")
    } == EXPECTED_ACCEPTED
    assert len(accepted) + len(rejected) == count_raw_records(MALFORMED)
    rows = {row["task_id"]: row for row in task_table.to_dict("records")}
    for task_id, expected in EXPECTED_TASKS.items():
        for column, value in expected.items():
            actual = rows[task_id][column]
            if isinstance(actual, pd.Timestamp):
                actual = actual.to_pydatetime()
            assert pd.isna(actual) if value is None else actual == value, (task_id, column)


def test_fct_task_runs_matches_the_reference(build):
    expected = reference_for(build)
    problems = task_mismatches(build.table("marts.fct_task_runs"), expected.tasks)
    assert not problems, format_problems(problems)


STRICT = FIXTURES_DIR / "strict_parsing"
# line -> reason: text DuckDB's lenient readers would take, the contract does not.
EXPECTED_STRICT_REJECTIONS = {
    1: "unparseable_timestamp",  # "epoch" is not ISO-8601
    2: "unparseable_timestamp",  # nor is "infinity"
    3: "malformed_json",  # trailing comma
    4: "malformed_json",  # NaN is not JSON
    5: "unparseable_timestamp",  # an integer is a valid text field, not a timestamp
    # Rule 10 before 11: line 8, later, has the same content as line 7; line 9 differs.
    7: "duplicate_delivery",
    8: "conflicting_duplicate",
}


def test_only_strict_json_and_iso_8601_timestamps_are_accepted(dbt_build):
    build = dbt_build(STRICT)
    assert build.db_path.exists(), build.describe()
    rejected = build.table("marts.rejected_task_runs")
    found = {
        int(row["record_number"]): row["rejection_reason"] for row in rejected.to_dict("records")
    }
    assert found == EXPECTED_STRICT_REJECTIONS
    accepted = build.table("marts.fct_task_runs")["task_run_id"].tolist()
    assert sorted(accepted) == ["strict-6", "strict-7"]


def test_reference_is_strict_too():
    _, rejected, task_table = reference.build_reference(STRICT, PROJECT_DIR)
    found = dict(zip(rejected["record_number"], rejected["rejection_reason"], strict=True))
    assert found == EXPECTED_STRICT_REJECTIONS
    assert task_table["task_run_id"].tolist() == ["strict-6", "strict-7"]
