"""Write task runs in the raw contract, and account for every input record.

Each importer hands every record of its export to one ContractWriter, exactly
once: either ``add_run`` (a task run, as contract fields) or ``skip`` (with a
reason). The writer checks each run against the contract the project declares
(``scripts/raw_contract.py``: the fields and their kinds, the required fields,
the status vocabulary of ``seeds/task_status_outcomes.csv``, ISO-8601 times as
dbt parses them); a run that breaks it is skipped with the reason instead of
written, so what dbt reads is accepted. ``finish`` writes

* ``task_runs_<name>.jsonl`` (or ``.parquet``): one line or row per task run;
* ``import_skipped.jsonl``: one line per skipped record (file, record number,
  id, reason, detail, the raw text where it helps);
* ``customers.csv`` / ``users.csv`` when the export names customer tiers or
  user details, merged with a file already in the folder (its rows win);

and returns the counts the CLI prints. records in = written + skipped, always.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import raw_contract as contract

# Metadata keys that are contract fields; every other key becomes an attribute.
METADATA_FIELDS = (
    "task_id",
    "attempt",
    "task_type",
    "agent_name",
    "agent_version",
    "user_id",
    "customer_id",
    "team",
    "request_text",
    "error_type",
)
# Metadata keys that name a customer or its tier (they go to customers.csv).
CUSTOMER_NAME_KEYS = ("customer_name",)
CUSTOMER_TIER_KEYS = ("customer_tier", "tier")

SKIPPED_FILE = "import_skipped.jsonl"
FILE_FORMATS = ("jsonl", "parquet")
# Attribute keys a segment dimension can name (`attributes.<key>`, macros/segment_dimensions.sql).
ATTRIBUTE_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_RAW_CHARS = 2000
INTEGER_TEXT = re.compile(r"^[+-]?\d+(\.0*)?$")

CUSTOMER_COLUMNS = ("customer_id", "customer_name", "tier")
USER_COLUMNS = ("user_id", "email", "team", "role")


class ImportInputError(ValueError):
    """The export (or the mapping) cannot be used at all: the CLI exits 1 with this message."""


@dataclass(frozen=True)
class Origin:
    """Where a record came from: file, 1-based record number, and its id when it has one."""

    source_file: str
    record_number: int
    record_id: str | None = None


@dataclass(frozen=True)
class SkippedRecord:
    origin: Origin
    reason: str
    detail: str | None = None
    raw: str | None = None

    def as_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "source_file": self.origin.source_file,
            "record_number": self.origin.record_number,
            "record_id": self.origin.record_id,
            "reason": self.reason,
            "detail": self.detail,
        }
        if self.raw is not None:
            line["raw"] = self.raw
        return line


@dataclass
class ImportSummary:
    """What one import did; ``records_in == written + sum(skipped.values())``."""

    source: str
    input_path: Path
    records_in: int
    written: int
    skipped: Counter
    task_runs_path: Path | None
    skipped_path: Path
    reference_paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped_records: list[SkippedRecord] = field(default_factory=list)

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        skipped_total = sum(self.skipped.values())
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.skipped.items()))
        written_to = f" to {self.task_runs_path}" if self.task_runs_path else ""
        skipped = f"{skipped_total} skipped ({reasons})" if skipped_total else "0 skipped"
        return (
            f"{self.source} {self.input_path.name}: {self.records_in} records in, "
            f"{self.written} task runs written{written_to}, {skipped}, "
            f"listed in {self.skipped_path}"
        )


def iso_utc(moment: datetime) -> str:
    """ISO-8601 text in UTC with a Z; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def parse_datetime(value: Any) -> datetime | None:
    """An ISO-8601 text (``T`` or space, optional ``Z``/offset) as an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def attribute_key(name: str) -> str:
    """A key a segment dimension can name: characters other than letters, digits, `_`, `-`
    become `_` (``deployment.environment`` -> ``deployment_environment``)."""
    key = re.sub(r"[^A-Za-z0-9_-]+", "_", str(name)).strip("_")
    return key or "_"


def raw_text(value: Any) -> str:
    """A record as compact JSON (or its text), cut to MAX_RAW_CHARS, for the skipped file."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "..."


class _InvalidValue(ValueError):
    pass


def _coerce(kind: str, value: Any) -> Any:
    """`value` as the contract kind wants it; None when blank; _InvalidValue when it cannot be."""
    if value is None:
        return None
    if kind == "object":
        if isinstance(value, str) and not value.strip(contract.WHITESPACE):
            return None
        parsed = contract.as_object(value)
        if parsed is None:
            raise _InvalidValue("not a JSON object")
        return parsed
    if isinstance(value, float) and not math.isfinite(value):
        raise _InvalidValue("not a finite number")
    if kind in ("text", "timestamp"):
        if kind == "timestamp" and isinstance(value, datetime):
            return iso_utc(value)
        if isinstance(value, bool):
            if kind == "timestamp":
                raise _InvalidValue("not a timestamp")
            return "true" if value else "false"
        if contract.is_integer(value):
            if kind == "timestamp":
                raise _InvalidValue("an integer is not an ISO-8601 timestamp")
            return value
        if isinstance(value, float):
            if kind == "timestamp":
                raise _InvalidValue("a number is not an ISO-8601 timestamp")
            return int(value) if value.is_integer() else repr(value)
        if isinstance(value, str):
            return value.strip(contract.WHITESPACE) or None
        raise _InvalidValue(f"a {contract.json_kind(value)} is not text")
    if kind == "integer":
        if isinstance(value, bool):
            raise _InvalidValue("a boolean is not an integer")
        if contract.is_integer(value):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            text = value.strip(contract.WHITESPACE)
            if not text:
                return None
            if INTEGER_TEXT.match(text):
                return int(float(text))
        raise _InvalidValue("not an integer")
    if kind == "number":
        if isinstance(value, bool):
            raise _InvalidValue("a boolean is not a number")
        if contract.is_integer(value) or isinstance(value, float):
            return value
        if isinstance(value, str):
            text = value.strip(contract.WHITESPACE)
            if not text:
                return None
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                return number
        raise _InvalidValue("not a number")
    raise _InvalidValue(f"unknown contract kind {kind}")


def _clean_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Keys a dimension can name; null values dropped; the first of colliding keys wins."""
    cleaned: dict[str, Any] = {}
    for name, value in attributes.items():
        if value is None or (isinstance(value, str) and not value.strip(contract.WHITESPACE)):
            continue
        key = name if ATTRIBUTE_KEY_PATTERN.match(str(name)) else attribute_key(name)
        cleaned.setdefault(key, value.strip() if isinstance(value, str) else value)
    return cleaned


class ContractWriter:
    """Collects task runs and skipped records of one import, then writes them (``finish``)."""

    def __init__(
        self,
        out_dir: Path,
        source: str,
        input_path: Path,
        file_format: str = "jsonl",
    ) -> None:
        if file_format not in FILE_FORMATS:
            raise ImportInputError(f"--format must be one of {', '.join(FILE_FORMATS)}")
        self.out_dir = Path(out_dir)
        self.source = source
        self.input_path = Path(input_path)
        self.file_format = file_format
        self.fields = {item.name: item for item in contract.contract_fields()}
        self.required = [item.name for item in contract.required_contract_fields()]
        self.statuses = contract.status_outcomes()
        self._runs: list[tuple[Origin, dict[str, Any]]] = []
        self._skipped: list[SkippedRecord] = []
        self._customers: dict[str, dict[str, str]] = {}
        self._users: dict[str, dict[str, str]] = {}
        self.notes: list[str] = []

    # -- what importers call ------------------------------------------------

    @property
    def records_in(self) -> int:
        return len(self._runs) + len(self._skipped)

    def skip(self, origin: Origin, reason: str, detail: str | None = None, raw: Any = None) -> None:
        """Account for a record that is not a task run (or cannot be one), with a reason."""
        self._skipped.append(
            SkippedRecord(origin, reason, detail, None if raw is None else raw_text(raw))
        )

    def add_run(self, origin: Origin, run: Mapping[str, Any], raw: Any = None) -> bool:
        """A task run as contract fields; skipped with the reason when it breaks the contract.

        Returns whether it will be written (timestamps are checked in ``finish``)."""
        unknown = sorted(set(run) - set(self.fields))
        if unknown:
            raise ValueError(f"not contract fields: {', '.join(unknown)}")
        record: dict[str, Any] = {}
        for name, value in run.items():
            if name == "attributes" and isinstance(value, Mapping):
                value = _clean_attributes(value) or None
            try:
                coerced = _coerce(self.fields[name].kind, value)
            except _InvalidValue as error:
                self.skip(origin, "invalid_value", f"{name}: {value!r} ({error})", raw)
                return False
            if coerced is not None and coerced != {}:
                record[name] = coerced
        origin = Origin(origin.source_file, origin.record_number, _id_text(record, origin))
        for name in self.required:
            if name not in record:
                self.skip(origin, "missing_required_field", name, raw)
                return False
        status = str(record["status"]).strip(contract.WHITESPACE).lower()
        if status not in self.statuses:
            self.skip(
                origin,
                "unknown_status",
                f"{record['status']!r} is not in seeds/task_status_outcomes.csv",
                raw,
            )
            return False
        self._runs.append((origin, {name: record[name] for name in self.fields if name in record}))
        return True

    def add_customer(self, customer_id: Any, name: Any = None, tier: Any = None) -> None:
        """A row of customers.csv (the first values seen for an id win)."""
        self._add_reference(
            self._customers, CUSTOMER_COLUMNS, [customer_id, name, tier], "customer"
        )

    def add_user(self, user_id: Any, email: Any = None, team: Any = None, role: Any = None) -> None:
        """A row of users.csv (the first values seen for an id win)."""
        self._add_reference(self._users, USER_COLUMNS, [user_id, email, team, role], "user")

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- writing ------------------------------------------------------------

    def finish(self, name: str | None = None) -> ImportSummary:
        """Check timestamps, write the task runs, the skipped file and reference CSVs."""
        self._check_timestamps()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = attribute_key(name or f"{self.source}_{self.input_path.stem}")
        task_runs_path = None
        for file_format in FILE_FORMATS:  # a re-import replaces its own earlier file, any format
            (self.out_dir / f"task_runs_{stem}.{file_format}").unlink(missing_ok=True)
        if self._runs:
            task_runs_path = self.out_dir / f"task_runs_{stem}.{self.file_format}"
            rows = [run for _, run in self._runs]
            if self.file_format == "jsonl":
                _write_jsonl(task_runs_path, rows)
            else:
                self._write_parquet(task_runs_path, rows)
        skipped_path = self.out_dir / SKIPPED_FILE
        _write_jsonl(skipped_path, [record.as_json() for record in self._skipped])
        reference_paths = [
            path
            for path in (
                _merge_csv(self.out_dir / "customers.csv", CUSTOMER_COLUMNS, self._customers),
                _merge_csv(self.out_dir / "users.csv", USER_COLUMNS, self._users),
            )
            if path is not None
        ]
        others = sorted(
            path.name
            for path in self.out_dir.glob("task_runs*")
            if path.suffix in (".jsonl", ".parquet") and path != task_runs_path
        )
        if others:
            self.note(f"dbt will also read the other task_runs files in {self.out_dir}: {others}")
        return ImportSummary(
            source=self.source,
            input_path=self.input_path,
            records_in=self.records_in,
            written=len(self._runs),
            skipped=Counter(record.reason for record in self._skipped),
            task_runs_path=task_runs_path,
            skipped_path=skipped_path,
            reference_paths=reference_paths,
            notes=list(self.notes),
            skipped_records=list(self._skipped),
        )

    def _check_timestamps(self) -> None:
        """Skip runs whose started_at / finished_at dbt would not parse (the same rule)."""
        for name in ("started_at", "finished_at"):
            texts = [run.get(name) for _, run in self._runs]
            parsed = contract.parse_timestamps_utc(
                [None if text is None else str(text) for text in texts]
            )
            kept = []
            for (origin, run), text, moment in zip(self._runs, texts, parsed, strict=True):
                if text is not None and moment is None:
                    self.skip(origin, "unparseable_timestamp", f"{name}: {text!r}", run)
                else:
                    kept.append((origin, run))
            self._runs = kept

    def _write_parquet(self, path: Path, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow_types = {
            "text": pa.string(),
            "timestamp": pa.string(),
            "object": pa.string(),
            "integer": pa.int64(),
            "number": pa.float64(),
        }
        present = [name for name in self.fields if any(name in row for row in rows)]
        columns = {}
        for name in present:
            kind = self.fields[name].kind
            values = [row.get(name) for row in rows]
            if kind == "object":
                values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
            elif kind in ("text", "timestamp"):
                values = [None if v is None else str(v) for v in values]
            elif kind == "number":
                values = [None if v is None else float(v) for v in values]
            columns[name] = pa.array(values, type=arrow_types[kind])
        pq.write_table(pa.table(columns), path)

    def _add_reference(
        self,
        table: dict[str, dict[str, str]],
        columns: tuple[str, ...],
        values: list[Any],
        what: str,
    ) -> None:
        row = {
            column: "" if value is None else str(value).strip()
            for column, value in zip(columns, values, strict=True)
        }
        key = row[columns[0]]
        if not key or not any(row[column] for column in columns[1:]):
            return
        known = table.setdefault(key, row)
        for column in columns[1:]:
            if row[column] and not known[column]:
                known[column] = row[column]
            elif row[column] and row[column] != known[column]:
                self.note(
                    f"{what} {key} has {column} {known[column]!r} and {row[column]!r}: "
                    f"kept {known[column]!r}"
                )


def _id_text(record: Mapping[str, Any], origin: Origin) -> str | None:
    value = record.get("task_run_id")
    return str(value) if value is not None else origin.record_id


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def _merge_csv(
    path: Path, columns: tuple[str, ...], rows: Mapping[str, Mapping[str, str]]
) -> Path | None:
    """Write `rows` to `path`, keeping the rows (and extra columns) of a file already there."""
    if not rows:
        return None
    existing: list[dict[str, str]] = []
    header = list(columns)
    if path.exists():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header += [name for name in reader.fieldnames or [] if name not in header]
            existing = list(reader)
    known = {row.get(columns[0]) for row in existing}
    merged = existing + [dict(row) for key, row in rows.items() if key not in known]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(merged)
    return path
