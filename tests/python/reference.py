"""An independent implementation of docs/definitions.md in pandas and scipy.

The end-to-end tests build the dbt project on a raw folder and compare its
marts with what this module computes from the same folder. It shares no code
and no SQL with the models: the raw contract (section 2), tasks (section 3),
features (section 4) and segment statistics (section 5) are written again
here, record by record in plain Python, so a mistake has to be made twice to
go unnoticed.

    raw = load_raw(raw_dir)
    accepted_runs, rejected = validate(raw, status_map)
    task_table = tasks(accepted_runs, required_fields, customers, users, id_salt=salt)
    segments = segment_completion(task_table, ["customer", "task_type"])
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import raw_contract
from scipy import stats

MISSING = "(missing)"
# What "blank" and "trimmed" strip: space, tab, line feed, carriage return, form feed.
WHITESPACE = " \t\n\r\f"

# Section 2, rule 3: the raw contract's typed fields by kind (CONTRACT_FIELD_ORDER below
# is the order they are checked in).
TEXT_FIELDS = (
    "task_run_id",
    "task_id",
    "agent_name",
    "agent_version",
    "task_type",
    "user_id",
    "team",
    "customer_id",
    "status",
    "request_text",
    "error_type",
    "started_at",
    "finished_at",
)
INTEGER_FIELDS = ("attempt", "input_tokens", "output_tokens")
NUMBER_FIELDS = ("latency_ms", "cost_usd")
# The contract's field order, as declared in the sources YAML (the README
# table): with several wrong types, the first in this order names the rejection.
CONTRACT_FIELD_ORDER = tuple(field.name for field in raw_contract.contract_fields())
# An integer field is stored as a signed 64-bit integer: beyond that range
# a value is of the wrong type.
INTEGER_RANGE = range(-(2**63), 2**63)
# Section 2, rule 4.
REQUIRED_FIELDS = ("task_run_id", "task_type", "started_at", "status")
TIMESTAMP_FIELDS = ("started_at", "finished_at")

# Built-in segment dimensions and the task column each one reads.
DIMENSION_COLUMNS = {
    "customer": "customer_id",
    "customer_tier": "customer_tier",
    "team": "team",
    "user": "user_id",
    "task_type": "task_type",
    "agent_version": "agent_version",
    "missing_required_fields": "missing_required_fields_bucket",
    "input_length": "input_length_bucket",
    "request_complexity": "request_complexity_bucket",
}

# JSONL record numbers count every line of the file (blank ones too), so a
# record number points at the line an editor shows.
RECORD_NUMBER_COUNTS_BLANK_LINES = True

_ISO_TIMESTAMP = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
    r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_REQUEST_SEPARATORS = re.compile(r"[?;\r\n]|\band\s+then\b|\balso\b", re.IGNORECASE)
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


# ---------------------------------------------------------------------------
# Section 1: raw records


def _jsonable(value: Any) -> Any:
    """A Parquet cell as the value its JSON form would hold."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_raw(raw_dir: str | Path) -> pd.DataFrame:
    """One row per raw record of `raw_dir`: source_file (file name), record_number, raw.

    A JSONL record is a non-blank line, kept as written; a Parquet record is a
    row, kept as its JSON text. JSON Lines ends a line at LF (a CR before it
    is dropped; a lone CR is JSON whitespace), and a UTF-8 byte order mark
    before the first line is ignored (RFC 8259, 8.1). A line that is not UTF-8
    is kept with its bad bytes as \\xNN escapes, which no JSON parser takes.
    """
    raw_dir = Path(raw_dir)
    rows: list[tuple[str, int, str]] = []
    files = sorted(
        path
        for path in raw_dir.iterdir()
        if path.is_file()
        and path.name.startswith("task_runs")
        and path.suffix in (".jsonl", ".parquet")
    )
    for path in files:
        if path.suffix == ".jsonl":
            lines = path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n")
            record_number = 0
            for line_number, line_bytes in enumerate(lines, start=1):
                line = line_bytes.removesuffix(b"\r").decode("utf-8", errors="backslashreplace")
                if RECORD_NUMBER_COUNTS_BLANK_LINES:
                    record_number = line_number
                if not line.strip(WHITESPACE):
                    continue
                if not RECORD_NUMBER_COUNTS_BLANK_LINES:
                    record_number += 1
                rows.append((path.name, record_number, line))
        else:
            for row_number, row in enumerate(pq.read_table(path).to_pylist(), start=1):
                rows.append((path.name, row_number, json.dumps(_jsonable(row), ensure_ascii=False)))
    return pd.DataFrame(rows, columns=["source_file", "record_number", "raw"])


# ---------------------------------------------------------------------------
# Section 2: accepted or rejected


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def _parse_json(text: str) -> Any:
    """Strict JSON: NaN and Infinity are not JSON, and strings are Unicode text
    (a lone surrogate escape such as \\ud800 is no character: UnicodeEncodeError
    is a ValueError)."""
    value = json.loads(text, parse_constant=_reject_constant)
    _compact_json(value).encode("utf-8")
    return value


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_integer(value) or isinstance(value, float)) and not isinstance(value, bool)


def _value(value: Any) -> Any:
    """None for pandas' stand-ins for a missing value (NaN, NaT)."""
    if value is None or (not isinstance(value, dict | list | str) and pd.isna(value)):
        return None
    return value


def _as_text(value: Any) -> str | None:
    """A text field's value: a string without surrounding whitespace, an integer
    as its decimal text; None when absent, null or blank (blank means not given)."""
    if value is None:
        return None
    text = str(value) if _is_integer(value) else value
    text = text.strip(WHITESPACE)
    return text or None


def parse_timestamp(text: str) -> datetime | None:
    """An ISO-8601 timestamp as a naive UTC datetime; None when it is not one."""
    match = _ISO_TIMESTAMP.match(text)
    if match is None:
        return None
    parts = match.groupdict()
    fraction = (parts["fraction"] or "").ljust(6, "0")[:6]
    try:
        moment = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction or 0),
        )
    except ValueError:
        return None
    offset = parts["offset"]
    if offset and offset != "Z":
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        try:
            moment = moment - delta if offset[0] == "+" else moment + delta
        except OverflowError:  # before 0001 or after 9999 in UTC
            return None
    return moment


def _object_or_none(value: Any) -> dict | None:
    """Rules 8-9: the object `value` stands for, or None when it is not one."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = _parse_json(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _status_lookup(status_map: Mapping[str, str] | pd.DataFrame) -> dict[str, str]:
    if isinstance(status_map, pd.DataFrame):
        return dict(zip(status_map["raw_status"], status_map["outcome"], strict=True))
    return dict(status_map)


def _check_record(
    raw: str, statuses: Mapping[str, str], latest_start: datetime
) -> tuple[str, str | None, str | None, dict | None]:
    """(rejection_reason or '', detail, task_run_id, parsed record) for one raw record.

    The detail names a field, never a value of the record (docs/privacy.md)."""
    try:
        record = _parse_json(raw)
    except ValueError:
        return "malformed_json", None, None, None
    if not isinstance(record, dict):
        return "record_not_an_object", None, None, None

    run_id = record.get("task_run_id")
    run_id_text = _as_text(run_id) if isinstance(run_id, str) or _is_integer(run_id) else None

    for field in CONTRACT_FIELD_ORDER:
        value = record.get(field)
        if value is None:
            continue
        if field in TEXT_FIELDS:
            wrong = not (isinstance(value, str) or _is_integer(value))
        elif field in INTEGER_FIELDS:
            wrong = not (_is_integer(value) and value in INTEGER_RANGE)
        elif field in NUMBER_FIELDS:
            wrong = not _is_number(value)
        else:
            continue  # input and attributes: rules 8-9
        if wrong:
            return "invalid_type", field, run_id_text, record

    for field in REQUIRED_FIELDS:
        if _as_text(record.get(field)) is None:
            return "missing_required_field", field, run_id_text, record

    for field in TIMESTAMP_FIELDS:
        value = _as_text(record.get(field))
        if value is not None and parse_timestamp(value) is None:
            return "unparseable_timestamp", field, run_id_text, record

    started_at_text = _as_text(record["started_at"])
    if parse_timestamp(started_at_text) > latest_start:
        return "timestamp_in_future", "started_at", run_id_text, record

    status = _as_text(record["status"])
    if status.lower() not in statuses:
        return "unknown_status", "status", run_id_text, record

    for field, reason in (
        ("input", "input_not_an_object"),
        ("attributes", "attributes_not_an_object"),
    ):
        if _object_or_none(record.get(field)) is None:
            return reason, field, run_id_text, record

    return "", "", run_id_text, record


def validate(
    raw: pd.DataFrame,
    status_map: Mapping[str, str] | pd.DataFrame,
    *,
    now: datetime | None = None,
    max_clock_skew_hours: float = 24,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split raw records into accepted task runs and rejected records (section 2).

    `status_map` maps raw_status to outcome (or is seeds/task_status_outcomes.csv
    as a frame). `now` is the build time (naive UTC or aware), default now.
    """
    statuses = _status_lookup(status_map)
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    latest_start = now + timedelta(hours=max_clock_skew_hours)

    rejected: list[dict] = []
    passing: list[dict] = []
    for source_file, record_number, text in raw[["source_file", "record_number", "raw"]].itertuples(
        index=False
    ):
        reason, detail, run_id, record = _check_record(text, statuses, latest_start)
        row = {
            "source_file": source_file,
            "record_number": int(record_number),
            "task_run_id": run_id,
        }
        if reason:
            rejected.append({**row, "rejection_reason": reason, "rejection_detail": detail})
        else:
            passing.append(
                {**row, "raw_record": text, "record": record, "content": _compact_json(record)}
            )

    # Rules 10-11: a later delivery of the same task run supersedes this one.
    accepted: list[dict] = []
    by_run: dict[str, list[dict]] = {}
    for row in passing:
        by_run.setdefault(row["task_run_id"], []).append(row)
    for deliveries in by_run.values():
        deliveries.sort(key=lambda row: (row["source_file"], row["record_number"]))
        for position, row in enumerate(deliveries):
            later = deliveries[position + 1 :]
            if not later:
                accepted.append(row)
                continue
            same = [other for other in later if other["content"] == row["content"]]
            reason = "duplicate_delivery" if same else "conflicting_duplicate"
            kept = deliveries[-1]
            rejected.append(
                {
                    "source_file": row["source_file"],
                    "record_number": row["record_number"],
                    "task_run_id": row["task_run_id"],
                    "rejection_reason": reason,
                    "rejection_detail": f"kept at {kept['source_file']}:{kept['record_number']}",
                }
            )

    accepted_runs = pd.DataFrame(
        [_accepted_run(row, statuses) for row in accepted], columns=_ACCEPTED_COLUMNS
    )
    rejected_frame = pd.DataFrame(
        rejected,
        columns=[
            "source_file",
            "record_number",
            "task_run_id",
            "rejection_reason",
            "rejection_detail",
        ],
    )
    return (
        accepted_runs.sort_values(["source_file", "record_number"], ignore_index=True),
        rejected_frame.sort_values(["source_file", "record_number"], ignore_index=True),
    )


_ACCEPTED_COLUMNS = [
    "source_file",
    "record_number",
    "task_run_id",
    "task_id",
    "agent_name",
    "agent_version",
    "task_type",
    "user_id",
    "team",
    "customer_id",
    "status",
    "outcome",
    "request_text",
    "error_type",
    "attempt",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "cost_usd",
    "started_at",
    "finished_at",
    "input",
    "attributes",
    "raw_record",
]


def _accepted_run(row: dict, statuses: Mapping[str, str]) -> dict:
    record = row["record"]
    run = {field: _as_text(record.get(field)) for field in TEXT_FIELDS}
    run["task_id"] = run["task_id"] if run["task_id"] is not None else run["task_run_id"]
    run["status"] = run["status"].lower()
    run["outcome"] = statuses[run["status"]]
    for field in (*INTEGER_FIELDS, *NUMBER_FIELDS):
        run[field] = record.get(field)
    run["started_at"] = parse_timestamp(run["started_at"])
    if run["finished_at"] is not None:
        run["finished_at"] = parse_timestamp(run["finished_at"])
    run["input"] = _object_or_none(record.get("input"))
    run["attributes"] = _object_or_none(record.get("attributes"))
    run["source_file"] = row["source_file"]
    run["record_number"] = row["record_number"]
    run["raw_record"] = row["raw_record"]
    return run


# ---------------------------------------------------------------------------
# Sections 3 and 4: tasks and features


def _required_lookup(
    required_fields: Mapping[str, Iterable[str]] | pd.DataFrame,
) -> dict[str, list[str]]:
    if isinstance(required_fields, pd.DataFrame):
        lookup: dict[str, list[str]] = {}
        for task_type, field in zip(
            required_fields["task_type"], required_fields["field_name"], strict=True
        ):
            lookup.setdefault(str(task_type), []).append(str(field))
        return lookup
    return {task_type: list(fields) for task_type, fields in required_fields.items()}


def is_missing_value(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip(WHITESPACE)
    if isinstance(value, list | dict):
        return len(value) == 0
    return False


def missing_field_bucket(count: int) -> str:
    return "3+" if count >= 3 else str(count)


def input_length_bucket(length: int, edges: Sequence[int]) -> str:
    if length < edges[0]:
        return f"under {edges[0]}"
    for lower, upper in pairwise(edges):
        if length < upper:
            return f"{lower}-{upper - 1}"
    return f"{edges[-1]}+"


def request_part_count(request_text: str | None) -> int | None:
    if request_text is None or not request_text.strip():
        return None
    parts = _REQUEST_SEPARATORS.split(request_text)
    return sum(1 for part in parts if _LETTER_OR_DIGIT.search(part))


def request_complexity_bucket(part_count: int | None) -> str:
    if part_count is None:
        return MISSING
    if part_count >= 3:
        return "3+ asks"
    return "1 ask" if part_count <= 1 else "2 asks"


def _lookup_frame(frame: pd.DataFrame | None, key: str, value: str) -> dict[str, str]:
    if frame is None or key not in frame or value not in frame:
        return {}
    return {
        str(k): (None if pd.isna(v) or str(v) == "" else str(v))
        for k, v in zip(frame[key], frame[value], strict=True)
        if not pd.isna(k)
    }


def read_lookup_csv(path: str | Path) -> pd.DataFrame | None:
    """customers.csv / users.csv as text columns, or None when the file is absent."""
    path = Path(path)
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def pseudonym(delivered_id: str | None, prefix: str, salt: str) -> str | None:
    """What the marts show for an id (docs/privacy.md): the prefix, '_' and the first
    12 hex digits of SHA-256 over salt|prefix|id. None stays None."""
    if delivered_id is None:
        return None
    digest = hashlib.sha256(f"{salt}|{prefix}|{delivered_id}".encode()).hexdigest()
    return f"{prefix}_{digest[:12]}"


def tasks(
    accepted_runs: pd.DataFrame,
    required_fields: Mapping[str, Iterable[str]] | pd.DataFrame,
    customers: pd.DataFrame | None,
    users: pd.DataFrame | None,
    input_length_bucket_edges: Sequence[int] = (400, 800, 1600),
    *,
    id_salt: str | None = None,
    show_customer_names: bool = False,
) -> pd.DataFrame:
    """One row per task with the deciding run's attributes and the section-4 features.

    With `id_salt`, user_id and customer_id are the marts' pseudonyms; without, the
    delivered ids (what the raw-side checks see). customer_name is the name in
    customers.csv when `show_customer_names`, else None."""
    required = _required_lookup(required_fields)
    tiers = _lookup_frame(customers, "customer_id", "tier")
    names = _lookup_frame(customers, "customer_id", "customer_name")
    user_teams = _lookup_frame(users, "user_id", "team")

    def shown(delivered_id: str | None, prefix: str) -> str | None:
        return delivered_id if id_salt is None else pseudonym(delivered_id, prefix, id_salt)

    rows = []
    for task_id, runs in accepted_runs.groupby("task_id", sort=True):
        ordered = sorted(
            ({key: _value(value) for key, value in run.items()} for run in runs.to_dict("records")),
            key=lambda run: (
                run["attempt"] if run["attempt"] is not None else 1,
                run["started_at"],
                run["task_run_id"],
            ),
        )
        run = ordered[-1]
        payload = run["input"]
        missing = sum(
            1
            for field in required.get(run["task_type"], [])
            if is_missing_value(payload.get(field))
        )
        length = len(_compact_json(payload))
        parts = request_part_count(run["request_text"])
        finished_at = run["finished_at"]
        if finished_at is not None:
            duration = (finished_at - run["started_at"]).total_seconds()
        elif run["latency_ms"] is not None:
            duration = run["latency_ms"] / 1000
        else:
            duration = None
        team = run["team"] if run["team"] is not None else user_teams.get(run["user_id"])
        rows.append(
            {
                "task_id": task_id,
                "task_run_id": run["task_run_id"],
                "user_id": shown(run["user_id"], "user"),
                "customer_id": shown(run["customer_id"], "cust"),
                "customer_name": names.get(run["customer_id"]) if show_customer_names else None,
                "team": team,
                "customer_tier": tiers.get(run["customer_id"]),
                "task_type": run["task_type"],
                "agent_name": run["agent_name"],
                "agent_version": run["agent_version"],
                "status": run["status"],
                "outcome": run["outcome"],
                "missing_required_field_count": missing,
                "missing_required_fields_bucket": missing_field_bucket(missing),
                "input_length_chars": length,
                "input_length_bucket": input_length_bucket(length, input_length_bucket_edges),
                "request_part_count": parts,
                "request_complexity_bucket": request_complexity_bucket(parts),
                "attempt_count": len(ordered),
                "is_counted": run["outcome"] in ("success", "failure"),
                "is_success": run["outcome"] == "success",
                "started_at": run["started_at"],
                "finished_at": finished_at,
                "duration_seconds": duration,
                "attributes": run["attributes"],
            }
        )
    return pd.DataFrame(rows, columns=_TASK_COLUMNS)


_TASK_COLUMNS = [
    "task_id",
    "task_run_id",
    "user_id",
    "customer_id",
    "customer_name",
    "team",
    "customer_tier",
    "task_type",
    "agent_name",
    "agent_version",
    "status",
    "outcome",
    "missing_required_field_count",
    "missing_required_fields_bucket",
    "input_length_chars",
    "input_length_bucket",
    "request_part_count",
    "request_complexity_bucket",
    "attempt_count",
    "is_counted",
    "is_success",
    "started_at",
    "finished_at",
    "duration_seconds",
    "attributes",
]


def build_reference(
    raw_dir: str | Path,
    project_dir: str | Path,
    *,
    input_length_bucket_edges: Sequence[int] = (400, 800, 1600),
    max_clock_skew_hours: float = 24,
    now: datetime | None = None,
    id_salt: str | None = None,
    show_customer_names: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(accepted_runs, rejected, tasks) for a raw folder with a project's seeds; `id_salt`
    and `show_customer_names` as in tasks()."""
    project_dir = Path(project_dir)
    raw_dir = Path(raw_dir)
    status_map = pd.read_csv(project_dir / "seeds" / "task_status_outcomes.csv", dtype=str)
    required = pd.read_csv(project_dir / "seeds" / "required_input_fields.csv", dtype=str)
    accepted, rejected = validate(
        load_raw(raw_dir), status_map, now=now, max_clock_skew_hours=max_clock_skew_hours
    )
    task_table = tasks(
        accepted,
        required,
        read_lookup_csv(raw_dir / "customers.csv"),
        read_lookup_csv(raw_dir / "users.csv"),
        input_length_bucket_edges,
        id_salt=id_salt,
        show_customer_names=show_customer_names,
    )
    return accepted, rejected, task_table


# ---------------------------------------------------------------------------
# Section 5: segment statistics


def _attribute_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return _compact_json(value)


def segment_values(task_table: pd.DataFrame, dimension: str) -> pd.Series:
    """Each task's segment for `dimension`, as text; missing values are '(missing)'."""
    if dimension.startswith("attributes."):
        key = dimension.removeprefix("attributes.")
        values = [_attribute_text(attributes.get(key)) for attributes in task_table["attributes"]]
    elif dimension == "customer" and "customer_name" in task_table:
        # The name when show_customer_names gave the task one, else the pseudonym.
        values = [
            _value(name) if _value(name) is not None else _value(customer)
            for name, customer in zip(
                task_table["customer_name"], task_table["customer_id"], strict=True
            )
        ]
    else:
        column = DIMENSION_COLUMNS[dimension]
        values = [_value(value) for value in task_table[column]]
    return pd.Series(
        [MISSING if value is None else str(value) for value in values],
        index=task_table.index,
        dtype=object,
    )


def wilson_interval(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """The mart's interval: two-sided Wilson at level 2*confidence - 1."""
    interval = stats.binomtest(successes, n).proportion_ci(
        confidence_level=2 * confidence - 1, method="wilson"
    )
    return float(interval.low), float(interval.high)


def fisher_greater_p(failed: int, n: int, total_failed: int, total: int) -> float:
    """P(X >= failed), X ~ Hypergeometric(total, total_failed, n)."""
    return float(stats.hypergeom.sf(failed - 1, total, total_failed, n))


def _shrunk_rates(successes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    rates = successes / counts
    mu = successes.sum() / counts.sum()
    tau2 = np.var(rates) - np.mean(mu * (1 - mu) / counts)
    if tau2 <= 0:
        return np.full(len(counts), mu)
    prior_size = mu * (1 - mu) / tau2 - 1
    if prior_size <= 0:
        return rates
    alpha = mu * prior_size
    beta = (1 - mu) * prior_size
    return (successes + alpha) / (counts + alpha + beta)


STATISTIC_COLUMNS = [
    "task_count",
    "completed_count",
    "failed_count",
    "completion_rate",
    "completion_rate_ci_low",
    "completion_rate_ci_high",
    "overall_completion_rate",
    "alert_threshold_rate",
    "gap_pp",
    "rest_completion_rate",
    "gap_to_rest_pp",
    "failure_share",
    "traffic_share",
    "lift",
    "attributable_share",
    "is_tested",
    "p_value",
    "q_value",
    "shrunk_completion_rate",
    "is_naive_gap",
    "status",
]
SEGMENT_COLUMNS = ["dimension", "segment_value", *STATISTIC_COLUMNS]
SLICE_COLUMNS = [
    "slice_key",
    "slice_dimensions",
    "slice_values",
    "slice_level",
    *STATISTIC_COLUMNS,
    "is_redundant",
    "redundant_under_slice_key",
]


def slice_sets(
    dimensions: Sequence[str],
    max_slice_level: int,
    high_cardinality_dimensions: Iterable[str],
) -> list[tuple[str, ...]]:
    """Every set of 1..max_slice_level dimensions to search, each sorted by name.

    High-cardinality dimensions enter sets of at most 2, never two together.
    """
    ordered = sorted(dimensions, key=str.lower)
    high = set(high_cardinality_dimensions)
    sets = []
    for level in range(1, min(max_slice_level, len(ordered)) + 1):
        for combination in combinations(ordered, level):
            high_count = sum(1 for dimension in combination if dimension in high)
            if level == 1 or high_count == 0 or (level == 2 and high_count == 1):
                sets.append(combination)
    return sets


def slice_completion(
    task_table: pd.DataFrame,
    dimensions: Sequence[str],
    gap_pp: float = 15,
    min_tasks: int = 30,
    confidence: float = 0.95,
    fdr: float = 0.05,
    *,
    max_slice_level: int = 3,
    high_cardinality_dimensions: Iterable[str] = ("customer", "user"),
    slice_min_support: int = 10,
    redundancy_margin: float = 0.05,
) -> pd.DataFrame:
    """One row per slice: a single segment, or a combination of up to max_slice_level
    segment values with at least slice_min_support counted tasks (section 5 statistics).

    Benjamini-Hochberg runs over every tested slice of every level; each dimension set
    has its own empirical-Bayes prior.
    """
    counted = task_table[task_table["is_counted"].astype(bool)]
    total = len(counted)
    if total == 0:
        return pd.DataFrame(columns=SLICE_COLUMNS)
    total_success = int(counted["is_success"].astype(bool).sum())
    total_failed = total - total_success
    overall = total_success / total
    threshold = overall - gap_pp / 100
    values = pd.DataFrame(
        {dimension: segment_values(counted, dimension).to_numpy() for dimension in dimensions}
    )
    values["is_success"] = counted["is_success"].astype(bool).to_numpy()

    rows = []
    for dimension_set in slice_sets(dimensions, max_slice_level, high_cardinality_dimensions):
        groups = values.groupby(list(dimension_set), sort=True)["is_success"].agg(["size", "sum"])
        if len(dimension_set) > 1:
            groups = groups[groups["size"] >= slice_min_support]
        if groups.empty:
            continue
        counts = groups["size"].to_numpy(dtype=float)
        successes = groups["sum"].to_numpy(dtype=float)
        shrunk = _shrunk_rates(successes, counts)
        for key, n, s, shrunk_rate in zip(
            groups.index, counts.astype(int), successes.astype(int), shrunk, strict=True
        ):
            key = key if isinstance(key, tuple) else (key,)
            f = int(n - s)
            rate = s / n
            ci_low, ci_high = wilson_interval(int(s), int(n), confidence)
            rest_n = total - n
            rest_rate = (total_success - s) / rest_n if rest_n > 0 else None
            tested = bool(n >= min_tasks)
            rows.append(
                {
                    "slice_key": " AND ".join(
                        f"{dimension}={value}"
                        for dimension, value in zip(dimension_set, key, strict=True)
                    ),
                    "slice_dimensions": " AND ".join(dimension_set),
                    "slice_values": " AND ".join(key),
                    "slice_level": len(dimension_set),
                    "task_count": int(n),
                    "completed_count": int(s),
                    "failed_count": f,
                    "completion_rate": rate,
                    "completion_rate_ci_low": ci_low,
                    "completion_rate_ci_high": ci_high,
                    "overall_completion_rate": overall,
                    "alert_threshold_rate": threshold,
                    "gap_pp": 100 * (overall - rate),
                    "rest_completion_rate": rest_rate,
                    "gap_to_rest_pp": None if rest_rate is None else 100 * (rest_rate - rate),
                    "failure_share": f / total_failed if total_failed else None,
                    "traffic_share": n / total,
                    "lift": (f / n) / (total_failed / total) if total_failed else None,
                    "attributable_share": (
                        (f - n * (total_failed - f) / rest_n) / total_failed
                        if total_failed and rest_n > 0
                        else None
                    ),
                    "is_tested": tested,
                    "p_value": fisher_greater_p(f, int(n), total_failed, total) if tested else None,
                    "q_value": None,
                    "shrunk_completion_rate": float(shrunk_rate),
                    "is_naive_gap": bool(rate < threshold),
                    "status": None,
                    "is_redundant": False,
                    "redundant_under_slice_key": None,
                    "_predicates": dict(zip(dimension_set, key, strict=True)),
                }
            )

    result = pd.DataFrame(rows)
    tested = result["is_tested"].to_numpy(dtype=bool)
    result["q_value"] = result["q_value"].astype(object)
    if tested.any():
        q_values = stats.false_discovery_control(
            result.loc[tested, "p_value"].astype(float).to_numpy(), method="bh"
        )
        result.loc[tested, "q_value"] = list(map(float, q_values))

    def status(row: pd.Series) -> str:
        if (
            row["is_tested"]
            and row["completion_rate_ci_high"] < threshold
            and row["q_value"] <= fdr
        ):
            return "alert"
        if row["shrunk_completion_rate"] < threshold:
            return "watch"
        return "ok"

    result["status"] = result.apply(status, axis=1)
    _mark_redundant(result, redundancy_margin)
    return result[SLICE_COLUMNS]


def _mark_redundant(slices: pd.DataFrame, margin: float) -> None:
    """docs/definitions.md section 6: an alerting combination C that holds only tasks of
    another alerting slice P, and is not confidently worse than it (ci_high(C) >= rate(P) -
    margin), is redundant, named under its worst such P. C holds only tasks of P when every
    predicate of P is one of C's or implied by one of C's; a implies q when the pair slice
    {a, q} has as many counted tasks as {a}. When C and P hold the same tasks, the one with
    fewer predicates (then the smaller key) stands."""
    counts = {
        frozenset(predicates.items()): int(count)
        for predicates, count in zip(slices["_predicates"], slices["task_count"], strict=True)
    }
    implied: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for predicates, count in counts.items():
        if len(predicates) != 2:
            continue
        first, second = sorted(predicates)
        for antecedent, consequent in ((first, second), (second, first)):
            if counts.get(frozenset([antecedent])) == count:
                implied.setdefault(antecedent, set()).add(consequent)

    def holds_only_tasks_of(inner: dict, outer: dict) -> bool:
        inner_items = set(inner.items())
        reachable = inner_items.union(*(implied.get(item, set()) for item in inner_items))
        return set(outer.items()) <= reachable

    alerting = slices[slices["status"] == "alert"]
    for position, child in alerting[alerting["slice_level"] > 1].iterrows():
        containers = []
        for other_position, other in alerting.iterrows():
            if other_position == position:
                continue
            if not holds_only_tasks_of(child["_predicates"], other["_predicates"]):
                continue
            same_tasks = holds_only_tasks_of(other["_predicates"], child["_predicates"])
            stands_over_child = not same_tasks or (
                (other["slice_level"], other["slice_key"])
                < (child["slice_level"], child["slice_key"])
            )
            if (
                stands_over_child
                and child["completion_rate_ci_high"] >= other["completion_rate"] - margin
            ):
                containers.append((other["completion_rate"], other["slice_key"]))
        if containers:
            slices.loc[position, "is_redundant"] = True
            slices.loc[position, "redundant_under_slice_key"] = min(containers)[1]


def segment_completion(
    task_table: pd.DataFrame,
    dimensions: Sequence[str],
    gap_pp: float = 15,
    min_tasks: int = 30,
    confidence: float = 0.95,
    fdr: float = 0.05,
    *,
    max_slice_level: int = 3,
    high_cardinality_dimensions: Iterable[str] = ("customer", "user"),
    slice_min_support: int = 10,
) -> pd.DataFrame:
    """One row per (dimension, segment_value) over counted tasks (section 5).

    q-values count every tested slice of the run, combinations included; pass
    max_slice_level=1 for single dimensions only.
    """
    slices = slice_completion(
        task_table,
        dimensions,
        gap_pp,
        min_tasks,
        confidence,
        fdr,
        max_slice_level=max_slice_level,
        high_cardinality_dimensions=high_cardinality_dimensions,
        slice_min_support=slice_min_support,
    )
    single = slices[slices["slice_level"] == 1].rename(
        columns={"slice_dimensions": "dimension", "slice_values": "segment_value"}
    )
    return single[SEGMENT_COLUMNS].reset_index(drop=True)


def naive_gap_count(segments: pd.DataFrame, gap_pp: float = 15) -> int:
    """Segments the naive rule (p < P - d) flags."""
    return int(
        (segments["completion_rate"] < segments["overall_completion_rate"] - gap_pp / 100).sum()
    )
