"""What a build made of a raw folder, next to the raw records themselves.

Shared by the bad-input corpus (test_bad_input_corpus.py) and the property
tests (test_raw_properties.py): the raw records are read here with plain
Python (bytes, json, pyarrow), never through the pipeline or reference.py, and
the build's outcome per record from the warehouse (only the expected asks of a
request and blankness of an input value reuse reference.py's two small rules).
Accepted records are read
from `intermediate.int_task_runs_validated` (the only relation holding every
accepted run with its delivered ids and text fields, and what staging keeps of
the request and the input: the marts carry pseudonyms) and their task from
`marts.fct_task_runs`; rejected ones from `marts.rejected_task_runs`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from conftest import BuildResult
from raw_contract import WHITESPACE, contract_fields
from reference import is_missing_value, request_part_count

# docs/definitions.md section 2, in the order the rules apply.
REJECTION_REASONS = (
    "malformed_json",
    "record_not_an_object",
    "invalid_type",
    "missing_required_field",
    "unparseable_timestamp",
    "timestamp_in_future",
    "unknown_status",
    "input_not_an_object",
    "attributes_not_an_object",
    "duplicate_delivery",
    "conflicting_duplicate",
)


def _contract_fields_of_kind(kind: str) -> tuple[str, ...]:
    """The raw contract's fields of one kind, as the sources YAML declares them."""
    return tuple(field.name for field in contract_fields() if field.kind == kind)


# Text fields but status, which is compared as raw_status and outcome, and the
# request, which is stored only as its count of asks (request_part_count).
TEXT_FIELDS = tuple(
    name for name in _contract_fields_of_kind("text") if name not in ("status", "request_text")
)
INTEGER_FIELDS = _contract_fields_of_kind("integer")
NUMBER_FIELDS = _contract_fields_of_kind("number")
OBJECT_FIELDS = _contract_fields_of_kind("object")
# fct_task_runs columns that must equal the deciding run's (ids shown to BI
# are pseudonyms, so user_id and customer_id are checked on the run only).
TASK_COLUMNS_FROM_RUN = (
    "task_run_id",
    "agent_name",
    "agent_version",
    "task_type",
    "error_type",
    "raw_status",
    "outcome",
    "attempt",
    "latency_ms",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "started_at",
    "finished_at",
)


# ---------------------------------------------------------------------------
# The raw records, read without the pipeline or reference.py


@dataclass(frozen=True)
class RawRecord:
    file_name: str
    record_number: int
    text: str | None  # None: the bytes are not UTF-8
    value: Any  # the parsed record (JSON or a Parquet row); None when not JSON


def jsonl_lines(path: Path) -> list[bytes]:
    """A JSONL file's lines: split on LF only, a CR before it dropped, a BOM
    before the first line dropped; nothing after the last LF is a line."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


def parse_json_or_none(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def read_raw_records(folder: Path) -> tuple[dict[tuple[str, int], RawRecord], set]:
    """(records by (file name, record number), blank JSONL lines) of every
    task_runs* file of `folder`."""
    records: dict[tuple[str, int], RawRecord] = {}
    blank: set[tuple[str, int]] = set()
    for path in sorted(folder.glob("task_runs*.jsonl")):
        for number, line in enumerate(jsonl_lines(path), start=1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and not text.strip(WHITESPACE):
                blank.add((path.name, number))
                continue
            records[(path.name, number)] = RawRecord(
                path.name, number, text, parse_json_or_none(text)
            )
    for path in sorted(folder.glob("task_runs*.parquet")):
        for number, row in enumerate(pq.read_table(path).to_pylist(), start=1):
            text = json.dumps(row, ensure_ascii=False)
            records[(path.name, number)] = RawRecord(path.name, number, text, row)
    return records, blank


def text_value(value: Any) -> str | None:
    """A text field's meaning: trimmed text, an integer's decimal text; None when blank."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip(WHITESPACE) or None
    return None


def object_value(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else (value or {})


# ---------------------------------------------------------------------------
# What the build made of them


@dataclass(frozen=True)
class Outcomes:
    accepted: dict[tuple[str, int], dict]
    rejected: dict[tuple[str, int], dict]
    tasks: dict[str, dict]  # fct_task_runs rows by task_run_id
    repeated: list[tuple[str, int]]  # records found more than once


def read_outcomes(build: BuildResult) -> Outcomes:
    accepted_rows = build.query(
        "select * from intermediate.int_task_runs_validated where is_accepted"
    ).to_dict("records")
    rejected_rows = build.table("marts.rejected_task_runs").to_dict("records")
    accepted: dict[tuple[str, int], dict] = {}
    rejected: dict[tuple[str, int], dict] = {}
    repeated = []
    for rows, found in ((accepted_rows, accepted), (rejected_rows, rejected)):
        for row in rows:
            location = (Path(row["source_file"]).name, int(row["record_number"]))
            if location in accepted or location in rejected:
                repeated.append(location)
            found[location] = row
    tasks = {
        str(row["task_run_id"]): row
        for row in build.table("marts.fct_task_runs").to_dict("records")
    }
    return Outcomes(accepted, rejected, tasks, repeated)


def is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str | dict | list) and pd.isna(value))


def same_value(actual: Any, expected: Any) -> bool:
    if is_missing(expected) or is_missing(actual):
        return is_missing(expected) and is_missing(actual)
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(float(actual), float(expected), rel_tol=1e-12, abs_tol=0.0)
    if hasattr(actual, "item"):
        actual = actual.item()
    return actual == expected


def utc_timestamp(value: Any) -> datetime | None:
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def detail_names(detail: Any, expected: str) -> bool:
    """The detail names the expected field (alone, or before ': value'), or for a
    duplicate ends with the kept copy's file:line (source_file is a path)."""
    if is_missing(detail):
        return False
    detail = str(detail)
    if ".jsonl:" in expected or ".parquet:" in expected:
        return detail.endswith("/" + expected) or detail.endswith(" " + expected)
    return detail.split(":")[0] == expected


def meaning_problems(
    raw: RawRecord, expected: dict, run: dict, task: dict | None, require_task: bool = True
) -> list[str]:
    """How an accepted run (and its task, when the run decides one) differs from what
    its raw record says. `require_task`: every accepted run must decide its task
    (true when no two runs share a task_id)."""
    record = raw.value
    problems = []

    def compare(where: str, column: str, actual: Any, wanted: Any) -> None:
        if not same_value(actual, wanted):
            problems.append(f"{where}.{column}: {actual!r}, expected {wanted!r}")

    wanted_run: dict[str, Any] = {field: text_value(record.get(field)) for field in TEXT_FIELDS}
    if "task_run_id" in expected:
        wanted_run["task_run_id"] = expected["task_run_id"]
    wanted_run["task_id"] = wanted_run["task_id"] or wanted_run["task_run_id"]
    wanted_run["raw_status"] = text_value(record.get("status"))
    wanted_run["outcome"] = expected["outcome"]
    for field in (*INTEGER_FIELDS, *NUMBER_FIELDS):
        wanted_run[field] = record.get(field)
    for column, wanted in wanted_run.items():
        compare("run", column, run.get(column), wanted)
    for field in ("started_at", "finished_at"):
        wanted = expected[field]
        compare(
            "run",
            field,
            utc_timestamp(run.get(field)),
            None if wanted is None else datetime.fromisoformat(wanted),
        )
    # The request and the input are stored only as what later models read of
    # them: the asks, the input's keys that carry a value (and its length,
    # which depends on how each engine writes numbers, so not compared here).
    compare(
        "run",
        "request_part_count",
        run.get("request_part_count"),
        request_part_count(text_value(record.get("request_text"))),
    )
    filled = run.get("input_filled_fields")
    compare(
        "run",
        "input_filled_fields",
        None if is_missing(filled) else sorted(json.loads(filled)),
        sorted(
            key
            for key, value in object_value(record.get("input")).items()
            if not is_missing_value(value)
        ),
    )
    for field in OBJECT_FIELDS:
        if field == "input":
            continue
        stored = run.get(f"{field}_json")
        compare(
            "run",
            f"{field}_json",
            None if is_missing(stored) else json.loads(stored),
            object_value(record.get(field)),
        )

    if task is None:
        if require_task:
            problems.append(f"no fct_task_runs row for task run {wanted_run['task_run_id']!r}")
        return problems
    for column in TASK_COLUMNS_FROM_RUN:
        wanted = run.get(column)
        if column in ("started_at", "finished_at"):
            compare("task", column, utc_timestamp(task.get(column)), utc_timestamp(wanted))
        else:
            compare("task", column, task.get(column), None if is_missing(wanted) else wanted)
    compare(
        "task",
        "attributes_json",
        object_value(task.get("attributes_json")),
        object_value(record.get("attributes")),
    )
    compare("task", "is_counted", bool(task.get("is_counted")), expected["outcome"] != "excluded")
    return problems


def case_problems(
    outcomes: Outcomes,
    raw: RawRecord | None,
    location: tuple[str, int],
    expected: dict,
    require_task: bool = True,
) -> list[str]:
    """How the build's outcome for one raw record differs from its expectation
    (the format of fixtures/bad_input/expectations.yml)."""
    where = f"{location[0]}:{location[1]}"
    if raw is None:
        return [f"{where}: no such record in the corpus"]
    if "rejected" in expected:
        row = outcomes.rejected.get(location)
        if row is None:
            state = "accepted" if location in outcomes.accepted else "lost"
            return [f"{where}: {state}, expected rejected as {expected['rejected']}"]
        problems = []
        if row["rejection_reason"] != expected["rejected"]:
            problems.append(
                f"{where}: rejected as {row['rejection_reason']} ({row['rejection_detail']!r}), "
                f"expected {expected['rejected']}"
            )
        elif "detail" in expected and not detail_names(row["rejection_detail"], expected["detail"]):
            problems.append(
                f"{where}: detail {row['rejection_detail']!r} does not name {expected['detail']!r}"
            )
        return problems
    run = outcomes.accepted.get(location)
    if run is None:
        row = outcomes.rejected.get(location)
        state = (
            f"rejected as {row['rejection_reason']} ({row['rejection_detail']!r})"
            if row is not None
            else "lost"
        )
        return [f"{where}: {state}, expected accepted"]
    task = outcomes.tasks.get(str(run["task_run_id"]))
    return [
        f"{where} {problem}"
        for problem in meaning_problems(raw, expected["accepted"], run, task, require_task)
    ]


def reconciliation_problems(
    outcomes: Outcomes, records: dict[tuple[str, int], RawRecord]
) -> list[str]:
    """Raw records = accepted + rejected, per file, each record exactly once."""
    problems = [f"{location} is both accepted and rejected" for location in outcomes.repeated]
    found = set(outcomes.accepted) | set(outcomes.rejected)
    problems += [
        f"{location}: neither accepted nor rejected" for location in sorted(set(records) - found)
    ]
    problems += [f"{location}: not a raw record" for location in sorted(found - set(records))]
    for file_name in sorted({location[0] for location in records}):
        raw_count = sum(1 for location in records if location[0] == file_name)
        accepted = sum(1 for location in outcomes.accepted if location[0] == file_name)
        rejected = sum(1 for location in outcomes.rejected if location[0] == file_name)
        if raw_count != accepted + rejected:
            problems.append(
                f"{file_name}: {raw_count} raw != {accepted} accepted + {rejected} rejected"
            )
    return problems
