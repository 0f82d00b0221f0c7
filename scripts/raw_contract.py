"""The raw task-log contract, read once from where the project defines it.

Every Python tool that checks raw records imports this module instead of
restating the contract:

* the fields of a task run, their JSON kinds and whether they are required:
  the ``columns`` of source ``agent_logs.task_runs_parquet`` in
  ``models/staging/agent_logs/_agent_logs__sources.yml`` (``config.meta``
  ``contract_kind`` / ``contract_required``), the same list the dbt macro
  ``task_run_contract_fields`` reads;
* the columns of the optional ``customers.csv`` and ``users.csv``: the
  ``columns`` of sources ``agent_logs.customers`` / ``agent_logs.users``;
* the status vocabulary: ``seeds/task_status_outcomes.csv``;
* the required input fields per task type: ``seeds/required_input_fields.csv``;
* ``max_clock_skew_hours`` from the ``vars`` of ``dbt_project.yml``.

It also holds the value rules of docs/definitions.md that the checks share
(what "blank" means, the JSON kind of a value, when a value is an object).
Loaders are cached: each file is read once per process.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCES_YAML = PROJECT_ROOT / "models" / "staging" / "agent_logs" / "_agent_logs__sources.yml"
STATUS_SEED = PROJECT_ROOT / "seeds" / "task_status_outcomes.csv"
REQUIRED_FIELDS_SEED = PROJECT_ROOT / "seeds" / "required_input_fields.csv"
DBT_PROJECT_YAML = PROJECT_ROOT / "dbt_project.yml"

SOURCE_NAME = "agent_logs"
CONTRACT_TABLE = "task_runs_parquet"
CUSTOMERS_TABLE = "customers"
USERS_TABLE = "users"

CONTRACT_KINDS = ("text", "integer", "number", "timestamp", "object")
# JSON kinds (as json_kind() names them) each contract kind accepts; null is always allowed.
ACCEPTED_JSON_KINDS: dict[str, tuple[str, ...]] = {
    "text": ("string", "integer"),
    "timestamp": ("string", "integer"),
    "integer": ("integer",),
    "number": ("integer", "number"),
    "object": ("object", "string"),
}

# Fields with a role of their own in docs/definitions.md, section 2.
RUN_ID_FIELD = "task_run_id"
TASK_TYPE_FIELD = "task_type"
STATUS_FIELD = "status"
STARTED_AT_FIELD = "started_at"
INPUT_FIELD = "input"
CUSTOMER_FIELD = "customer_id"
ROLE_FIELDS = (RUN_ID_FIELD, TASK_TYPE_FIELD, STATUS_FIELD, STARTED_AT_FIELD, INPUT_FIELD)

# ISO-8601 as docs/definitions.md (rule 5) and the dbt macro parse_timestamp_utc accept it: a date,
# optionally a time and an offset. Kept verbatim equal to the macro's pattern (a test checks).
# The year is 0001-9999 and the hour 00-23: DuckDB alone would read year 0000 as 1 BC and
# T24:00:00 as the next midnight, which Python's datetime rejects; one rule on every engine.
ISO_8601_PATTERN = (
    r"^(\d{3}[1-9]|\d{2}[1-9]\d|\d[1-9]\d{2}|[1-9]\d{3})-\d{2}-\d{2}"
    r"([T ]([01]\d|2[0-3]):\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$"
)
# And the UTC moment, once the offset is applied, lies in years 0001-9999 (the macro's
# utc_timestamp_range).
UTC_TIMESTAMP_RANGE = ("0001-01-01 00:00:00", "9999-12-31 23:59:59.999999")

# What "blank" and "trimmed" strip: space, tab, line feed, carriage return, form
# feed (the `\s` of the trim_whitespace macro).
WHITESPACE = " \t\n\r\f"


class ContractError(ValueError):
    """The project's contract files are missing or inconsistent."""


@dataclass(frozen=True)
class ContractField:
    """One field of the raw task-run contract."""

    name: str
    kind: str
    required: bool

    @property
    def accepted_json_kinds(self) -> tuple[str, ...]:
        return ACCEPTED_JSON_KINDS[self.kind]


# ---------------------------------------------------------------------------
# Loaders


@cache
def _sources_tables(path: Path = SOURCES_YAML) -> dict[str, dict[str, Any]]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ContractError(f"cannot read the raw contract {path}: {error}") from error
    for source in document.get("sources") or []:
        if source.get("name") == SOURCE_NAME:
            return {table["name"]: table for table in source.get("tables") or []}
    raise ContractError(f"{path} declares no source {SOURCE_NAME!r}")


def _table(name: str) -> dict[str, Any]:
    tables = _sources_tables()
    if name not in tables:
        raise ContractError(f"{SOURCES_YAML} declares no table {SOURCE_NAME}.{name}")
    return tables[name]


def _column_meta(column: Mapping[str, Any]) -> Mapping[str, Any]:
    """`config.meta` (dbt 1.10+), else the legacy top-level `meta`, as the dbt macro reads it."""
    config = column.get("config") or {}
    return config.get("meta") or column.get("meta") or {}


@cache
def contract_fields() -> tuple[ContractField, ...]:
    """The task-run contract, in the order the columns are declared."""
    fields = []
    for column in _table(CONTRACT_TABLE).get("columns") or []:
        meta = _column_meta(column)
        kind = meta.get("contract_kind")
        if kind not in CONTRACT_KINDS:
            raise ContractError(
                f"column {column.get('name')} of source {SOURCE_NAME}.{CONTRACT_TABLE} needs "
                f"meta.contract_kind ({', '.join(CONTRACT_KINDS)}), got {kind!r}"
            )
        fields.append(ContractField(column["name"], kind, bool(meta.get("contract_required"))))
    names = {field.name for field in fields}
    missing_roles = [name for name in ROLE_FIELDS if name not in names]
    if missing_roles:
        raise ContractError(
            f"the raw contract in {SOURCES_YAML} lacks the field(s) {', '.join(missing_roles)}"
        )
    return tuple(fields)


def required_contract_fields() -> tuple[ContractField, ...]:
    return tuple(field for field in contract_fields() if field.required)


@cache
def reference_file_columns() -> dict[str, tuple[str, ...]]:
    """Required columns of the optional reference files: {'customers.csv': (...), ...}.

    Every column the sources YAML declares for the file, except those marked
    `config.meta.contract_required: false`.
    """
    return {
        f"{table}.csv": tuple(
            column["name"]
            for column in _table(table).get("columns") or []
            if _column_meta(column).get("contract_required", True) is not False
        )
        for table in (CUSTOMERS_TABLE, USERS_TABLE)
    }


def _read_seed(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            absent = [column for column in columns if column not in (reader.fieldnames or [])]
            if absent:
                raise ContractError(f"{path} lacks the column(s) {', '.join(absent)}")
            return list(reader)
    except OSError as error:
        raise ContractError(f"cannot read seed {path}: {error}") from error


@cache
def status_outcomes(path: Path = STATUS_SEED) -> dict[str, str]:
    """raw status (trimmed, lower-cased) -> outcome (success, failure, excluded)."""
    rows = _read_seed(path, ("raw_status", "outcome"))
    return {
        row["raw_status"].strip(WHITESPACE).lower(): row["outcome"].strip(WHITESPACE)
        for row in rows
        if row["raw_status"] and row["raw_status"].strip(WHITESPACE)
    }


@cache
def required_input_fields(path: Path = REQUIRED_FIELDS_SEED) -> dict[str, tuple[str, ...]]:
    """task_type -> required input fields, in seed order (task types not listed need nothing)."""
    fields: dict[str, list[str]] = {}
    for row in _read_seed(path, ("task_type", "field_name")):
        task_type = (row["task_type"] or "").strip(WHITESPACE)
        field_name = (row["field_name"] or "").strip(WHITESPACE)
        if task_type and field_name and field_name not in fields.setdefault(task_type, []):
            fields[task_type].append(field_name)
    return {task_type: tuple(names) for task_type, names in fields.items()}


@cache
def project_vars(path: Path = DBT_PROJECT_YAML) -> dict[str, Any]:
    """The `vars` of dbt_project.yml (defaults; a run may override them with --vars)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ContractError(f"cannot read {path}: {error}") from error
    return dict(document.get("vars") or {})


def max_clock_skew_hours() -> float:
    return float(project_vars().get("max_clock_skew_hours", 24))


# ---------------------------------------------------------------------------
# Value rules shared by the checks (docs/definitions.md, sections 2 and 4)


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def json_kind(value: Any) -> str | None:
    """JSON kind of a parsed value (the vocabulary of the json_kind macro); None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return None if math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def as_text(value: Any) -> str | None:
    """A text field's value: a trimmed string or an integer's decimal text; None when absent,
    null, blank or of another kind."""
    if is_integer(value):
        return str(value)
    if isinstance(value, str):
        return value.strip(WHITESPACE) or None
    return None


def as_object(value: Any) -> dict | None:
    """The object an `object`-kind value stands for: the object itself, or the object a JSON
    string holds; {} for null or absent; None when it is not an object."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        try:
            parsed = parse_json(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def is_blank_value(value: Any) -> bool:
    """True when an input field carries no usable value: absent (None), null, a string that is
    empty after trimming whitespace, or an empty array or object. 0 and false are values.
    A float NaN (pandas' null) counts as null."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip(WHITESPACE)
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Mapping | list | tuple):
        return len(value) == 0
    return False


def missing_input_fields(
    task_type: str | None,
    input_object: Mapping[str, Any],
    required: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Required fields of `task_type` that `input_object` lacks, in seed order."""
    fields = (required if required is not None else required_input_fields()).get(
        task_type or "", ()
    )
    return [field for field in fields if is_blank_value(input_object.get(field))]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def parse_json(text: str | bytes) -> Any:
    """Strict JSON (NaN and Infinity are not JSON); raises ValueError."""
    return json.loads(text, parse_constant=_reject_constant)


def jsonable(value: Any) -> Any:
    """A Parquet cell as the value its JSON form holds (structs become objects, times text)."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def parse_timestamps_utc(texts: Iterable[str | None]) -> list[datetime | None]:
    """ISO-8601 texts as naive UTC datetimes (no offset means UTC); None where they do not parse.

    The rule of the dbt macro parse_timestamp_utc, run by the same engine: the text must match
    ISO_8601_PATTERN, then DuckDB casts it to timestamptz in a UTC session. So "unparseable"
    here means exactly what dbt will reject.
    """
    import duckdb  # only the raw checks need it, not the pre-agent gate
    import pyarrow as pa

    values = pa.table({"text": pa.array(list(texts), type=pa.string())})
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.register("timestamp_texts", values)
        rows = connection.execute(
            "select case when regexp_matches(text, ?) and parsed between ? and ? then parsed end "
            "from (select text, cast(timezone('UTC', try_cast(text as timestamptz)) as timestamp)"
            " as parsed from timestamp_texts)",
            [ISO_8601_PATTERN, *UTC_TIMESTAMP_RANGE],
        ).fetchall()
    return [row[0] for row in rows]


def now_utc() -> datetime:
    """Now as a naive UTC datetime (the convention of parse_timestamps_utc)."""
    return datetime.now(UTC).replace(tzinfo=None)
