"""Pre-agent gate: does a record carry every input field its task type requires?

Put this in front of an agent so that incomplete records are fixed or routed
before the agent fails on them. The rule is the one the marts count
(docs/definitions.md, section 4; seeds/required_input_fields.csv): a required
field is missing when it is absent, null, a string that is empty after
trimming whitespace, or an empty array or object. 0 and false are values.

Python API (plain Python, the seed is read once per process)::

    from pre_agent_gate import check_record, check_batch

    result = check_record("account_summary", {"company_name": "Acme", "industry": " "})
    result.passed           # False
    result.missing_fields   # ['industry', 'annual_revenue', 'primary_contact', 'renewal_date']

    check_batch([{"task_run_id": "r1", "task_type": "support_triage", "input": {...}}, ...])

CLI: reads JSON (one task-run-shaped object or an array of them) or JSONL from a
file or stdin; each record needs ``task_type`` and ``input`` (an object, or text
holding one), ``task_run_id`` names it. Prints one line per record and a summary;
exits 1 when any record fails (0 with --report-only), 2 on unreadable input::

    python scripts/pre_agent_gate.py records.jsonl
    cat records.json | python scripts/pre_agent_gate.py --json --report-only
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import raw_contract as contract
from cli_support import OneLineParser

ID_KEYS = (contract.RUN_ID_FIELD, "id")


@dataclass(frozen=True, slots=True)
class GateResult:
    """The verdict on one record: passed, and which required fields it misses (seed order)."""

    passed: bool
    missing_fields: list[str] = field(default_factory=list)
    task_type: str | None = None
    record_id: str | None = None
    problem: str | None = None  # why the record could not be checked as it is

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PreAgentGate:
    """Checks records against the required-input-fields contract held in memory."""

    def __init__(
        self,
        required_fields: Mapping[str, Sequence[str]] | None = None,
        strict_task_types: bool = False,
    ) -> None:
        source = contract.required_input_fields() if required_fields is None else required_fields
        self.required_fields: dict[str, tuple[str, ...]] = {
            task_type: tuple(names) for task_type, names in source.items()
        }
        self.strict_task_types = strict_task_types

    def check_record(self, task_type: Any, record: Any, record_id: str | None = None) -> GateResult:
        """Check one input `record` (a mapping, JSON text holding an object, or None for {})."""
        task_type_text = contract.as_text(task_type)
        if task_type_text is None:
            return GateResult(False, [], None, record_id, "no task_type")
        fields = self.required_fields.get(task_type_text)
        if fields is None:
            if self.strict_task_types:
                problem = f"task type {task_type_text!r} is not in seeds/required_input_fields.csv"
                return GateResult(False, [], task_type_text, record_id, problem)
            return GateResult(True, [], task_type_text, record_id)
        if not isinstance(record, Mapping):
            record = contract.as_object(record)
            if record is None:
                problem = "input is not a JSON object"
                return GateResult(False, list(fields), task_type_text, record_id, problem)
        blank = contract.is_blank_value
        missing = [name for name in fields if blank(record.get(name))]
        return GateResult(not missing, missing, task_type_text, record_id)

    def check_run(self, run: Any) -> GateResult:
        """Check a task-run-shaped record: {task_type, input, task_run_id?}."""
        if not isinstance(run, Mapping):
            return GateResult(False, [], None, None, "record is not a JSON object")
        record_id = next((contract.as_text(run.get(key)) for key in ID_KEYS if key in run), None)
        return self.check_record(
            run.get(contract.TASK_TYPE_FIELD), run.get(contract.INPUT_FIELD), record_id
        )

    def check_batch(self, records: Iterable[Any]) -> list[GateResult]:
        """Check task-run-shaped records; one result per record, in order."""
        return [self.check_run(run) for run in records]


_default_gate: PreAgentGate | None = None


def default_gate() -> PreAgentGate:
    """The gate on seeds/required_input_fields.csv, built on first use."""
    global _default_gate
    if _default_gate is None:
        _default_gate = PreAgentGate()
    return _default_gate


def check_record(task_type: Any, record: Any) -> GateResult:
    """Does `record` (the input an agent of `task_type` is about to receive) pass the gate?"""
    return default_gate().check_record(task_type, record)


def check_batch(records: Iterable[Any]) -> list[GateResult]:
    """check_record for task-run-shaped records {task_type, input, task_run_id?}."""
    return default_gate().check_batch(records)


# ---------------------------------------------------------------------------
# CLI


def parse_records(text: str) -> list[Any]:
    """A JSON object, a JSON array of records, or JSONL (a bad line becomes a failing record)."""
    stripped = text.strip(contract.WHITESPACE)
    if not stripped:
        return []
    try:
        document = contract.parse_json(stripped)
    except ValueError:
        document = None
    else:
        return document if isinstance(document, list) else [document]
    records: list[Any] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip(contract.WHITESPACE):
            continue
        try:
            records.append(contract.parse_json(line))
        except ValueError:
            records.append(_UnparsableLine(line_number))
    return records


@dataclass(frozen=True)
class _UnparsableLine:
    line_number: int


def _check(gate: PreAgentGate, item: Any) -> GateResult:
    if isinstance(item, _UnparsableLine):
        return GateResult(False, [], None, f"line {item.line_number}", "not valid JSON")
    return gate.check_run(item)


def _describe(result: GateResult, position: int) -> str:
    name = result.record_id or f"#{position}"
    verdict = "PASS" if result.passed else "FAIL"
    parts = [verdict, name, result.task_type or "-"]
    if result.missing_fields:
        parts.append("missing: " + ", ".join(result.missing_fields))
    if result.problem:
        parts.append(f"({result.problem})")
    return " ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="pre_agent_gate.py",
        description=(
            "Pre-agent gate: check the records an agent is about to receive against "
            "seeds/required_input_fields.csv: "
            "per record PASS/FAIL with the missing fields. Exits 1 when any record fails."
        ),
    )
    parser.add_argument(
        "source",
        nargs="?",
        default="-",
        help="JSON or JSONL file of {task_run_id, task_type, input} records (default: stdin)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="always exit 0; only report the verdicts"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON result per line instead of text"
    )
    parser.add_argument(
        "--strict-task-types",
        action="store_true",
        help="fail task types the seed does not list (default: they require nothing)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        text = sys.stdin.read() if args.source == "-" else Path(args.source).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"pre_agent_gate.py: cannot read {args.source}: {error}", file=sys.stderr)
        return 2
    gate = PreAgentGate(strict_task_types=args.strict_task_types)
    results = [_check(gate, item) for item in parse_records(text)]
    for position, result in enumerate(results, start=1):
        print(json.dumps(result.to_dict()) if args.json else _describe(result, position))
    failed = sum(not result.passed for result in results)
    print(
        f"{len(results) - failed} of {len(results)} record(s) pass, {failed} fail",
        file=sys.stderr if args.json else sys.stdout,
    )
    return 1 if failed and not args.report_only else 0


if __name__ == "__main__":
    sys.exit(main())
