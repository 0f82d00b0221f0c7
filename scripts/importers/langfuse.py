"""Langfuse trace exports -> the raw contract. One trace is one task run.

Reads the trace exports Langfuse produces, as JSONL or JSON (an array, an API
page ``{"data": [...]}`` or one trace):

* the UI batch export of the traces table (camelCase: ``userId``, ``sessionId``,
  ``latency`` in seconds, ``totalCost``, ``usage.promptTokens`` ..., scores as
  ``{"name": [values]}`` and again as one top-level column per score name);
* the public API / "Download JSON" of a trace (``scores`` as a list of score
  objects ``{name, value, dataType, stringValue}``);
* the blob-storage traces table (snake_case: ``user_id``, ``session_id``; its
  scores live in another file and must be joined on first).

The outcome is a score: the first of ``score_names`` the trace has (several
values: their mean) -> ``completed`` when >= ``threshold``, else ``failed``. A
trace with none of them gets ``unscored_status`` (``skipped``, which the seed
maps to excluded: it counts as traffic, in no rate). See docs/importers.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from importers._input import (
    as_mapping,
    as_score,
    as_string_list,
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

# Top-level keys of a trace row that are never a flattened score column.
TRACE_KEYS = {
    "id",
    "timestamp",
    "name",
    "userId",
    "user_id",
    "sessionId",
    "session_id",
    "release",
    "version",
    "environment",
    "metadata",
    "tags",
    "input",
    "output",
    "latency",
    "totalCost",
    "total_cost",
    "calculatedTotalCost",
    "inputCost",
    "outputCost",
    "usage",
    "inputTokens",
    "outputTokens",
    "totalTokens",
    "scores",
    "observations",
    "bookmarked",
    "public",
    "level",
    "observationCount",
    "htmlPath",
    "projectId",
    "project_id",
    "createdAt",
    "updatedAt",
    "created_at",
    "updated_at",
}


@dataclass(frozen=True)
class LangfuseOptions:
    score_names: tuple[str, ...] = ("task_completed", "success")
    threshold: float = 0.5
    default_task_type: str | None = None
    unscored_status: str = "skipped"


class _NotNumeric(ValueError):
    pass


def import_langfuse(
    input_path: Path, writer: ContractWriter, options: LangfuseOptions = LangfuseOptions()
) -> None:
    source_file = Path(input_path).name
    records = json_records(input_path)
    for record in progress(records, "langfuse traces"):
        origin = Origin(source_file, record.number)
        if record.error:
            writer.skip(origin, "malformed_json", record.error, record.text)
        elif not isinstance(record.value, dict):
            writer.skip(origin, "record_not_an_object", None, record.value)
        else:
            _import_trace(record.value, origin, writer, options)


def _import_trace(
    trace: Mapping[str, Any], origin: Origin, writer: ContractWriter, options: LangfuseOptions
) -> None:
    trace_id = first_present(trace, "id")
    origin = Origin(origin.source_file, origin.record_number, _text(trace_id))
    try:
        score_name, score = trace_score(trace, options.score_names)
    except _NotNumeric as error:
        writer.skip(origin, "score_not_numeric", str(error), trace)
        return
    if score is None:
        status = options.unscored_status
    else:
        status = "completed" if score >= options.threshold else "failed"

    metadata = as_mapping(trace.get("metadata"))
    fields = {key: metadata[key] for key in METADATA_FIELDS if key in metadata}
    attributes: dict[str, Any] = {
        key: value
        for key, value in metadata.items()
        if key not in METADATA_FIELDS
        and key not in CUSTOMER_NAME_KEYS
        and key not in CUSTOMER_TIER_KEYS
    }
    for key, value in tags_to_attributes(as_string_list(trace.get("tags"))).items():
        attributes.setdefault(key, value)
    attributes.setdefault("environment", trace.get("environment"))
    attributes.setdefault("session_id", first_present(trace, "sessionId", "session_id"))
    if score_name is not None:
        attributes.setdefault("outcome_score", score_name)

    started = parse_datetime(trace.get("timestamp"))
    latency = trace.get("latency")
    latency_seconds = float(latency) if isinstance(latency, int | float) else None
    usage = as_mapping(trace.get("usage"))
    request_text, input_object = _input_parts(trace.get("input"))

    run = {
        "task_run_id": trace_id,
        "task_id": fields.get("task_id"),
        "attempt": fields.get("attempt"),
        "agent_name": fields.get("agent_name") or trace.get("name"),
        "agent_version": first_present(fields, "agent_version")
        or first_present(trace, "release", "version"),
        "task_type": fields.get("task_type") or options.default_task_type or trace.get("name"),
        "user_id": first_present(trace, "userId", "user_id") or fields.get("user_id"),
        "team": fields.get("team"),
        "customer_id": fields.get("customer_id"),
        "started_at": iso_utc(started) if started else trace.get("timestamp"),
        "finished_at": (
            iso_utc(started + timedelta(seconds=latency_seconds))
            if started and latency_seconds is not None
            else None
        ),
        "status": status,
        "input": input_object,
        "request_text": fields.get("request_text") or request_text,
        "error_type": fields.get("error_type"),
        "latency_ms": latency_seconds * 1000 if latency_seconds is not None else None,
        "cost_usd": _number(first_present(trace, "totalCost", "total_cost", "calculatedTotalCost")),
        "input_tokens": first_present(usage, "promptTokens", "input")
        or first_present(trace, "inputTokens"),
        "output_tokens": first_present(usage, "completionTokens", "output")
        or first_present(trace, "outputTokens"),
        "attributes": attributes,
    }
    if writer.add_run(origin, run, trace):
        writer.add_customer(
            fields.get("customer_id"),
            first_present(metadata, *CUSTOMER_NAME_KEYS),
            first_present(metadata, *CUSTOMER_TIER_KEYS),
        )


def trace_score(
    trace: Mapping[str, Any], score_names: Sequence[str]
) -> tuple[str | None, float | None]:
    """(name, value) of the first of `score_names` the trace has; the mean when it has several
    values; (None, None) when it has none. Raises _NotNumeric for a value with no numeric
    reading (a categorical score)."""
    found = _score_values(trace)
    for name in score_names:
        values = found.get(name)
        if not values:
            continue
        numbers = [as_score(value) for value in values]
        if any(number is None for number in numbers):
            bad = next(v for v, n in zip(values, numbers, strict=True) if n is None)
            raise _NotNumeric(f"score {name} = {bad!r} has no numeric reading")
        return name, sum(numbers) / len(numbers)
    return None, None


def _score_values(trace: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Score name -> values, from every shape Langfuse exports (see the module docstring)."""
    found: dict[str, list[Any]] = {}
    scores = trace.get("scores")
    if isinstance(scores, list):
        for score in scores:
            if not isinstance(score, Mapping) or not score.get("name"):
                continue  # the API's trace list gives score ids only: no values to read
            data_type = str(score.get("dataType") or score.get("data_type") or "").upper()
            value = score.get("value")
            if data_type == "CATEGORICAL" or value is None:
                value = first_present(score, "stringValue", "string_value")
            if value is not None:
                found.setdefault(str(score["name"]), []).append(value)
    elif isinstance(scores, Mapping):
        for name, values in scores.items():
            found.setdefault(str(name), []).extend(_as_values(values))
    for key, values in trace.items():  # the UI export's flattened score columns
        if key not in TRACE_KEYS and key not in found:
            flattened = _as_values(values)
            if flattened:
                found[key] = flattened
    return found


def _as_values(values: Any) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, list):
        return [value for value in values if value is not None]
    if isinstance(values, str | int | float | bool):
        return [values]
    return []


def _input_parts(value: Any) -> tuple[str | None, dict[str, Any] | None]:
    """(request_text, input): an object (or JSON text holding one) is the input; other text is
    the request. Anything else (e.g. a list of chat messages) is left out."""
    if isinstance(value, Mapping):
        return None, dict(value)
    if isinstance(value, str):
        parsed = as_mapping(value)
        if parsed:
            return None, parsed
        return (value.strip() or None), None
    return None, None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
