"""Any CSV or JSONL file -> the raw contract, driven by a mapping file (YAML or JSON).

One row (CSV) or line (JSONL) is one task run. The mapping names, for each
contract field, the source column (``fields``) or a constant (``constants``),
how the outcome is read (``status``), which columns become attributes or keys
of the input object, and optional customers.csv / users.csv columns::

    format: csv                    # csv | jsonl (default: from the file extension)
    fields:                        # contract field: source column
      task_run_id: run_id
      task_id: case_id
      attempt: attempt
      started_at: finished_unix
    constants:                     # contract field: the same value on every run
      task_type: eval_case
    timestamps:
      unit: s                      # iso (default) | s | ms | us | ns for numeric times
    status:
      column: score
      threshold: 0.5               # a score/flag: >= threshold -> completed, else failed
      # or values: {"true": resolved, "false": unresolved}   (a vocabulary)
      # or neither: the column holds statuses of seeds/task_status_outcomes.csv
      missing: skipped             # blank outcome: write this status, or omit (the default:
                                   # not written, counted in import_skipped.jsonl)
    attributes: {category: category}   # attribute key: column (or a list of columns)
    input: [company_name, industry]    # input object key: column (or a list)
    customers: {customer_id: customer, customer_name: customer_name, tier: tier}
    users: {user_id: user, email: email, team: team, role: role}

A JSONL column may be a dotted path into nested objects (``metadata.customer``).
See docs/importers.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import raw_contract as contract
import yaml

from importers._input import as_score, csv_records, json_records, progress
from importers.contract_writer import (
    CUSTOMER_COLUMNS,
    USER_COLUMNS,
    ContractWriter,
    ImportInputError,
    Origin,
    iso_utc,
)

TOP_LEVEL_KEYS = {
    "description",
    "format",
    "fields",
    "constants",
    "timestamps",
    "status",
    "attributes",
    "input",
    "customers",
    "users",
}
STATUS_KEYS = {"column", "values", "threshold", "completed", "failed", "missing"}
TIMESTAMP_UNITS = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}
FORMATS = ("csv", "jsonl")
OMIT = "omit"


@dataclass(frozen=True)
class MappingSpec:
    """A validated mapping file."""

    path: Path
    file_format: str | None
    fields: dict[str, str]
    constants: dict[str, Any]
    timestamp_unit: str
    status_column: str | None
    status_values: dict[str, str] | None
    threshold: float | None
    completed_status: str
    failed_status: str
    missing_status: str
    attributes: dict[str, str]
    input_columns: dict[str, str]
    customers: dict[str, str]
    users: dict[str, str]

    def columns(self) -> set[str]:
        """Every source column the mapping reads."""
        return {
            *self.fields.values(),
            *([self.status_column] if self.status_column else []),
            *self.attributes.values(),
            *self.input_columns.values(),
            *self.customers.values(),
            *self.users.values(),
        }


def load_mapping(path: Path) -> MappingSpec:
    """Read and check a mapping file; ImportInputError with a one-line reason if unusable."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ImportInputError(f"mapping file {path} does not exist") from error
    except (OSError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0]
        raise ImportInputError(f"mapping file {path} is not YAML or JSON: {reason}") from error
    if not isinstance(document, dict):
        raise ImportInputError(f"mapping file {path} must hold an object (fields, status, ...)")
    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:
        raise ImportInputError(
            f"mapping {path.name}: unknown key(s) {unknown}; known: {sorted(TOP_LEVEL_KEYS)}"
        )
    contract_names = [item.name for item in contract.contract_fields()]
    fields = _string_map(document.get("fields"), "fields", path)
    constants = dict(document.get("constants") or {})
    for section, names in (("fields", fields), ("constants", constants)):
        bad = sorted(set(names) - set(contract_names))
        if bad:
            raise ImportInputError(
                f"mapping {path.name}: {section} names {bad}, which are not contract fields "
                f"({', '.join(contract_names)})"
            )
    both = sorted(set(fields) & set(constants))
    if both:
        raise ImportInputError(f"mapping {path.name}: {both} given in both fields and constants")

    status = document.get("status")
    if isinstance(status, str):
        status = {"column": status}
    if not isinstance(status, dict) or not status.get("column"):
        if "status" not in constants:
            raise ImportInputError(
                f"mapping {path.name}: needs status.column (or constants.status)"
            )
        status = {}
    unknown_status = sorted(set(status) - STATUS_KEYS)
    if unknown_status:
        raise ImportInputError(f"mapping {path.name}: unknown status key(s) {unknown_status}")
    values = status.get("values")
    if values is not None:
        if not isinstance(values, dict) or not values:
            raise ImportInputError(f"mapping {path.name}: status.values must be a non-empty map")
        values = {_key(source): str(target) for source, target in values.items()}
    threshold = status.get("threshold")
    if threshold is not None and (values is not None or isinstance(threshold, bool)):
        raise ImportInputError(
            f"mapping {path.name}: status takes values or a numeric threshold, not both"
        )
    if threshold is not None and not isinstance(threshold, int | float):
        raise ImportInputError(f"mapping {path.name}: status.threshold must be a number")
    known_statuses = contract.status_outcomes()
    targets = {
        "completed": str(status.get("completed", "completed")),
        "failed": str(status.get("failed", "failed")),
        "missing": str(status.get("missing", OMIT)),
    }
    for target in [*targets.values(), *(values or {}).values()]:
        if target != OMIT and target.strip().lower() not in known_statuses:
            raise ImportInputError(
                f"mapping {path.name}: status {target!r} is not in seeds/task_status_outcomes.csv"
            )

    timestamps = document.get("timestamps") or {}
    unit = str(timestamps.get("unit", "iso")) if isinstance(timestamps, dict) else "iso"
    if unit != "iso" and unit not in TIMESTAMP_UNITS:
        raise ImportInputError(
            f"mapping {path.name}: timestamps.unit must be iso, {', '.join(TIMESTAMP_UNITS)}"
        )
    file_format = document.get("format")
    if file_format is not None and file_format not in FORMATS:
        raise ImportInputError(f"mapping {path.name}: format must be one of {FORMATS}")

    mapping = MappingSpec(
        path=path,
        file_format=file_format,
        fields=fields,
        constants=constants,
        timestamp_unit=unit,
        status_column=status.get("column"),
        status_values=values,
        threshold=None if threshold is None else float(threshold),
        completed_status=targets["completed"],
        failed_status=targets["failed"],
        missing_status=targets["missing"],
        attributes=_column_map(document.get("attributes"), "attributes", path),
        input_columns=_column_map(document.get("input"), "input", path),
        customers=_reference_map(document.get("customers"), CUSTOMER_COLUMNS, "customers", path),
        users=_reference_map(document.get("users"), USER_COLUMNS, "users", path),
    )
    covered = {*fields, *constants, "status"}
    missing = [
        item.name for item in contract.required_contract_fields() if item.name not in covered
    ]
    if missing:
        raise ImportInputError(
            f"mapping {path.name}: gives no {', '.join(missing)} (add fields.<name> for a column "
            "or constants.<name> for a fixed value)"
        )
    return mapping


def import_mapped(input_path: Path, writer: ContractWriter, mapping: MappingSpec) -> None:
    input_path = Path(input_path)
    file_format = mapping.file_format or (
        "jsonl" if input_path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"
    )
    source_file = input_path.name
    if file_format == "csv":
        header, records = csv_records(input_path)
        absent = sorted(mapping.columns() - set(header))
        if absent:
            raise ImportInputError(
                f"{source_file} lacks the column(s) {absent} that {mapping.path.name} maps"
            )
    else:
        records = json_records(input_path, list_keys=())
    if "started_at" in mapping.constants:
        writer.note(
            f"started_at is the constant {mapping.constants['started_at']} for every task run "
            f"({mapping.path.name}: the source has no time column), so trends, early warnings "
            "and evaluation windows say nothing about this data"
        )
    for record in progress(records, f"{source_file}"):
        origin = Origin(source_file, record.number)
        if record.error:
            reason = "malformed_json" if file_format == "jsonl" else "malformed_row"
            writer.skip(origin, reason, record.error, record.text)
        elif not isinstance(record.value, dict):
            writer.skip(origin, "record_not_an_object", None, record.value)
        else:
            _import_row(record.value, origin, writer, mapping)


def _import_row(
    row: Mapping[str, Any], origin: Origin, writer: ContractWriter, mapping: MappingSpec
) -> None:
    run: dict[str, Any] = dict(mapping.constants)
    for field, column in mapping.fields.items():
        run[field] = _lookup(row, column)
    origin = Origin(origin.source_file, origin.record_number, _text(run.get("task_run_id")))
    for field in ("started_at", "finished_at"):
        if field in mapping.fields:
            try:
                run[field] = _timestamp(run[field], mapping.timestamp_unit)
            except ValueError:
                writer.skip(origin, "unparseable_timestamp", f"{field}: {run[field]!r}", row)
                return
    if mapping.status_column:
        value = _lookup(row, mapping.status_column)
        status = _status(value, mapping)
        if status is None:
            detail = f"{mapping.status_column}: {value!r}"
            reason = (
                "unmapped_status" if mapping.status_values is not None else "outcome_not_numeric"
            )
            writer.skip(origin, reason, detail, row)
            return
        if status == OMIT:
            writer.skip(origin, "missing_outcome", f"{mapping.status_column} is blank", row)
            return
        run["status"] = status
    attributes = {key: _lookup(row, column) for key, column in mapping.attributes.items()}
    run["attributes"] = {**(run.get("attributes") or {}), **attributes}
    if mapping.input_columns:
        values = {key: _lookup(row, column) for key, column in mapping.input_columns.items()}
        run["input"] = {**(run.get("input") or {}), **values}
    if writer.add_run(origin, run, row):
        if mapping.customers:
            writer.add_customer(*(_lookup(row, mapping.customers.get(c)) for c in CUSTOMER_COLUMNS))
        if mapping.users:
            writer.add_user(*(_lookup(row, mapping.users.get(c)) for c in USER_COLUMNS))


def _status(value: Any, mapping: MappingSpec) -> str | None:
    """The contract status for an outcome value; OMIT for a blank one to skip; None when it has
    no reading (not in the vocabulary, not numeric)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return mapping.missing_status
    if mapping.status_values is not None:
        return mapping.status_values.get(_key(value))
    if mapping.threshold is not None:
        score = as_score(value)
        if score is None:
            return None
        return mapping.completed_status if score >= mapping.threshold else mapping.failed_status
    return str(value)


def _timestamp(value: Any, unit: str) -> Any:
    """A numeric time in `unit` since the Unix epoch as ISO-8601; other values as they are."""
    if value is None or unit == "iso" or (isinstance(value, str) and not value.strip()):
        return value
    number = float(value)  # ValueError when it is not a number
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=number / TIMESTAMP_UNITS[unit])
    return iso_utc(moment)


def _lookup(row: Mapping[str, Any], column: str | None) -> Any:
    """The value of `column`; for nested JSON a dotted path; blank text counts as absent."""
    if column is None:
        return None
    if column in row:
        value = row[column]
    else:
        value = row
        for part in column.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().lower()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _string_map(value: Any, section: str, path: Path) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ImportInputError(f"mapping {path.name}: {section} must map names to column names")
    return {str(key): value for key, value in value.items()}


def _column_map(value: Any, section: str, path: Path) -> dict[str, str]:
    """`{key: column}`, or a list of columns (each its own key)."""
    if isinstance(value, list):
        value = {str(column): str(column) for column in value}
    return _string_map(value, section, path)


def _reference_map(
    value: Any, columns: tuple[str, ...], section: str, path: Path
) -> dict[str, str]:
    mapped = _string_map(value, section, path)
    unknown = sorted(set(mapped) - set(columns))
    if unknown:
        raise ImportInputError(f"mapping {path.name}: {section} takes {columns}, not {unknown}")
    if mapped and columns[0] not in mapped:
        raise ImportInputError(f"mapping {path.name}: {section} needs {columns[0]}")
    return mapped
