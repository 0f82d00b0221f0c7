"""LangSmith run exports -> the raw contract. One root run is one task run.

Reads runs as the LangSmith API and SDK return them (``client.list_runs``,
``GET /runs``), as JSONL or JSON (an array, or ``{"runs": [...]}``): ``id``,
``trace_id``, ``parent_run_id``, ``name``, ``run_type``, ``start_time``,
``end_time``, ``status``, ``error``, ``inputs``, ``extra.metadata`` (or
``metadata``), ``tags``, ``feedback_stats``, ``prompt_tokens``,
``completion_tokens``, ``total_cost``. Root runs (no parent) are task runs;
child runs are skipped as ``child_run`` (a root run already carries the
trace's token and cost totals).

Outcome: ``status`` ``success`` -> ``completed``, ``error`` -> ``failed``,
``pending``/``running`` -> ``running`` (excluded). With ``feedback_key``, a run
that did not error is judged by that feedback's average instead (>=
``threshold`` -> ``completed``, else ``failed``; no such feedback ->
``unscored_status``, excluded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importers._input import (
    as_mapping,
    as_score,
    as_string_list,
    error_class,
    first_present,
    json_records,
    progress,
    tags_to_attributes,
)
from importers.contract_writer import (
    CUSTOMER_NAME_KEYS,
    CUSTOMER_TIER_KEYS,
    METADATA_FIELDS,
    ContractWriter,
    Origin,
    iso_utc,
    parse_datetime,
)

STATUSES = {"success": "completed", "error": "failed", "pending": "running", "running": "running"}
# LangSmith's own metadata keys: the model one becomes attributes.model, the rest are left out.
MODEL_KEYS = ("ls_model_name",)


@dataclass(frozen=True)
class LangsmithOptions:
    feedback_key: str | None = None
    threshold: float = 0.5
    default_task_type: str | None = None
    unscored_status: str = "skipped"


def import_langsmith(
    input_path: Path, writer: ContractWriter, options: LangsmithOptions = LangsmithOptions()
) -> None:
    source_file = Path(input_path).name
    records = json_records(input_path, list_keys=("runs", "data"))
    for record in progress(records, "langsmith runs"):
        origin = Origin(source_file, record.number)
        if record.error:
            writer.skip(origin, "malformed_json", record.error, record.text)
        elif not isinstance(record.value, dict):
            writer.skip(origin, "record_not_an_object", None, record.value)
        else:
            _import_run(record.value, origin, writer, options)


def is_root(run: Mapping[str, Any]) -> bool:
    if isinstance(run.get("is_root"), bool):
        return run["is_root"]
    return not run.get("parent_run_id") and not run.get("parent_run_ids")


def _import_run(
    run: Mapping[str, Any], origin: Origin, writer: ContractWriter, options: LangsmithOptions
) -> None:
    run_id = run.get("id")
    origin = Origin(
        origin.source_file, origin.record_number, None if run_id is None else str(run_id)
    )
    if not is_root(run):
        parent = run.get("parent_run_id") or (run.get("parent_run_ids") or [None])[0]
        writer.skip(origin, "child_run", f"child of run {parent} in trace {run.get('trace_id')}")
        return

    raw_status = str(run.get("status") or "").strip().lower()
    status = STATUSES.get(raw_status, raw_status or None)
    if options.feedback_key and status == "completed":
        stats = as_mapping(run.get("feedback_stats")).get(options.feedback_key)
        value = stats.get("avg") if isinstance(stats, Mapping) else stats
        if value is None:
            status = options.unscored_status
        else:
            score = as_score(value)
            if score is None:
                writer.skip(
                    origin,
                    "feedback_not_numeric",
                    f"feedback {options.feedback_key} = {value!r} has no numeric reading",
                    run,
                )
                return
            status = "completed" if score >= options.threshold else "failed"

    extra = as_mapping(run.get("extra"))
    metadata = {**as_mapping(extra.get("metadata")), **as_mapping(run.get("metadata"))}
    fields = {key: metadata[key] for key in METADATA_FIELDS if key in metadata}
    attributes: dict[str, Any] = {"model": first_present(metadata, *MODEL_KEYS)}
    for key, value in metadata.items():
        if (
            key in METADATA_FIELDS
            or key in CUSTOMER_NAME_KEYS
            or key in CUSTOMER_TIER_KEYS
            or key.startswith("ls_")
        ):
            continue
        attributes.setdefault(key, value)
    for key, value in tags_to_attributes(as_string_list(run.get("tags"))).items():
        attributes.setdefault(key, value)
    if status == "failed" and fields.get("error_type") is None:
        fields["error_type"] = error_class(run.get("error"))

    started = parse_datetime(run.get("start_time"))
    finished = parse_datetime(run.get("end_time"))
    inputs = run.get("inputs")
    record = {
        "task_run_id": run_id,
        "task_id": fields.get("task_id"),
        "attempt": fields.get("attempt"),
        "agent_name": fields.get("agent_name") or run.get("name"),
        "agent_version": fields.get("agent_version") or metadata.get("revision_id"),
        "task_type": fields.get("task_type") or options.default_task_type or run.get("name"),
        "user_id": fields.get("user_id"),
        "team": fields.get("team"),
        "customer_id": fields.get("customer_id"),
        "started_at": iso_utc(started) if started else run.get("start_time"),
        "finished_at": iso_utc(finished) if finished else run.get("end_time"),
        "status": status,
        "input": inputs if isinstance(inputs, Mapping) and inputs else None,
        "request_text": fields.get("request_text"),
        "error_type": fields.get("error_type"),
        "latency_ms": (finished - started).total_seconds() * 1000 if started and finished else None,
        "cost_usd": run.get("total_cost"),
        "input_tokens": run.get("prompt_tokens"),
        "output_tokens": run.get("completion_tokens"),
        "attributes": attributes,
    }
    if writer.add_run(origin, record, run):
        writer.add_customer(
            fields.get("customer_id"),
            first_present(metadata, *CUSTOMER_NAME_KEYS),
            first_present(metadata, *CUSTOMER_TIER_KEYS),
        )
