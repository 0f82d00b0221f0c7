"""Validate a raw delivery with Great Expectations before dbt reads it.

    python scripts/validate_raw.py RAW_DIR [--docs-dir target/data_docs]
        [--result target/raw_validation.json] [--max-bad-share 0.01]

Reads every task_runs*.jsonl / task_runs*.parquet file of RAW_DIR (plus the
optional customers.csv and users.csv) into one pandas frame, one row per raw
record (a line that is not JSON is a row too, counted, never a crash), and
runs one Great Expectations Checkpoint over it with two suites generated from
the project's own contract (scripts/raw_contract.py):

* ``raw_task_runs.contract`` (blocking): every file readable, every required
  column present in every file, and, across the delivery, at most
  ``--max-bad-share`` of the records malformed, of the wrong JSON type, with a
  required field blank, an unparseable or future start time, a status outside
  seeds/task_status_outcomes.csv, a repeated task_run_id, or an ``input`` /
  ``attributes`` that is not an object;
* ``raw_task_runs.required_input_fields`` (warning): per task type, each field
  of seeds/required_input_fields.csv present and non-empty in ``input``.

The Checkpoint's UpdateDataDocsAction writes Data Docs (HTML) into
--docs-dir. A compact JSON result (blocking failures, warnings naming the
records and customers, completeness per customer and tier) goes to --result.
Exit status: 0 when the delivery is usable (warnings allowed), 1 with a
one-line reason when it is not, 2 on a usage error. See docs/input_validation.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

import raw_contract as contract
from cli_support import OneLineParser

DEFAULT_DOCS_DIR = contract.PROJECT_ROOT / "target" / "data_docs"
DEFAULT_RESULT = contract.PROJECT_ROOT / "target" / "raw_validation.json"
DEFAULT_MAX_BAD_SHARE = 0.01
CONTRACT_SUITE = "raw_task_runs.contract"
INPUT_FIELDS_SUITE = "raw_task_runs.required_input_fields"
CHECKPOINT_NAME = "raw_delivery"
DOCS_SITE_NAME = "raw_validation"
TASK_FILE_SUFFIXES = (".jsonl", ".parquet")
MAX_LISTED_IDS = 100
MAX_NAMED_CUSTOMERS = 5
MAX_PRINTED_WARNINGS = 10
MISSING = "(missing)"

# record_kind of a frame row; file_status of the file it came from.
OBJECT = "object"
MALFORMED_JSON = "malformed_json"
NOT_AN_OBJECT = "not_an_object"
UNREADABLE_FILE = "unreadable_file"
READABLE = "readable"
UNREADABLE = "unreadable"

# Columns that identify a record in unexpected-value lists.
INDEX_COLUMNS = ["source_file", "record_number", contract.RUN_ID_FIELD, contract.CUSTOMER_FIELD]

# The dbt rejection (docs/definitions.md, section 2) a record failing each check gets.
DBT_REJECTION = {
    "record_is_json_object": "malformed_json / record_not_an_object",
    "field_kind": "invalid_type",
    "required_field_present": "missing_required_field",
    "timestamp_parses": "unparseable_timestamp",
    "started_at_not_in_future": "timestamp_in_future",
    "status_in_vocabulary": "unknown_status",
    "object_field_is_object": "input_not_an_object / attributes_not_an_object",
    "task_run_id_unique": "duplicate_delivery / conflicting_duplicate",
}


class UnusableDelivery(Exception):
    """The delivery cannot be validated at all (no folder, no task_runs file, no records)."""


# ---------------------------------------------------------------------------
# Reading a delivery


@dataclass
class RawFile:
    """One task_runs file of the delivery and what reading it found."""

    name: str
    file_format: str
    record_count: int = 0
    malformed_count: int = 0
    not_object_count: int = 0
    problem: str | None = None
    columns: set[str] = field(default_factory=set)

    @property
    def readable(self) -> bool:
        return self.problem is None

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "format": self.file_format,
            "records": self.record_count,
            "malformed_lines": self.malformed_count,
            "non_object_records": self.not_object_count,
            "readable": self.readable,
            "problem": self.problem,
        }


@dataclass
class RawRecord:
    source_file: str
    record_number: int | None
    record_kind: str
    record: dict | None = None


@dataclass
class Delivery:
    raw_dir: Path
    files: list[RawFile]
    records: list[RawRecord]
    customers: pd.DataFrame | None
    reference_problems: list[dict[str, Any]]

    @property
    def malformed_count(self) -> int:
        return sum(raw_file.malformed_count for raw_file in self.files)


def task_run_files(raw_dir: Path) -> list[Path]:
    return sorted(
        path
        for path in raw_dir.iterdir()
        if path.is_file()
        and path.name.startswith("task_runs")
        and path.suffix in TASK_FILE_SUFFIXES
    )


def read_jsonl(path: Path) -> tuple[RawFile, list[RawRecord]]:
    """Non-blank lines of a JSONL file; a line that is not UTF-8 or not JSON is counted."""
    raw_file = RawFile(path.name, "jsonl")
    try:
        data = path.read_bytes()
    except OSError as error:
        raw_file.problem = f"cannot be read: {error.strerror or error}"
        return raw_file, [RawRecord(path.name, None, UNREADABLE_FILE)]
    records = []
    for line_number, line in enumerate(data.split(b"\n"), start=1):
        line = line.removesuffix(b"\r")
        if not line.strip(contract.WHITESPACE.encode()):
            continue
        raw_file.record_count += 1
        try:
            value = contract.parse_json(line.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raw_file.malformed_count += 1
            records.append(RawRecord(path.name, line_number, MALFORMED_JSON))
            continue
        if not isinstance(value, dict):
            raw_file.not_object_count += 1
            records.append(RawRecord(path.name, line_number, NOT_AN_OBJECT))
            continue
        raw_file.columns.update(value)
        records.append(RawRecord(path.name, line_number, OBJECT, value))
    if raw_file.record_count and all(record.record_kind != OBJECT for record in records):
        raw_file.problem = f"none of its {raw_file.record_count} lines is a JSON object"
    return raw_file, records


def read_parquet(path: Path) -> tuple[RawFile, list[RawRecord]]:
    """Rows of a Parquet file, each as the JSON object its row stands for."""
    raw_file = RawFile(path.name, "parquet")
    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several types for a broken file
        raw_file.problem = f"not a readable Parquet file: {str(error).splitlines()[0]}"
        return raw_file, [RawRecord(path.name, None, UNREADABLE_FILE)]
    raw_file.columns.update(table.column_names)
    records = []
    for row_number, row in enumerate(table.to_pylist(), start=1):
        records.append(RawRecord(path.name, row_number, OBJECT, contract.jsonable(row)))
    raw_file.record_count = len(records)
    return raw_file, records


def read_reference_file(path: Path) -> tuple[pd.DataFrame | None, list[dict[str, Any]]]:
    """An optional customers.csv / users.csv as text, and its blocking problems."""
    if not path.exists():
        return None, []
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as error:
        message = f"{path.name} is not a readable CSV file ({str(error).splitlines()[0]})"
        return None, [{"check": "reference_file_readable", "file": path.name, "message": message}]
    declared = contract.reference_file_columns()[path.name]
    absent = [column for column in declared if column not in frame.columns]
    if absent:
        message = (
            f"{path.name} lacks the column(s) {', '.join(absent)} declared in the raw contract "
            f"(source {contract.SOURCE_NAME}.{path.stem})"
        )
        check = {"check": "reference_file_columns", "file": path.name, "fields": absent}
        return None, [{**check, "message": message}]
    return frame, []


def read_delivery(raw_dir: Path) -> Delivery:
    if not raw_dir.is_dir():
        raise UnusableDelivery(f"raw folder {raw_dir} does not exist or is not a folder")
    paths = task_run_files(raw_dir)
    if not paths:
        raise UnusableDelivery(
            f"raw folder {raw_dir} holds no task_runs*.jsonl or task_runs*.parquet file"
        )
    files, records = [], []
    for path in tqdm(paths, desc="reading raw files", unit="file", disable=None, leave=False):
        reader = read_jsonl if path.suffix == ".jsonl" else read_parquet
        raw_file, file_records = reader(path)
        files.append(raw_file)
        records.extend(file_records)
    if not records:  # an unreadable file leaves a placeholder record, so all files are empty
        raise UnusableDelivery(f"raw folder {raw_dir} holds task_runs files but no records")
    customers, customer_problems = read_reference_file(raw_dir / "customers.csv")
    _, user_problems = read_reference_file(raw_dir / "users.csv")
    return Delivery(raw_dir, files, records, customers, customer_problems + user_problems)


# ---------------------------------------------------------------------------
# The frame Great Expectations validates: one row per raw record, with the
# contract fields normalised as dbt's staging reads them and one derived
# column per check. A derived column is null where its check does not apply
# (e.g. on a line that is not a JSON object), and GE skips nulls, so no
# expectation needs a row condition.


def _kind_column(name: str) -> str:
    return f"{name}__kind"


def _is_object_column(name: str) -> str:
    return f"{name}__is_object"


def _present_column(name: str) -> str:
    return f"{name}__present"


def _parses_column(name: str) -> str:
    return f"{name}__parses"


def _in_file_column(name: str) -> str:
    return f"{name}__in_file"


def _input_has_column(task_type: str, name: str) -> str:
    return f"input_has__{task_type}__{name}"


LINE_IS_OBJECT = "line_is_json_object"
STARTED_AT_UTC = f"{contract.STARTED_AT_FIELD}__utc"


def _normalised(spec: contract.ContractField, value: Any) -> Any:
    """The field as staging reads it: trimmed text (statuses lower-cased), an object as compact
    JSON, a number of the right kind; None when absent, null, blank or of the wrong kind."""
    if spec.kind in ("text", "timestamp"):
        text = contract.as_text(value)
        if text is not None and spec.name == contract.STATUS_FIELD:
            return text.lower()  # statuses are matched trimmed and lower-cased
        return text
    if spec.kind == "object":
        parsed = contract.as_object(value)
        return None if value is None or parsed is None else json.dumps(parsed, sort_keys=True)
    return value if contract.json_kind(value) in spec.accepted_json_kinds else None


def build_frame(delivery: Delivery) -> pd.DataFrame:
    fields = contract.contract_fields()
    required_inputs = contract.required_input_fields()
    file_status = {
        raw_file.name: READABLE if raw_file.readable else UNREADABLE for raw_file in delivery.files
    }
    file_columns = {raw_file.name: raw_file.columns for raw_file in delivery.files}
    tiers = _customer_tiers(delivery.customers)

    rows = []
    for raw in delivery.records:
        record = raw.record
        readable = file_status[raw.source_file] == READABLE
        row: dict[str, Any] = {
            "source_file": raw.source_file,
            "record_number": raw.record_number,
            "record_kind": raw.record_kind,
            "file_status": file_status[raw.source_file],
            LINE_IS_OBJECT: raw.record_kind == OBJECT if readable else None,
        }
        for spec in fields:
            value = record.get(spec.name) if record is not None else None
            kind = contract.json_kind(value)
            row[spec.name] = _normalised(spec, value) if record is not None else None
            if spec.kind == "object":
                row[_is_object_column(spec.name)] = (
                    None if kind is None else contract.as_object(value) is not None
                )
            else:
                row[_kind_column(spec.name)] = kind
            if spec.required:
                row[_present_column(spec.name)] = (
                    None if record is None else row[spec.name] is not None
                )
                row[_in_file_column(spec.name)] = (
                    None if record is None else spec.name in file_columns[raw.source_file]
                )
        input_object = (
            contract.as_object(record.get(contract.INPUT_FIELD)) if record is not None else None
        )
        task_type = row[contract.TASK_TYPE_FIELD]
        for required_type, names in required_inputs.items():
            applies = input_object is not None and task_type == required_type
            for name in names:
                row[_input_has_column(required_type, name)] = (
                    not contract.is_blank_value(input_object.get(name)) if applies else None
                )
        customer = row.get(contract.CUSTOMER_FIELD)
        row["customer_tier"] = tiers.get(customer) if customer is not None else None
        rows.append(row)

    frame = pd.DataFrame(rows, dtype=object)
    for spec in fields:
        if spec.kind != "timestamp":
            continue
        parsed = contract.parse_timestamps_utc(frame[spec.name].tolist())
        frame[_parses_column(spec.name)] = [
            None if text is None else moment is not None
            for text, moment in zip(frame[spec.name], parsed, strict=True)
        ]
        if spec.name == contract.STARTED_AT_FIELD:
            frame[STARTED_AT_UTC] = pd.Series(parsed, dtype="datetime64[us]", index=frame.index)
    frame["record_number"] = frame["record_number"].astype("Int64")
    return frame


def _customer_tiers(customers: pd.DataFrame | None) -> dict[str, str | None]:
    if customers is None:
        return {}
    tiers: dict[str, str | None] = {}
    for customer_id, tier in zip(customers["customer_id"], customers["tier"], strict=True):
        key = contract.as_text(customer_id)
        if key is not None and key not in tiers:
            tier_text = contract.as_text(tier)
            tiers[key] = tier_text.lower() if tier_text else None
    return tiers


# ---------------------------------------------------------------------------
# Expectation suites, generated from the contract


def _meta(check: str, blocking: bool, **details: Any) -> dict[str, Any]:
    return {"check": check, "severity": "blocking" if blocking else "warning", **details}


def contract_suite_expectations(max_bad_share: float, latest_started_at: datetime) -> list[Any]:
    """The blocking suite: the raw contract, with a tolerance of max_bad_share of the records."""
    import great_expectations as gx

    in_set = gx.expectations.ExpectColumnValuesToBeInSet
    mostly = 1.0 - max_bad_share
    tolerance = f"at most {max_bad_share:.1%} of records may fail"
    expectations: list[Any] = [
        in_set(
            column="file_status",
            value_set=[READABLE],
            description="Every task_runs file can be read and holds JSON objects.",
            meta=_meta("file_readable", True),
        ),
        in_set(
            column=LINE_IS_OBJECT,
            value_set=[True],
            mostly=mostly,
            description=f"Each line is a JSON object ({tolerance}).",
            meta=_meta("record_is_json_object", True),
        ),
    ]
    for spec in contract.contract_fields():
        if spec.required:
            expectations.append(
                in_set(
                    column=_in_file_column(spec.name),
                    value_set=[True],
                    description=f"Required column {spec.name} is present in every file.",
                    meta=_meta("required_column_in_file", True, field=spec.name),
                )
            )
        if spec.kind == "object":
            expectations.append(
                in_set(
                    column=_is_object_column(spec.name),
                    value_set=[True],
                    mostly=mostly,
                    description=f"{spec.name} is a JSON object or text holding one ({tolerance}).",
                    meta=_meta("object_field_is_object", True, field=spec.name),
                )
            )
        else:
            accepted = list(spec.accepted_json_kinds)
            expectations.append(
                in_set(
                    column=_kind_column(spec.name),
                    value_set=accepted,
                    mostly=mostly,
                    description=(
                        f"{spec.name} ({spec.kind}) is a JSON {' or '.join(accepted)} "
                        f"({tolerance})."
                    ),
                    meta=_meta("field_kind", True, field=spec.name, contract_kind=spec.kind),
                )
            )
        if spec.required:
            expectations.append(
                in_set(
                    column=_present_column(spec.name),
                    value_set=[True],
                    mostly=mostly,
                    description=(
                        f"Required field {spec.name} is not absent, null or blank ({tolerance})."
                    ),
                    meta=_meta("required_field_present", True, field=spec.name),
                )
            )
        if spec.kind == "timestamp":
            expectations.append(
                in_set(
                    column=_parses_column(spec.name),
                    value_set=[True],
                    mostly=mostly,
                    description=f"{spec.name} parses as an ISO-8601 timestamp ({tolerance}).",
                    meta=_meta("timestamp_parses", True, field=spec.name),
                )
            )
    expectations += [
        gx.expectations.ExpectColumnValuesToBeBetween(
            column=STARTED_AT_UTC,
            max_value=latest_started_at,
            mostly=mostly,
            description=(
                f"{contract.STARTED_AT_FIELD} is not in the future: at most "
                f"{latest_started_at:%Y-%m-%d %H:%M} UTC, now + max_clock_skew_hours "
                f"({tolerance})."
            ),
            meta=_meta("started_at_not_in_future", True, field=contract.STARTED_AT_FIELD),
        ),
        in_set(
            column=contract.STATUS_FIELD,
            value_set=sorted(contract.status_outcomes()),
            mostly=mostly,
            description=(
                "status (trimmed, lower-cased) is a raw_status of "
                f"seeds/task_status_outcomes.csv ({tolerance})."
            ),
            meta=_meta("status_in_vocabulary", True, field=contract.STATUS_FIELD),
        ),
        gx.expectations.ExpectColumnValuesToBeUnique(
            column=contract.RUN_ID_FIELD,
            mostly=mostly,
            description=f"task_run_id is unique across the delivery ({tolerance}).",
            meta=_meta("task_run_id_unique", True, field=contract.RUN_ID_FIELD),
        ),
    ]
    return expectations


def input_fields_suite_expectations() -> list[Any]:
    """The warning suite: per task type, each required input field present and non-empty."""
    import great_expectations as gx

    required = contract.required_input_fields()
    expectations: list[Any] = [
        gx.expectations.ExpectColumnValuesToBeInSet(
            column=contract.TASK_TYPE_FIELD,
            value_set=sorted(required),
            description="task_type is listed in seeds/required_input_fields.csv.",
            meta=_meta("task_type_listed", False, field=contract.TASK_TYPE_FIELD),
        )
    ]
    for task_type, names in required.items():
        for name in names:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column=_input_has_column(task_type, name),
                    value_set=[True],
                    description=(
                        f"{task_type}: input.{name} is present and not null, blank or empty."
                    ),
                    meta=_meta(
                        "required_input_field_present", False, task_type=task_type, field=name
                    ),
                )
            )
    return expectations


# ---------------------------------------------------------------------------
# Running the Checkpoint


def _quiet_great_expectations() -> None:
    """No analytics, no progress bars, no library warnings on our one-line-per-finding output."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"(great_expectations|pyspark)(\.|$)")
    warnings.filterwarnings("ignore", message=r"PySpark does not yet fully support")


def run_checkpoint(
    frame: pd.DataFrame, docs_dir: Path | None, max_bad_share: float, latest_started_at: datetime
) -> tuple[Any, str | None]:
    """Run the Checkpoint over `frame`; return its result and the Data Docs index URL.

    The Checkpoint's UpdateDataDocsAction writes Data Docs into `docs_dir`; None runs the
    same suites without Data Docs (for callers that only want the verdict).
    """
    _quiet_great_expectations()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    docs_sites = {}
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        # The index lists this run only; drop the pages of earlier runs so the folder agrees.
        for owned in ("validations", "expectations"):
            shutil.rmtree(docs_dir / owned, ignore_errors=True)
        docs_sites[DOCS_SITE_NAME] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=docs_sites,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    batch_definition = (
        context.data_sources.add_pandas("raw_delivery")
        .add_dataframe_asset("task_runs")
        .add_batch_definition_whole_dataframe("all_records")
    )
    validation_definitions = []
    suites = (
        (CONTRACT_SUITE, contract_suite_expectations(max_bad_share, latest_started_at), True),
        (INPUT_FIELDS_SUITE, input_fields_suite_expectations(), False),
    )
    for suite_name, expectations, blocking in suites:
        suite = context.suites.add(
            gx.ExpectationSuite(
                name=suite_name,
                expectations=expectations,
                meta={"severity": "blocking" if blocking else "warning"},
            )
        )
        validation_definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=suite_name, data=batch_definition, suite=suite)
            )
        )
    actions = []
    if docs_dir is not None:
        actions.append(
            gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[DOCS_SITE_NAME])
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=CHECKPOINT_NAME,
            validation_definitions=validation_definitions,
            actions=actions,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": INDEX_COLUMNS,
            },
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    docs_url = (docs_dir / "index.html").resolve().as_uri() if docs_dir is not None else None
    return result, docs_url


# ---------------------------------------------------------------------------
# Turning expectation results into findings


def _checked_count(result: Mapping[str, Any]) -> int:
    """Records a column-map expectation judged: its null values mean "does not apply"."""
    return int(result.get("element_count") or 0) - int(result.get("missing_count") or 0)


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def _value_counts(values: Iterable[Any], limit: int = 5) -> str:
    counts = Counter(str(value) for value in values)
    shown = ", ".join(f"{value!r} ({count})" for value, count in counts.most_common(limit))
    return shown + (f", and {len(counts) - limit} more" if len(counts) > limit else "")


def _customer_counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = Counter(row.get(contract.CUSTOMER_FIELD) or MISSING for row in rows)
    return dict(counts.most_common())


def _describe(check: str, meta: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """One line saying what failed, with counts and examples."""
    rows = result.get("unexpected_index_list") or []
    count = int(result.get("unexpected_count") or 0)
    total = _checked_count(result)
    name = meta.get("field")
    column = result.get("_column")
    counted = f"{count} of {total} records ({_share(count, total):.1%})"
    values = [row.get(column) for row in rows if column]
    if check == "file_readable":
        problems = result.get("_file_problems") or {}
        files = sorted({row["source_file"] for row in rows})
        described = [f"{name} ({problems[name]})" if name in problems else name for name in files]
        return f"unreadable task_runs file(s): {'; '.join(described)}"
    if check == "record_is_json_object":
        return f"{counted} are not JSON objects (malformed JSON or another JSON value)"
    if check == "required_column_in_file":
        files = sorted({row["source_file"] for row in rows})
        return f"required column {name} is absent from {', '.join(files)}"
    if check == "field_kind":
        accepted = " or ".join(contract.ACCEPTED_JSON_KINDS[meta["contract_kind"]])
        return f"{name} is not a JSON {accepted} in {counted}: found {_value_counts(values)}"
    if check == "required_field_present":
        return f"required field {name} is absent, null or blank in {counted}"
    if check == "timestamp_parses":
        texts = [row.get("_text") for row in rows]
        return f"{name} is not an ISO-8601 timestamp in {counted}, e.g. {_value_counts(texts, 3)}"
    if check == "started_at_not_in_future":
        texts = [row.get("_text") or row.get(column) for row in rows]
        return f"{name} is in the future in {counted}, e.g. {_value_counts(texts, 3)}"
    if check == "status_in_vocabulary":
        return (
            "status (trimmed, lower-cased) is not in seeds/task_status_outcomes.csv in "
            f"{counted}: {_value_counts(values)}"
        )
    if check == "task_run_id_unique":
        return f"task_run_id repeats in {counted}, e.g. {_value_counts(values, 3)}"
    if check == "object_field_is_object":
        return f"{name} is not a JSON object in {counted}"
    if check == "task_type_listed":
        return (
            f"task_type not listed in seeds/required_input_fields.csv (nothing required) "
            f"in {counted}: {_value_counts(values)}"
        )
    if check == "required_input_field_present":
        customers = _customer_counts(rows)
        shown = ", ".join(
            f"{customer} ({n})" for customer, n in list(customers.items())[:MAX_NAMED_CUSTOMERS]
        )
        if len(customers) > MAX_NAMED_CUSTOMERS:
            shown += f" and {len(customers) - MAX_NAMED_CUSTOMERS} more"
        return (
            f"{meta['task_type']}: input.{name} is missing in {count} of {total} "
            f"{meta['task_type']} records ({_share(count, total):.1%}); customers {shown}"
        )
    return f"{check} failed for {counted}"


def _finding(
    suite_name: str,
    expectation_result: Any,
    max_bad_share: float,
    delivery: Delivery,
    frame: pd.DataFrame,
) -> dict | None:
    """A blocking failure or warning from one expectation result, or None when it is clean."""
    config = expectation_result.expectation_config
    meta = dict(config.meta or {})
    check = meta.get("check", config.type)
    result = dict(expectation_result.result or {})
    exception = expectation_result.exception_info or {}
    if exception.get("raised_exception"):
        return {
            "suite": suite_name,
            "check": check,
            "field": meta.get("field"),
            "message": f"{check} could not run: {exception.get('exception_message')}",
            "blocking": True,
        }
    count = int(result.get("unexpected_count") or 0)
    if expectation_result.success and count == 0:
        return None
    blocking = meta.get("severity") == "blocking" and not expectation_result.success
    rows = [
        {key: _plain(value) for key, value in row.items()}
        for row in result.get("unexpected_index_list") or []
    ]
    result["_column"] = config.kwargs.get("column")
    result["_file_problems"] = {f.name: f.problem for f in delivery.files if not f.readable}
    if check in ("timestamp_parses", "started_at_not_in_future"):
        _add_field_text(rows, frame, meta["field"])
    finding: dict[str, Any] = {
        "suite": suite_name,
        "check": check,
        "field": meta.get("field"),
        "message": _describe(check, meta, {**result, "unexpected_index_list": rows}),
        "unexpected_count": count,
        "checked_count": _checked_count(result),
        "unexpected_share": round(_share(count, _checked_count(result)), 6),
        "blocking": blocking,
    }
    if meta.get("task_type"):
        finding["task_type"] = meta["task_type"]
    if meta.get("severity") == "blocking" and not blocking:
        finding["message"] += (
            f" (within the {max_bad_share:.1%} tolerance; dbt rejects these records as "
            f"{DBT_REJECTION.get(check, check)})"
        )
    if check in DBT_REJECTION:
        finding["dbt_rejection_reason"] = DBT_REJECTION[check]
    if rows:
        files = Counter(row["source_file"] for row in rows)
        finding["files"] = dict(sorted(files.items()))
        ids = [row.get(contract.RUN_ID_FIELD) for row in rows]
        finding["task_run_ids"] = [value for value in ids if value is not None][:MAX_LISTED_IDS]
        if None in ids:  # records without a usable id are named by file and line
            finding["records"] = [
                f"{row['source_file']}:{row['record_number']}" for row in rows[:MAX_LISTED_IDS]
            ]
        finding["customers"] = _customer_counts(rows)
        finding["truncated"] = len(rows) > MAX_LISTED_IDS
    return finding


def _add_field_text(rows: list[dict[str, Any]], frame: pd.DataFrame, name: str) -> None:
    """Put the field's text (as delivered, trimmed) into each unexpected row as `_text`."""
    texts = {
        (source_file, record_number): text
        for source_file, record_number, text in zip(
            frame["source_file"], frame["record_number"], frame[name], strict=True
        )
    }
    for row in rows:
        row["_text"] = texts.get((row["source_file"], row["record_number"]))


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if pd.isna(value):
        return None
    return str(value)


# ---------------------------------------------------------------------------
# Completeness per customer and tier (from the same derived columns)


def completeness(frame: pd.DataFrame) -> dict[str, Any]:
    """Share of records with every required input field, per customer, tier and task type.

    Counts the JSON-object records whose task type requires fields
    (seeds/required_input_fields.csv) and whose input is an object: a task type that requires
    nothing is trivially complete, and dbt rejects an input that is not an object.
    """
    required = contract.required_input_fields()
    per_record = []
    for row in frame.to_dict("records"):
        names = required.get(row.get(contract.TASK_TYPE_FIELD) or "", ())
        if row["record_kind"] != OBJECT or not names:
            continue
        task_type = row[contract.TASK_TYPE_FIELD]
        flags = [row.get(_input_has_column(task_type, name)) for name in names]
        if any(flag is None for flag in flags):
            continue  # input is not an object
        per_record.append(
            {
                "customer_id": row.get(contract.CUSTOMER_FIELD) or MISSING,
                "customer_tier": row.get("customer_tier") or MISSING,
                "task_type": row[contract.TASK_TYPE_FIELD],
                "missing": [name for name, flag in zip(names, flags, strict=True) if not flag],
            }
        )
    return {
        "scope": "records whose task type has required input fields and whose input is an object",
        "by_customer": _group_completeness(per_record, "customer_id", with_tier=True),
        "by_tier": _group_completeness(per_record, "customer_tier"),
        "by_task_type": _group_completeness(per_record, "task_type"),
    }


def _group_completeness(
    records: list[dict[str, Any]], key: str, with_tier: bool = False
) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record[key], []).append(record)
    rows = []
    for value, members in groups.items():
        incomplete = sum(1 for member in members if member["missing"])
        missing = Counter(name for member in members for name in member["missing"])
        row = {key: value}
        if with_tier:
            row["customer_tier"] = members[0]["customer_tier"]
        row |= {
            "record_count": len(members),
            "incomplete_record_count": incomplete,
            "completeness_rate": round(1 - incomplete / len(members), 6),
            "missing_field_counts": dict(missing.most_common()),
        }
        rows.append(row)
    return sorted(rows, key=lambda row: (row["completeness_rate"], str(row[key])))


# ---------------------------------------------------------------------------
# Putting it together


@dataclass
class ValidationOutcome:
    usable: bool
    reason: str | None
    result: dict[str, Any]

    @property
    def blocking_failures(self) -> list[dict[str, Any]]:
        return self.result["blocking_failures"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return self.result["warnings"]


def validate(
    raw_dir: Path,
    docs_dir: Path | None = DEFAULT_DOCS_DIR,
    max_bad_share: float = DEFAULT_MAX_BAD_SHARE,
    max_clock_skew_hours: float | None = None,
    now: datetime | None = None,
) -> ValidationOutcome:
    """Validate the delivery in `raw_dir` (Data Docs into `docs_dir`, None for none).

    Never raises on bad data: every problem is a blocking failure or a warning in the outcome.
    """
    raw_dir = Path(raw_dir)
    now = now or contract.now_utc()
    skew = contract.max_clock_skew_hours() if max_clock_skew_hours is None else max_clock_skew_hours
    latest_started_at = now + timedelta(hours=skew)
    base: dict[str, Any] = {
        "raw_dir": str(raw_dir.resolve()),
        "validated_at": now.replace(tzinfo=UTC).isoformat(),
        "policy": {
            "max_bad_share": max_bad_share,
            "max_clock_skew_hours": skew,
            "latest_started_at": latest_started_at.isoformat(),
        },
        "suites": {},
        "files": [],
        "blocking_failures": [],
        "warnings": [],
    }
    try:
        delivery = read_delivery(raw_dir)
    except UnusableDelivery as error:
        failure = {"check": "delivery_present", "message": str(error), "blocking": True}
        return _outcome({**base, "blocking_failures": [failure]})

    frame = build_frame(delivery)
    checkpoint_result, docs_url = run_checkpoint(frame, docs_dir, max_bad_share, latest_started_at)

    blocking = [{**problem, "blocking": True} for problem in delivery.reference_problems]
    warned: list[dict[str, Any]] = []
    suites = {}
    for run_result in checkpoint_result.run_results.values():
        suite_name = run_result.suite_name
        statistics = run_result.statistics
        suites[suite_name] = {
            "severity": "blocking" if suite_name == CONTRACT_SUITE else "warning",
            "success": bool(run_result.success),
            "evaluated_expectations": int(statistics["evaluated_expectations"]),
            "unsuccessful_expectations": int(statistics["unsuccessful_expectations"]),
        }
        for expectation_result in run_result.results:
            finding = _finding(suite_name, expectation_result, max_bad_share, delivery, frame)
            if finding is not None:
                (blocking if finding["blocking"] else warned).append(finding)
    # Worst first: the largest share of records affected.
    warned.sort(key=lambda finding: -finding.get("unexpected_share", 0))
    for raw_file in delivery.files:
        if raw_file.readable and raw_file.record_count == 0:
            warned.append(
                {"check": "file_has_records", "message": f"{raw_file.name} holds no records"}
            )

    object_records = int((frame["record_kind"] == OBJECT).sum())
    result = {
        **base,
        "data_docs": docs_url,
        "suites": suites,
        "files": [raw_file.summary() for raw_file in delivery.files],
        "record_count": sum(raw_file.record_count for raw_file in delivery.files),
        "object_record_count": object_records,
        "malformed_line_count": delivery.malformed_count,
        "customers_file": delivery.customers is not None,
        "blocking_failures": blocking,
        "warnings": warned,
        "completeness": completeness(frame),
    }
    return _outcome(result)


def _outcome(result: dict[str, Any]) -> ValidationOutcome:
    failures = result["blocking_failures"]
    usable = not failures
    reason = None
    if failures:
        reason = failures[0]["message"]
        if len(failures) > 1:
            reason += f" (and {len(failures) - 1} more blocking failure(s))"
    result = {"usable": usable, "reason": reason, **result}
    return ValidationOutcome(usable, reason, result)


def write_result(outcome: ValidationOutcome, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outcome.result, indent=2, default=str) + "\n", encoding="utf-8")


def print_report(outcome: ValidationOutcome, result_path: Path) -> None:
    result = outcome.result
    for failure in outcome.blocking_failures:
        print(f"BLOCK {failure['check']}: {failure['message']}")
    for warning in outcome.warnings[:MAX_PRINTED_WARNINGS]:
        print(f"WARN  {warning['check']}: {warning['message']}")
    if len(outcome.warnings) > MAX_PRINTED_WARNINGS:
        print(f"WARN  ... and {len(outcome.warnings) - MAX_PRINTED_WARNINGS} more warnings")
    records = result.get("record_count", 0)
    print(
        f"raw delivery {result['raw_dir']}: {records:,} records in {len(result['files'])} file(s), "
        f"{result.get('malformed_line_count', 0):,} malformed line(s); "
        f"{len(outcome.blocking_failures)} blocking failure(s), {len(outcome.warnings)} warning(s)"
        f" -> {'usable' if outcome.usable else 'UNUSABLE'}"
    )
    if result.get("data_docs"):
        print(f"Data Docs: {result['data_docs']}")
    print(f"Result: {result_path}")


def _share_argument(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="validate_raw.py",
        description=(
            "Validate a raw delivery of agent task logs with Great Expectations before dbt "
            "reads it: blocking contract checks and warning-level required-input-field checks, "
            "Data Docs HTML and a JSON result. Exits 1 with a one-line reason when the delivery "
            "is unusable."
        ),
    )
    parser.add_argument("raw_dir", type=Path, help="folder with task_runs*.jsonl/.parquet files")
    parser.add_argument(
        "--docs-dir",
        type=Path,
        default=DEFAULT_DOCS_DIR,
        help="where Data Docs HTML is written (default: target/data_docs)",
    )
    parser.add_argument(
        "--result",
        type=Path,
        default=DEFAULT_RESULT,
        help="where the JSON result is written (default: target/raw_validation.json)",
    )
    parser.add_argument(
        "--max-bad-share",
        type=_share_argument,
        default=DEFAULT_MAX_BAD_SHARE,
        help="share of records a blocking record-level check tolerates (default: 0.01)",
    )
    parser.add_argument(
        "--max-clock-skew-hours",
        type=float,
        default=None,
        help="start times later than now + this are in the future (default: dbt_project.yml var)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        outcome = validate(
            args.raw_dir,
            docs_dir=args.docs_dir,
            max_bad_share=args.max_bad_share,
            max_clock_skew_hours=args.max_clock_skew_hours,
        )
    except contract.ContractError as error:
        print(f"validate_raw.py: project contract problem: {error}", file=sys.stderr)
        return 1
    write_result(outcome, args.result)
    print_report(outcome, args.result)
    if not outcome.usable:
        print(f"validate_raw.py: unusable raw delivery: {outcome.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
