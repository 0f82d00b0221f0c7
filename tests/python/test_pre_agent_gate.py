"""scripts/pre_agent_gate.py: the required-input-fields gate in front of the agent.

fixtures/ge_gate/expected.json holds hand-written answers for
fixtures/ge_gate/records.jsonl (absent, null, "", whitespace, empty array and
object are missing; 0, false, "0" are present). The gate is also checked
against reference.py's own missing-value rule on every task of the story demo.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parents[1]
FIXTURES = TESTS_DIR / "fixtures"
GATE_RECORDS = FIXTURES / "ge_gate" / "records.jsonl"
GATE_EXPECTED = FIXTURES / "ge_gate" / "expected.json"

if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

import reference  # noqa: E402  (after the sys.path line above)


def _load_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, PROJECT_DIR / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


gate = _load_script("pre_agent_gate")


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _expected() -> dict[str, dict[str, Any]]:
    expected = json.loads(GATE_EXPECTED.read_text(encoding="utf-8"))
    return {key: value for key, value in expected.items() if not key.startswith("_")}


def test_gate_flags_exactly_the_hand_checked_records():
    records = _records(GATE_RECORDS)
    results = gate.check_batch(records)

    actual = {
        result.record_id: {"passed": result.passed, "missing_fields": result.missing_fields}
        for result in results
    }
    assert actual == _expected()


def test_check_record_api():
    complete = {
        "ticket_subject": "Sync failing",
        "product": "Core CRM",
        "severity": "high",
        "customer_plan": "pro",
    }
    result = gate.check_record("support_triage", complete)
    assert result == gate.GateResult(True, [], "support_triage")

    result = gate.check_record("support_triage", {**complete, "severity": " \t", "product": None})
    assert result.passed is False
    assert result.missing_fields == ["product", "severity"]

    assert gate.check_record("account_summary", None).missing_fields == [
        "company_name",
        "industry",
        "annual_revenue",
        "primary_contact",
        "renewal_date",
    ]
    # A float NaN (pandas' null) is missing; 0 and False are values.
    values = {"company_name": "Acme", "industry": float("nan"), "annual_revenue": 0}
    values |= {"primary_contact": False, "renewal_date": "2027-01-01"}
    assert gate.check_record("account_summary", values).missing_fields == ["industry"]
    # Task types the seed does not list require nothing, unless the gate is strict.
    assert gate.check_record("research", {}).passed is True
    strict = gate.PreAgentGate(strict_task_types=True).check_record("research", {})
    assert strict.passed is False
    assert "not in seeds/required_input_fields.csv" in strict.problem


def test_gate_flags_the_records_validate_raw_warns_about():
    """The three incomplete CRM records of fixtures/ge_incomplete_crm, and only those."""
    records = []
    for path in sorted((FIXTURES / "ge_incomplete_crm").glob("task_runs*.jsonl")):
        records += _records(path)
    failed = {
        result.record_id: result.missing_fields
        for result in gate.check_batch(records)
        if not result.passed
    }
    assert failed == {
        "run_07_004": ["ticket_subject"],
        "run_07_006": ["industry"],
        "run_14_005": ["contact_email"],
    }


def test_gate_agrees_with_the_reference_on_every_story_task(story_raw):
    raw = reference.load_raw(story_raw)
    statuses = pd.read_csv(PROJECT_DIR / "seeds" / "task_status_outcomes.csv")
    accepted, _ = reference.validate(raw, statuses)
    required = pd.read_csv(PROJECT_DIR / "seeds" / "required_input_fields.csv")
    tasks = reference.tasks(accepted, required, None, None)
    runs = {run["task_run_id"]: run for run in accepted.to_dict("records")}

    disagreements = []
    for task in tasks.to_dict("records"):
        run = runs[task["task_run_id"]]
        result = gate.check_record(run["task_type"], run["input"])
        if len(result.missing_fields) != task["missing_required_field_count"]:
            disagreements.append((task["task_run_id"], result.missing_fields))
        assert result.passed == (task["missing_required_field_count"] == 0)
    assert disagreements == []
    assert (tasks["missing_required_field_count"] > 0).sum() > 100  # the demo has incomplete ones


def test_cli_prints_one_line_per_record_and_fails(capsys):
    exit_code = gate.main([str(GATE_RECORDS)])

    lines = capsys.readouterr().out.splitlines()
    assert exit_code == 1
    assert lines[0] == "PASS g01 account_summary"
    assert lines[1] == "FAIL g02 account_summary missing: industry"
    assert "FAIL g18 - (no task_type)" in lines
    assert lines[-1] == "8 of 22 record(s) pass, 14 fail"


def test_cli_report_only_json_and_stdin(monkeypatch, capsys):
    payload = json.dumps(
        [
            {"task_run_id": "a", "task_type": "support_triage", "input": {}},
            {"task_run_id": "b", "task_type": "research", "input": {}},
        ]
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(payload))
    exit_code = gate.main(["--json", "--report-only"])

    captured = capsys.readouterr()
    assert exit_code == 0
    results = [json.loads(line) for line in captured.out.splitlines()]
    assert [result["record_id"] for result in results] == ["a", "b"]
    assert results[0]["passed"] is False
    assert results[0]["missing_fields"] == [
        "ticket_subject",
        "product",
        "severity",
        "customer_plan",
    ]
    assert results[1]["passed"] is True
    assert captured.err.strip() == "1 of 2 record(s) pass, 1 fail"


def test_cli_jsonl_with_a_broken_line_and_unreadable_file(tmp_path, capsys):
    source = tmp_path / "records.jsonl"
    source.write_text(
        '{"task_run_id": "ok", "task_type": "research", "input": {}}\n{"task_run_id": \n'
    )
    assert gate.main([str(source)]) == 1
    assert "FAIL line 2 - (not valid JSON)" in capsys.readouterr().out

    assert gate.main([str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.startswith("pre_agent_gate.py: cannot read")


def test_gate_is_fast_enough_to_call_per_request():
    """A loose bound (CI machines vary): the benchmark script measures the real figures."""
    records = _records(GATE_RECORDS) * 500
    started = time.perf_counter()
    gate.check_batch(records)
    per_record_us = (time.perf_counter() - started) / len(records) * 1e6
    assert per_record_us < 200, f"{per_record_us:.1f} us per record"


@pytest.mark.parametrize("script", ["pre_agent_gate", "benchmark_pre_agent_gate"])
def test_scripts_have_help(script, capsys):
    module = gate if script == "pre_agent_gate" else _load_script(script)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    assert "pre-agent gate" in capsys.readouterr().out.lower()
