"""Every record of the bad-input corpus is accepted with its meaning intact or
rejected with the reason docs/definitions.md section 2 gives it, and the counts
reconcile per file.

The corpus is `fixtures/bad_input/records/` (written by make_corpus.py) with
its expected outcomes, by hand, in `fixtures/bad_input/expectations.yml`; the
very long records are generated here. One build covers all of that. Deliveries
that could stop a build as a whole (bytes that are not UTF-8, integers beyond
64 bits, Parquet files whose column types disagree, nothing but empty files,
no task-run file at all) each get a small build of their own, so one of them
failing cannot hide the others. raw_outcomes.py reads the raw records and
what the build made of them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import reference
import yaml
from conftest import (
    DEFAULT_VARS,
    FIXTURES_DIR,
    PROJECT_DIR,
    BuildResult,
    format_problems,
    run_dbt_build,
)
from raw_outcomes import (
    REJECTION_REASONS,
    Outcomes,
    RawRecord,
    case_problems,
    detail_names,
    is_missing,
    read_outcomes,
    read_raw_records,
    reconciliation_problems,
    same_value,
    text_value,
    utc_timestamp,
)

CORPUS_DIR = FIXTURES_DIR / "bad_input"
RECORDS_DIR = CORPUS_DIR / "records"
EXPECTATIONS: dict[str, dict[int, dict]] = {
    file_name: cases or {}
    for file_name, cases in yaml.safe_load(
        (CORPUS_DIR / "expectations.yml").read_text(encoding="utf-8")
    ).items()
}

# ---------------------------------------------------------------------------
# The main corpus: committed records plus very long ones generated here

LONG_FILE = "task_runs_2024_g_long.jsonl"
LONG_TEXT_CHARS = 400_000
# Its records (expectations in write_long_records: some depend on the build time).
LONG_FILE_CASES: dict[int, dict] = {number: {} for number in range(1, 6)}


def _long_text(length: int) -> str:
    """Adversarial text of `length` characters (quotes, SQL, Unicode, escapes)."""
    unit = 'O\'Brien "q" \\ ; drop table x; -- 😀 中文 \u2028 \t\n {{ x }} '
    return (unit * (length // len(unit) + 1))[:length]


def write_long_records(folder: Path, now: datetime) -> dict[int, dict]:
    """Writes LONG_FILE into `folder`; returns its expectations by line."""
    long_record = {
        "task_run_id": "bi-long-1",
        "task_type": "account_summary",
        "started_at": "2024-05-09T09:00:00Z",
        "status": "completed",
        "request_text": "ask " + _long_text(LONG_TEXT_CHARS),
        "input": {
            "company_name": _long_text(300_000),
            "industry": [f'item {index} "q"' for index in range(5_000)],
        },
    }
    long_line = json.dumps(long_record, ensure_ascii=False)
    near_future = (now + timedelta(hours=1)).replace(microsecond=0)
    beyond_skew = now + timedelta(hours=DEFAULT_VARS["max_clock_skew_hours"] + 24)
    lines = [
        long_line,
        long_line[: len(long_line) // 2],
        json.dumps(
            {**long_record, "task_run_id": "bi-long-3", "status": _long_text(100_000), "input": {}}
        ),
        json.dumps(
            {
                "task_run_id": "bi-long-4",
                "task_type": "t",
                "status": "done",
                "started_at": near_future.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ),
        json.dumps(
            {
                "task_run_id": "bi-long-5",
                "task_type": "t",
                "status": "done",
                "started_at": beyond_skew.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ),
    ]
    (folder / LONG_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        1: {
            "contains": "bi-long-1",
            "accepted": {
                "outcome": "success",
                "started_at": "2024-05-09 09:00:00",
                "finished_at": None,
            },
        },
        2: {"contains": "bi-long-1", "rejected": "malformed_json"},
        3: {"contains": "bi-long-3", "rejected": "unknown_status"},
        # Within max_clock_skew_hours of the build: a clock a little ahead is not an error.
        4: {
            "contains": "bi-long-4",
            "accepted": {
                "outcome": "success",
                "started_at": near_future.isoformat(sep=" "),
                "finished_at": None,
            },
        },
        5: {"contains": "bi-long-5", "rejected": "timestamp_in_future", "detail": "started_at"},
    }


@dataclass(frozen=True)
class CorpusBuild:
    build: BuildResult
    folder: Path
    expectations: dict[str, dict[int, dict]]
    records: dict[tuple[str, int], RawRecord]
    blank: set[tuple[str, int]]
    outcomes: Outcomes


@pytest.fixture(scope="module")
def corpus(dbt_build, tmp_path_factory) -> CorpusBuild:
    folder = tmp_path_factory.mktemp("bad_input") / "records"
    shutil.copytree(RECORDS_DIR, folder)
    expectations = {
        **EXPECTATIONS,
        LONG_FILE: write_long_records(folder, datetime.now(UTC).replace(tzinfo=None)),
    }
    build = dbt_build(folder)
    assert build.db_path.exists(), build.describe()
    records, blank = read_raw_records(folder)
    return CorpusBuild(build, folder, expectations, records, blank, read_outcomes(build))


def _cases() -> list:
    """Every expectation of the corpus as a pytest param, xfail where a defect is known."""
    params = []
    for file_name, cases in [*EXPECTATIONS.items(), (LONG_FILE, LONG_FILE_CASES)]:
        for number, case in cases.items():
            if case.get("blank"):
                continue
            marks = (
                [pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
            )
            params.append(pytest.param(file_name, number, id=f"{file_name}:{number}", marks=marks))
    return params


def test_corpus_holds_exactly_the_documented_records():
    """Guards the hand-written expectations against edits of the corpus."""
    records, blank = read_raw_records(RECORDS_DIR)
    documented = {
        (file_name, number)
        for file_name, cases in EXPECTATIONS.items()
        for number, case in cases.items()
        if not case.get("blank")
    }
    documented_blank = {
        (file_name, number)
        for file_name, cases in EXPECTATIONS.items()
        for number, case in cases.items()
        if case.get("blank")
    }
    assert set(records) == documented
    assert blank == documented_blank
    assert {path.name for path in RECORDS_DIR.glob("task_runs*")} == set(EXPECTATIONS)
    wrong = [
        location
        for location in sorted(documented)
        if EXPECTATIONS[location[0]][location[1]]["contains"] not in records[location].text
    ]
    assert not wrong, f"records that no longer hold their `contains` text: {wrong}"


def test_build_runs_every_model_and_test(corpus):
    """Bad records are data, not errors: nothing in the build may fail on them."""
    assert not corpus.build.unexpected_failures(), corpus.build.describe()


@pytest.mark.parametrize(("file_name", "record_number"), _cases())
def test_record_is_accepted_intact_or_rejected_with_its_reason(corpus, file_name, record_number):
    location = (file_name, record_number)
    problems = case_problems(
        corpus.outcomes,
        corpus.records.get(location),
        location,
        corpus.expectations[file_name][record_number],
    )
    assert not problems, format_problems(problems)


def test_raw_records_reconcile_per_file(corpus):
    problems = reconciliation_problems(corpus.outcomes, corpus.records)
    assert not problems, format_problems(problems)
    # Accepted task runs are the tasks' runs.
    fct = corpus.build.table("marts.fct_task_runs")
    assert int(fct["attempt_count"].sum()) == len(corpus.outcomes.accepted)
    # Blank lines, empty files and a Parquet file without rows add no record.
    assert not {location[0] for location in corpus.outcomes.rejected} & {
        "task_runs_2024_e_empty.jsonl",
        "task_runs_2024_p3_header_only.parquet",
    }
    assert not corpus.blank & (set(corpus.outcomes.accepted) | set(corpus.outcomes.rejected))


def test_every_rejection_has_a_known_reason(corpus):
    rejected = corpus.build.table("marts.rejected_task_runs")
    assert set(rejected["rejection_reason"]) <= set(REJECTION_REASONS)
    assert rejected["rejection_reason"].notna().all()


def test_header_only_lookup_files_leave_tasks_without_tier(corpus):
    """customers.csv and users.csv with a header and no rows are read as empty."""
    fct = corpus.build.table("marts.fct_task_runs")
    tiers = {value for value in fct["customer_tier"] if not is_missing(value)}
    assert tiers <= {"(missing)"}
    # Teams come from the runs alone: users.csv adds none.
    run_teams = {
        text_value(raw.value.get("team"))
        for location, raw in corpus.records.items()
        if location in corpus.outcomes.accepted
    }
    assert {value for value in fct["team"] if not is_missing(value)} - {"(missing)"} <= run_teams


# ---------------------------------------------------------------------------
# Deliveries that could stop a build as a whole: one small build each


def build_and_check(dbt_build, folder: Path, expectations: dict[str, dict[int, dict]]) -> None:
    """Builds `folder` and asserts every expectation and the reconciliation."""
    build = dbt_build(folder)
    assert not build.unexpected_failures() and build.db_path.exists(), build.describe()
    outcomes = read_outcomes(build)
    records, _ = read_raw_records(folder)
    problems = reconciliation_problems(outcomes, records)
    for file_name, cases in expectations.items():
        for number, case in cases.items():
            location = (file_name, number)
            problems += case_problems(outcomes, records.get(location), location, case)
    assert not problems, format_problems(problems)


def _valid_line(run_id: str, **fields: Any) -> bytes:
    record = {
        "task_run_id": run_id,
        "task_type": "support_triage",
        "started_at": "2024-05-01T09:00:00Z",
        "status": "completed",
        **fields,
    }
    return json.dumps(record).encode("utf-8")


ACCEPTED_AT_BASE: dict = {
    "accepted": {"outcome": "success", "started_at": "2024-05-01 09:00:00", "finished_at": None}
}


def write_unreadable_lines(folder: Path) -> dict[str, dict[int, dict]]:
    """Lines whose bytes are not plain UTF-8 text of one line; returns the expectations."""
    (folder / "task_runs_latin1.jsonl").write_bytes(
        b"\n".join(
            [
                _valid_line("bi-enc-1"),
                # "café" in Latin-1: the line is not UTF-8, so not JSON (RFC 8259, 8.1).
                b'{"task_run_id": "bi-enc-2", "request_text": "caf\xe9"}',
                _valid_line("bi-enc-3"),
            ]
        )
        + b"\n"
    )
    (folder / "task_runs_nul.jsonl").write_bytes(
        _valid_line("bi-nul-1") + b'\n{"task_run_id": "bi-nul-2\x00"}\n' + _valid_line("bi-nul-3")
    )
    # A lone CR is whitespace inside JSON, not a line end of JSON Lines.
    (folder / "task_runs_cr.jsonl").write_bytes(
        _valid_line("bi-cr-1")
        + b'\n{"task_run_id": "bi-cr-2",\r"task_type": "support_triage", '
        + b'"started_at": "2024-05-01T09:00:00Z", "status": "completed"}\n'
    )
    # Files concatenated from Unix and Windows producers.
    (folder / "task_runs_mixed_ends.jsonl").write_bytes(
        _valid_line("bi-mix-1") + b"\n" + _valid_line("bi-mix-2") + b"\r\n"
    )
    return {
        "task_runs_mixed_ends.jsonl": {1: ACCEPTED_AT_BASE, 2: ACCEPTED_AT_BASE},
        "task_runs_latin1.jsonl": {
            1: ACCEPTED_AT_BASE,
            2: {"rejected": "malformed_json"},
            3: ACCEPTED_AT_BASE,
        },
        "task_runs_nul.jsonl": {
            1: ACCEPTED_AT_BASE,
            2: {"rejected": "malformed_json"},
            3: ACCEPTED_AT_BASE,
        },
        "task_runs_cr.jsonl": {1: ACCEPTED_AT_BASE, 2: ACCEPTED_AT_BASE},
    }


def write_integers_beyond_64_bits(folder: Path) -> dict[str, dict[int, dict]]:
    (folder / "task_runs.jsonl").write_bytes(
        b"\n".join(
            [
                _valid_line("bi-int-1", attempt=9223372036854775807),
                _valid_line("bi-int-2", attempt=9223372036854775808),
                _valid_line("bi-int-3", input_tokens=18446744073709551615),
                _valid_line("bi-int-4", output_tokens=-9223372036854775809),
            ]
        )
    )
    return {
        "task_runs.jsonl": {
            1: ACCEPTED_AT_BASE,
            2: {"rejected": "invalid_type", "detail": "attempt"},
            3: {"rejected": "invalid_type", "detail": "input_tokens"},
            4: {"rejected": "invalid_type", "detail": "output_tokens"},
        }
    }


def _write_parquet_runs(
    path: Path, run_ids: list[str], attempt: pa.Array, input_: pa.Array
) -> None:
    """Valid runs (the base fields) with the given `attempt` and `input` columns."""
    base = {
        "task_type": "support_triage",
        "started_at": "2024-05-01T09:00:00Z",
        "status": "completed",
    }
    columns = {name: [value] * len(run_ids) for name, value in base.items()}
    pq.write_table(
        pa.table({"task_run_id": run_ids, **columns, "attempt": attempt, "input": input_}), path
    )


def write_parquet_types_differ(folder: Path) -> dict[str, dict[int, dict]]:
    """`attempt` as BIGINT in one file and as text in another (and `input` as a
    struct in one, JSON text in the other)."""
    _write_parquet_runs(
        folder / "task_runs_a.parquet",
        ["bi-pqa-1", "bi-pqa-2"],
        pa.array([1, 2], pa.int64()),
        pa.array(
            [{"company_name": "A"}, {"company_name": "A2"}],
            pa.struct([("company_name", pa.string())]),
        ),
    )
    _write_parquet_runs(
        folder / "task_runs_b.parquet",
        ["bi-pqb-1", "bi-pqb-2"],
        pa.array(["3", None], pa.string()),
        pa.array(['{"company_name": "B"}', '{"company_name": "B2"}'], pa.string()),
    )
    return {
        "task_runs_a.parquet": {1: ACCEPTED_AT_BASE, 2: ACCEPTED_AT_BASE},
        "task_runs_b.parquet": {
            1: {"rejected": "invalid_type", "detail": "attempt"},
            2: ACCEPTED_AT_BASE,
        },
    }


def test_lines_that_are_not_utf8_text_are_rejected_one_by_one(dbt_build, tmp_path):
    build_and_check(dbt_build, tmp_path, write_unreadable_lines(tmp_path))


def test_integers_beyond_64_bits_are_the_wrong_type(dbt_build, tmp_path):
    build_and_check(dbt_build, tmp_path, write_integers_beyond_64_bits(tmp_path))


def test_parquet_files_whose_column_types_differ_are_read_file_by_file(dbt_build, tmp_path):
    """A producer that writes `attempt` as text in one file must not change what
    another file's integer `attempt` means."""
    build_and_check(dbt_build, tmp_path, write_parquet_types_differ(tmp_path))


def write_lenient_tokens_and_glob_names(folder: Path) -> dict[str, dict[int, dict]]:
    """NaN / Infinity in the spellings DuckDB's parser takes (any case, signed),
    next to the same words inside strings; and file names holding glob
    characters, next to files those globs would match."""
    lenient = (
        b'{"task_run_id": "gl-2", "task_type": "support_triage", '
        b'"started_at": "2024-05-01T09:00:00Z", "status": "completed", '
    )
    (folder / "task_runs_[a].jsonl").write_bytes(
        b"\n".join(
            [
                _valid_line("gl-1"),
                lenient + b'"latency_ms": nan}',
                lenient.replace(b"gl-2", b"gl-3") + b'"cost_usd": -INF}',
                _valid_line("gl-4", request_text="info, nan: Infinity [a]*?"),
            ]
        )
        + b"\n"
    )
    (folder / "task_runs_a.jsonl").write_bytes(_valid_line("gl-5") + b"\n")
    # Not UTF-8, so read as bytes, file by file: the name must not glob.
    (folder / "task_runs_[b]*.jsonl").write_bytes(_valid_line("gl-6") + b'\n{"x": "caf\xe9"}\n')
    (folder / "task_runs_b.jsonl").write_bytes(_valid_line("gl-7") + b"\n")
    return {
        "task_runs_[a].jsonl": {
            1: ACCEPTED_AT_BASE,
            2: {"rejected": "malformed_json"},
            3: {"rejected": "malformed_json"},
            4: ACCEPTED_AT_BASE,
        },
        "task_runs_a.jsonl": {1: ACCEPTED_AT_BASE},
        "task_runs_[b]*.jsonl": {1: ACCEPTED_AT_BASE, 2: {"rejected": "malformed_json"}},
        "task_runs_b.jsonl": {1: ACCEPTED_AT_BASE},
    }


def test_lenient_number_tokens_are_malformed_and_file_names_never_glob(dbt_build, tmp_path):
    build_and_check(dbt_build, tmp_path, write_lenient_tokens_and_glob_names(tmp_path))


def _reference_problems(folder: Path, expectations: dict[str, dict[int, dict]]) -> list[str]:
    """How reference.py's outcome for each record differs from the expectations."""
    accepted, rejected = reference.validate(
        reference.load_raw(folder),
        pd.read_csv(PROJECT_DIR / "seeds" / "task_status_outcomes.csv", dtype=str),
        max_clock_skew_hours=DEFAULT_VARS["max_clock_skew_hours"],
    )
    found = {
        (row["source_file"], int(row["record_number"])): row
        for frame in (accepted, rejected)
        for row in frame.to_dict("records")
    }
    problems = []
    for file_name, cases in expectations.items():
        for number, case in cases.items():
            if case.get("blank"):
                continue
            row = found.pop((file_name, number), None)
            where = f"{file_name}:{number}"
            reason = None if row is None else row.get("rejection_reason", "accepted")
            if pd.isna(reason):
                reason = "accepted"
            if reason != case.get("rejected", "accepted"):
                problems.append(f"{where}: reference says {reason}, expected {case}")
            elif "detail" in case and not detail_names(row["rejection_detail"], case["detail"]):
                problems.append(f"{where}: reference detail {row['rejection_detail']!r}")
            elif "accepted" in case:
                for column in ("outcome", "started_at", "finished_at"):
                    wanted, actual = case["accepted"][column], row[column]
                    if column.endswith("_at"):
                        wanted = None if wanted is None else datetime.fromisoformat(wanted)
                        actual = utc_timestamp(actual)
                    if not same_value(actual, wanted):
                        problems.append(f"{where} {column}: reference {actual!r}, not {wanted!r}")
    problems += [f"{location}: reference has a record the expectations lack" for location in found]
    return problems


def test_reference_agrees_with_every_expectation(tmp_path):
    """reference.py, the property tests' oracle, meets the hand-written expectations,
    including the cases the pipeline gets wrong today (no build)."""
    problems = _reference_problems(RECORDS_DIR, EXPECTATIONS)
    long_folder = tmp_path / "long"
    long_folder.mkdir()
    now = datetime.now(UTC).replace(tzinfo=None)
    problems += _reference_problems(long_folder, {LONG_FILE: write_long_records(long_folder, now)})
    for writer in (
        write_lenient_tokens_and_glob_names,
        write_unreadable_lines,
        write_integers_beyond_64_bits,
        write_parquet_types_differ,
    ):
        folder = tmp_path / writer.__name__
        folder.mkdir()
        problems += _reference_problems(folder, writer(folder))
    assert not problems, format_problems(problems)


def test_a_delivery_of_empty_files_builds_empty_marts(dbt_build, tmp_path):
    """Files that match but hold no record (empty, blank lines only, a Parquet
    schema without rows, lookup files with only a header): no record, no error."""
    folder = tmp_path / "empty_files"
    folder.mkdir()
    (folder / "task_runs_empty.jsonl").write_bytes(b"")
    (folder / "task_runs_blank.jsonl").write_bytes(b"\n  \n\t\n")
    pq.write_table(
        pa.table({"task_run_id": pa.array([], pa.string()), "status": pa.array([], pa.string())}),
        folder / "task_runs_empty.parquet",
    )
    (folder / "customers.csv").write_text("customer_id,customer_name,tier\n")
    (folder / "users.csv").write_text("user_id,email,team,role\n")
    build = dbt_build(folder)
    assert not build.unexpected_failures() and build.db_path.exists(), build.describe()
    outcomes = read_outcomes(build)
    assert not outcomes.accepted and not outcomes.rejected and not outcomes.tasks
    assert read_raw_records(folder)[0] == {}


def test_a_folder_without_task_run_files_fails_early_and_says_why(tmp_path):
    """Lookup files alone are no delivery (README: at least one task_runs file must match)."""
    folder = tmp_path / "lookups_only"
    folder.mkdir()
    (folder / "customers.csv").write_text("customer_id,customer_name,tier\nc1,C,pro\n")
    build = run_dbt_build(folder, tmp_path / "work")
    assert build.exit_code != 0
    assert "holds no task_runs*.jsonl or task_runs*.parquet file" in build.output
    assert str(folder) in build.output
    # No mart is built from it: an empty mart would read as "no failures".
    assert build.node_statuses()["model.agent_segments.fct_task_runs"] == "skipped"
