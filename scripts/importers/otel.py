"""OpenTelemetry traces (OTLP JSON, GenAI semantic conventions) -> the raw contract.

Reads OTLP/JSON ``TracesData`` (``{"resourceSpans": [{"resource", "scopeSpans":
[{"scope", "spans": [...]}]}]}``), one document per file or one per line (the
collector's file exporter). Each span is an input record. Which spans are task
runs (``root_spans``):

* ``auto`` (default): in each trace, the outermost agent spans
  (``gen_ai.operation.name`` in ``agent_operations``, by default
  ``invoke_agent``) that no other agent span encloses; a trace with no agent
  span gives its root span (no ``parentSpanId``);
* ``agent``: the outermost agent spans only;
* ``root``: the root spans only.

Spans inside a task run are skipped as ``child_span`` after lending it their
token counts and model; other spans as ``outside_task_span``. Status
``ERROR`` -> ``failed``, ``OK``/``UNSET`` -> ``completed``, no end time ->
``running`` (excluded). Attributes map to fields as in docs/importers.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from importers._input import as_mapping, first_present, json_records, progress
from importers.contract_writer import ContractWriter, Origin, attribute_key, iso_utc

ROOT_SPAN_MODES = ("auto", "agent", "root")
STATUS_ERROR = 2
STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}

# Contract field -> span attribute keys, first present wins (span, then resource attributes).
FIELD_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "task_id": ("task.id", "task_id"),
    "attempt": ("task.attempt", "attempt"),
    "task_type": ("task.type", "task_type"),
    "agent_name": ("gen_ai.agent.name",),
    "agent_version": ("gen_ai.agent.version", "service.version"),
    "user_id": ("user.id", "enduser.id", "user_id"),
    "customer_id": ("customer.id", "customer_id", "tenant.id"),
    "team": ("team", "team.name", "user.team"),
    "request_text": ("task.request", "request_text"),
    "error_type": ("error.type",),
    "cost_usd": ("gen_ai.usage.cost", "cost_usd"),
}
INPUT_ATTRIBUTES = ("task.input", "input.value")
CUSTOMER_TIER_ATTRIBUTES = ("customer.tier", "customer_tier")
CUSTOMER_NAME_ATTRIBUTES = ("customer.name", "customer_name")
INPUT_TOKEN_ATTRIBUTES = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_TOKEN_ATTRIBUTES = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
MODEL_ATTRIBUTES = ("gen_ai.request.model", "gen_ai.response.model")
# gen_ai.* attributes kept as attributes, under these keys; other gen_ai.* ones (message
# content, request parameters) are left out.
GEN_AI_ATTRIBUTES = {
    "gen_ai.provider.name": "provider",
    "gen_ai.system": "provider",
    "gen_ai.conversation.id": "conversation_id",
    "gen_ai.agent.id": "agent_id",
}
RESOURCE_ATTRIBUTES = {
    "service.name": "service_name",
    "deployment.environment.name": "environment",
    "deployment.environment": "environment",
}


@dataclass(frozen=True)
class OtelOptions:
    root_spans: str = "auto"
    agent_operations: tuple[str, ...] = ("invoke_agent",)
    default_task_type: str | None = None


@dataclass
class _Span:
    origin: Origin
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    start_ns: int | None
    end_ns: int | None
    status_code: int
    events: list[dict[str, Any]]
    raw: dict[str, Any]


def import_otel(
    input_path: Path, writer: ContractWriter, options: OtelOptions = OtelOptions()
) -> None:
    if options.root_spans not in ROOT_SPAN_MODES:
        raise ValueError(f"root_spans must be one of {ROOT_SPAN_MODES}")
    source_file = Path(input_path).name
    spans: list[_Span] = []
    number = 0
    for record in json_records(input_path, list_keys=()):
        if record.error or not isinstance(record.value, dict):
            number += 1
            reason = "malformed_json" if record.error else "record_not_an_object"
            writer.skip(Origin(source_file, number), reason, record.error, record.text)
            continue
        if "resourceSpans" not in record.value:
            number += 1
            writer.skip(Origin(source_file, number), "not_otlp_traces", "no resourceSpans", None)
            continue
        for resource, span in _walk(record.value):
            number += 1
            spans.append(_parse_span(span, resource, Origin(source_file, number)))

    by_trace: dict[str, list[_Span]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    for trace_spans in progress(list(by_trace.values()), "otel traces"):
        _import_trace(trace_spans, writer, options)


def _walk(document: Mapping[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = []
    for resource_spans in document.get("resourceSpans") or []:
        resource = decode_attributes((resource_spans.get("resource") or {}).get("attributes"))
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for span in scope_spans.get("spans") or []:
                found.append((resource, span if isinstance(span, dict) else {"_raw": span}))
    return found


def _parse_span(span: Mapping[str, Any], resource: dict[str, Any], origin: Origin) -> _Span:
    status = span.get("status") or {}
    code = status.get("code", 0)
    if isinstance(code, str):
        code = int(code) if code.isdigit() else STATUS_NAMES.get(code, 0)
    code = code if isinstance(code, int) else 0
    span_id = str(span.get("spanId") or "")
    return _Span(
        origin=Origin(origin.source_file, origin.record_number, span_id or None),
        trace_id=str(span.get("traceId") or ""),
        span_id=span_id,
        parent_id=str(span.get("parentSpanId") or ""),
        name=str(span.get("name") or ""),
        attributes=decode_attributes(span.get("attributes")),
        resource=resource,
        start_ns=_nanos(span.get("startTimeUnixNano")),
        end_ns=_nanos(span.get("endTimeUnixNano")),
        status_code=code,
        events=[event for event in span.get("events") or [] if isinstance(event, dict)],
        raw=dict(span),
    )


def decode_attributes(attributes: Any) -> dict[str, Any]:
    """OTLP ``[{"key", "value": {"stringValue": ...}}]`` as a plain dict."""
    decoded = {}
    for item in attributes or []:
        if isinstance(item, Mapping) and "key" in item:
            decoded[str(item["key"])] = decode_value(item.get("value"))
    return decoded


def decode_value(value: Any) -> Any:
    """One OTLP ``AnyValue`` (64-bit integers arrive as text in OTLP/JSON)."""
    if not isinstance(value, Mapping):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [decode_value(item) for item in (value["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in value:
        return decode_attributes((value["kvlistValue"] or {}).get("values"))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _nanos(value: Any) -> int | None:
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        return None
    return nanos if nanos > 0 else None


def _time(nanos: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=nanos // 1000)


def _import_trace(spans: list[_Span], writer: ContractWriter, options: OtelOptions) -> None:
    by_id = {span.span_id: span for span in spans if span.span_id}

    def ancestors(span: _Span) -> list[_Span]:
        chain, seen = [], {span.span_id}
        parent = by_id.get(span.parent_id)
        while parent is not None and parent.span_id not in seen:
            chain.append(parent)
            seen.add(parent.span_id)
            parent = by_id.get(parent.parent_id)
        return chain

    def is_agent(span: _Span) -> bool:
        return span.attributes.get("gen_ai.operation.name") in options.agent_operations

    agent_runs = [
        span for span in spans if is_agent(span) and not any(map(is_agent, ancestors(span)))
    ]
    roots = [span for span in spans if not span.parent_id]
    if options.root_spans == "agent" or (options.root_spans == "auto" and agent_runs):
        runs = agent_runs
    else:
        runs = roots
    run_ids = {span.span_id for span in runs}
    children: dict[str, list[_Span]] = defaultdict(list)
    for span in spans:
        if span.span_id in run_ids:
            continue
        owner = next((a for a in ancestors(span) if a.span_id in run_ids), None)
        if owner is not None:
            children[owner.span_id].append(span)
            writer.skip(span.origin, "child_span", f"inside task run {owner.span_id}")
        else:
            detail = (
                f"not inside a task run of trace {span.trace_id} (root spans: {options.root_spans})"
            )
            writer.skip(span.origin, "outside_task_span", detail)
    for span in runs:
        _import_run(span, children.get(span.span_id, []), writer, options)


def _import_run(
    span: _Span, children: Sequence[_Span], writer: ContractWriter, options: OtelOptions
) -> None:
    attributes = {**span.resource, **span.attributes}
    fields = {field: first_present(attributes, *keys) for field, keys in FIELD_ATTRIBUTES.items()}
    if fields["error_type"] is None and span.status_code == STATUS_ERROR:
        fields["error_type"] = _exception_type(span)
    agent_name = fields["agent_name"] or span.resource.get("service.name") or span.name
    if span.end_ns is None:
        status = "running"
    else:
        status = "failed" if span.status_code == STATUS_ERROR else "completed"

    input_tokens = first_present(span.attributes, *INPUT_TOKEN_ATTRIBUTES)
    output_tokens = first_present(span.attributes, *OUTPUT_TOKEN_ATTRIBUTES)
    model_calls = [child for child in children if not _is_agent_like(child, options)]
    if input_tokens is None:
        input_tokens = _sum(model_calls, INPUT_TOKEN_ATTRIBUTES)
    if output_tokens is None:
        output_tokens = _sum(model_calls, OUTPUT_TOKEN_ATTRIBUTES)
    model = first_present(span.attributes, *MODEL_ATTRIBUTES)
    if model is None:
        for child in sorted(children, key=lambda child: child.start_ns or 0):
            model = first_present(child.attributes, *MODEL_ATTRIBUTES)
            if model is not None:
                break

    extra: dict[str, Any] = {"model": model, "trace_id": span.trace_id}
    for key, name in RESOURCE_ATTRIBUTES.items():
        extra.setdefault(name, span.resource.get(key))
    consumed = {key for keys in FIELD_ATTRIBUTES.values() for key in keys}
    consumed |= {*INPUT_ATTRIBUTES, *CUSTOMER_TIER_ATTRIBUTES, *CUSTOMER_NAME_ATTRIBUTES}
    for key, value in span.attributes.items():
        if key in GEN_AI_ATTRIBUTES:
            extra.setdefault(GEN_AI_ATTRIBUTES[key], value)
        elif key in consumed or key.startswith("gen_ai.") or isinstance(value, dict | list):
            continue
        else:
            extra.setdefault(attribute_key(key), value)
    if extra.get("provider") is None:
        extra.pop("provider", None)

    input_value = first_present(span.attributes, *INPUT_ATTRIBUTES)
    input_object = input_value if isinstance(input_value, dict) else as_mapping(input_value)
    request_text = fields["request_text"]
    if not input_object and isinstance(input_value, str) and request_text is None:
        request_text = input_value

    run = {
        "task_run_id": span.span_id,
        "task_id": fields["task_id"],
        "attempt": fields["attempt"],
        "agent_name": agent_name,
        "agent_version": fields["agent_version"],
        "task_type": fields["task_type"] or options.default_task_type or agent_name,
        "user_id": fields["user_id"],
        "team": fields["team"],
        "customer_id": fields["customer_id"],
        "started_at": iso_utc(_time(span.start_ns)) if span.start_ns else None,
        "finished_at": iso_utc(_time(span.end_ns)) if span.end_ns else None,
        "status": status,
        "input": input_object or None,
        "request_text": request_text,
        "error_type": fields["error_type"],
        "latency_ms": (
            (span.end_ns - span.start_ns) / 1e6 if span.start_ns and span.end_ns else None
        ),
        "cost_usd": fields["cost_usd"],
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "attributes": extra,
    }
    if writer.add_run(span.origin, run, span.raw):
        writer.add_customer(
            fields["customer_id"],
            first_present(attributes, *CUSTOMER_NAME_ATTRIBUTES),
            first_present(attributes, *CUSTOMER_TIER_ATTRIBUTES),
        )


def _is_agent_like(span: _Span, options: OtelOptions) -> bool:
    return span.attributes.get("gen_ai.operation.name") in (
        *options.agent_operations,
        "invoke_workflow",
        "create_agent",
    )


def _sum(spans: Sequence[_Span], keys: Sequence[str]) -> int | None:
    values = [first_present(span.attributes, *keys) for span in spans]
    numbers = [int(value) for value in values if isinstance(value, int | float)]
    return sum(numbers) if numbers else None


def _exception_type(span: _Span) -> str | None:
    for event in span.events:
        if event.get("name") == "exception":
            exception_type = decode_attributes(event.get("attributes")).get("exception.type")
            if exception_type:
                return str(exception_type)
    return None
