"""scripts/validate_raw.py: the Great Expectations checkpoint on raw deliveries.

The fixtures under fixtures/ge_* are small hand-made deliveries; the expected
verdicts, record ids and customers below were written from the fixture files,
not computed by the code under test. Most tests validate in-process without
Data Docs (docs_dir=None) to stay fast; one test builds Data Docs and opens
them in headless Chromium, one runs the CLI end to end.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parents[1]
FIXTURES = TESTS_DIR / "fixtures"
SCRIPT = PROJECT_DIR / "scripts" / "validate_raw.py"
PYTHON = PROJECT_DIR / ".venv" / "bin" / "python"
CHROMIUM = Path("/usr/bin/chromium")

if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

import reference  # noqa: E402  (after the sys.path line above)


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("validate_raw", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("validate_raw", module)
    spec.loader.exec_module(module)
    return module


validate_raw = _load_script()
contract = validate_raw.contract


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    stdout: str
    stderr: str
    result: dict[str, Any]
    docs_dir: Path


def _run_cli(raw_dir: Path, work_dir: Path) -> CliRun:
    """validate_raw.main() in-process (GE is imported once per test session)."""
    docs_dir, result_path = work_dir / "data_docs", work_dir / "raw_validation.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        exit_code = validate_raw.main(
            [str(raw_dir), "--docs-dir", str(docs_dir), "--result", str(result_path)]
        )
    result = json.loads(result_path.read_text(encoding="utf-8"))
    return CliRun(exit_code, stdout.getvalue(), stderr.getvalue(), result, docs_dir)


@pytest.fixture(scope="module")
def incomplete_crm_cli(tmp_path_factory) -> CliRun:
    return _run_cli(FIXTURES / "ge_incomplete_crm", tmp_path_factory.mktemp("incomplete_crm"))


@pytest.fixture(scope="module")
def unknown_status_cli(tmp_path_factory) -> CliRun:
    return _run_cli(FIXTURES / "ge_unknown_status", tmp_path_factory.mktemp("unknown_status"))


def _checks(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{finding['check']}:{finding.get('field')}": finding for finding in findings}


def _fixture_records(name: str) -> list[dict[str, Any]]:
    records = []
    for path in sorted((FIXTURES / name).glob("task_runs*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records


def _write_delivery(folder: Path, records: list[Any], name: str = "task_runs_a.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [item if isinstance(item, str) else json.dumps(item) for item in records]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(FIXTURES / "ge_incomplete_crm" / "customers.csv", folder / "customers.csv")
    return folder


def _many_good_records(count: int) -> list[dict[str, Any]]:
    """`count` complete, valid records: the fixture's complete ones with fresh ids."""
    incomplete = {"run_07_004", "run_07_006", "run_14_005"}
    complete = [
        r for r in _fixture_records("ge_incomplete_crm") if r["task_run_id"] not in incomplete
    ]
    return [
        {**complete[number % len(complete)], "task_run_id": f"run_{number:04d}"}
        for number in range(count)
    ]


# ---------------------------------------------------------------------------
# The deliveries the issue names


def test_missing_required_column_blocks_and_names_the_file():
    outcome = validate_raw.validate(FIXTURES / "ge_missing_column", docs_dir=None)

    assert not outcome.usable
    failures = _checks(outcome.blocking_failures)
    column_failure = failures["required_column_in_file:status"]
    assert column_failure["message"] == (
        "required column status is absent from task_runs_2026-09-14.jsonl"
    )
    assert column_failure["files"] == {"task_runs_2026-09-14.jsonl": 12}
    assert outcome.reason.startswith("required column status is absent")
    # Half the records lack a status: the record-level check fails too, nothing else does.
    assert set(failures) == {"required_column_in_file:status", "required_field_present:status"}


def test_unparseable_timestamps_block_with_the_values():
    outcome = validate_raw.validate(FIXTURES / "ge_unparseable_timestamps", docs_dir=None)

    assert not outcome.usable
    [failure] = outcome.blocking_failures
    assert failure["check"] == "timestamp_parses"
    assert failure["field"] == "started_at"
    assert failure["unexpected_count"] == 4
    assert failure["checked_count"] == 20
    assert sorted(failure["task_run_ids"]) == [
        "run_07_003",
        "run_07_008",
        "run_07_012",
        "run_07_017",
    ]
    assert (
        "started_at is not an ISO-8601 timestamp in 4 of 20 records (20.0%)" in failure["message"]
    )
    assert "'07/09/2026 08:03'" in failure["message"]
    assert "'yesterday'" in failure["message"]
    assert failure["dbt_rejection_reason"] == "unparseable_timestamp"


def test_unknown_status_blocks_and_names_the_statuses(unknown_status_cli):
    result = unknown_status_cli.result

    assert result["usable"] is False
    [failure] = result["blocking_failures"]
    assert failure["check"] == "status_in_vocabulary"
    assert sorted(failure["task_run_ids"]) == ["run_07_002", "run_07_010", "run_07_015"]
    assert failure["message"] == (
        "status (trimmed, lower-cased) is not in seeds/task_status_outcomes.csv in 3 of 20 "
        "records (15.0%): "
        "'finished' (2), 'ok' (1)"
    )


def test_incomplete_crm_records_pass_with_warnings_naming_them(incomplete_crm_cli):
    result = incomplete_crm_cli.result

    assert incomplete_crm_cli.exit_code == 0, incomplete_crm_cli.stderr
    assert result["usable"] is True
    assert result["blocking_failures"] == []
    warnings = {
        (w["task_type"], w["field"]): w
        for w in result["warnings"]
        if w["check"] == "required_input_field_present"
    }
    assert set(warnings) == {
        ("support_triage", "ticket_subject"),
        ("account_summary", "industry"),
        ("outreach_email", "contact_email"),
    }
    assert warnings["support_triage", "ticket_subject"]["task_run_ids"] == ["run_07_004"]
    assert warnings["support_triage", "ticket_subject"]["customers"] == {"cust_beacon": 1}
    assert warnings["account_summary", "industry"]["task_run_ids"] == ["run_07_006"]
    assert warnings["account_summary", "industry"]["customers"] == {"cust_acme": 1}
    assert warnings["outreach_email", "contact_email"]["task_run_ids"] == ["run_14_005"]
    assert warnings["outreach_email", "contact_email"]["customers"] == {"cust_cedar": 1}
    assert "cust_cedar (1)" in warnings["outreach_email", "contact_email"]["message"]
    assert len(result["warnings"]) == 3
    printed = [line for line in incomplete_crm_cli.stdout.splitlines() if line.startswith("WARN")]
    assert len(printed) == 3
    assert "0 blocking failure(s), 3 warning(s) -> usable" in incomplete_crm_cli.stdout

    suites = result["suites"]
    assert suites["raw_task_runs.contract"]["success"] is True
    assert suites["raw_task_runs.required_input_fields"]["success"] is False
    by_customer = {row["customer_id"]: row for row in result["completeness"]["by_customer"]}
    # 24 records, 8 per customer; one incomplete record each.
    for customer_id, tier, field in (
        ("cust_acme", "enterprise", "industry"),
        ("cust_beacon", "pro", "ticket_subject"),
        ("cust_cedar", "free", "contact_email"),
    ):
        row = by_customer[customer_id]
        assert row["customer_tier"] == tier
        assert (row["record_count"], row["incomplete_record_count"]) == (8, 1)
        assert row["completeness_rate"] == pytest.approx(7 / 8)
        assert row["missing_field_counts"] == {field: 1}
    by_tier = {row["customer_tier"]: row for row in result["completeness"]["by_tier"]}
    assert by_tier["enterprise"]["incomplete_record_count"] == 1


# ---------------------------------------------------------------------------
# Block / warn policy details


@pytest.mark.parametrize(
    ("malformed_lines", "usable"),
    [(1, True), (4, False)],
    ids=["1-of-201-warns", "4-of-204-blocks"],
)
def test_malformed_lines_block_only_above_the_tolerance(tmp_path, malformed_lines, usable):
    records: list[Any] = _many_good_records(200)
    records[17]["status"] = "finished"  # 1 in 200: a warning in both deliveries
    for number in range(malformed_lines):
        records.insert(50 * number + 7, '{"task_run_id": "broken", "status": ')
    outcome = validate_raw.validate(_write_delivery(tmp_path, records), docs_dir=None)

    assert outcome.usable is usable, outcome.reason
    assert outcome.result["malformed_line_count"] == malformed_lines
    findings = _checks(outcome.blocking_failures + outcome.warnings)
    finding = findings["record_is_json_object:None"]
    assert finding["blocking"] is not usable
    assert finding["unexpected_count"] == malformed_lines
    assert finding["records"][0] == "task_runs_a.jsonl:8"
    if usable:
        assert "within the 1.0% tolerance" in finding["message"]
    status = findings["status_in_vocabulary:status"]
    assert status["blocking"] is False
    assert status["task_run_ids"] == ["run_0017"]
    assert "dbt rejects these records as unknown_status" in status["message"]


def test_each_contract_check_blocks_and_names_its_records(tmp_path):
    """One delivery breaking five record-level rules, each in 3 of 60 records (5%)."""
    records = _many_good_records(60)
    for number in (3, 4, 5):
        records[number]["started_at"] = "2099-01-01T00:00:00Z"
    for number in (10, 11, 12):
        records[number]["attempt"] = "1"
    for number in (20, 21, 22):
        records[number]["input"] = ["not", "an", "object"]
    for number in (30, 31, 32):
        records[number]["task_type"] = "   "
    for number in (40, 41, 42):
        records[number]["task_run_id"] = records[number + 10]["task_run_id"]
    outcome = validate_raw.validate(_write_delivery(tmp_path, records), docs_dir=None)

    assert not outcome.usable
    failures = _checks(outcome.blocking_failures)
    expected = {
        "started_at_not_in_future:started_at": ["run_0003", "run_0004", "run_0005"],
        "field_kind:attempt": ["run_0010", "run_0011", "run_0012"],
        "object_field_is_object:input": ["run_0020", "run_0021", "run_0022"],
        "required_field_present:task_type": ["run_0030", "run_0031", "run_0032"],
        "task_run_id_unique:task_run_id": [
            "run_0050",
            "run_0050",
            "run_0051",
            "run_0051",
            "run_0052",
            "run_0052",
        ],
    }
    assert set(failures) == set(expected)
    for check, run_ids in expected.items():
        assert sorted(failures[check]["task_run_ids"]) == run_ids, check
    assert "'2099-01-01T00:00:00Z'" in failures["started_at_not_in_future:started_at"]["message"]
    assert "'string' (3)" in failures["field_kind:attempt"]["message"]


def test_unreadable_file_and_incomplete_customers_csv_block(tmp_path):
    folder = _write_delivery(tmp_path, _many_good_records(50))
    (folder / "task_runs_b.parquet").write_bytes(b"this is not parquet")
    (folder / "customers.csv").write_text("customer_id,customer_name\ncust_acme,Acme\n")
    outcome = validate_raw.validate(folder, docs_dir=None)

    assert not outcome.usable
    failures = _checks(outcome.blocking_failures)
    assert set(failures) == {"file_readable:None", "reference_file_columns:None"}
    unreadable = failures["file_readable:None"]
    assert unreadable["message"].startswith(
        "unreadable task_runs file(s): task_runs_b.parquet (not a readable Parquet file: "
    )
    summary = {row["file"]: row for row in outcome.result["files"]}
    assert summary["task_runs_b.parquet"]["readable"] is False
    assert failures["reference_file_columns:None"]["message"].startswith(
        "customers.csv lacks the column(s) tier"
    )


def test_parquet_delivery_gets_the_same_verdict(tmp_path):
    """Structs for input/attributes, as the Parquet contract allows."""
    records = _fixture_records("ge_incomplete_crm")
    tmp_path.mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "task_runs_2026-09.parquet")
    shutil.copy(FIXTURES / "ge_incomplete_crm" / "customers.csv", tmp_path / "customers.csv")
    outcome = validate_raw.validate(tmp_path, docs_dir=None)

    assert outcome.usable, outcome.reason
    named = sorted(
        run_id
        for warning in outcome.warnings
        if warning["check"] == "required_input_field_present"
        for run_id in warning["task_run_ids"]
    )
    assert named == ["run_07_004", "run_07_006", "run_14_005"]


def test_suites_are_generated_from_the_contract(monkeypatch, tmp_path):
    """A field added to the sources YAML becomes a check without touching validate_raw.py."""
    fields = contract.contract_fields()
    checked = Counter(
        (e.meta["check"], e.meta.get("field"))
        for e in validate_raw.contract_suite_expectations(0.01, contract.now_utc())
    )
    for spec in fields:
        kind_check = "object_field_is_object" if spec.kind == "object" else "field_kind"
        assert checked[kind_check, spec.name] == 1
        assert checked["required_column_in_file", spec.name] == int(spec.required)
        assert checked["required_field_present", spec.name] == int(spec.required)
    required_pairs = {
        (task_type, name)
        for task_type, names in contract.required_input_fields().items()
        for name in names
    }
    warned_pairs = {
        (e.meta["task_type"], e.meta["field"])
        for e in validate_raw.input_fields_suite_expectations()
        if e.meta["check"] == "required_input_field_present"
    }
    assert warned_pairs == required_pairs

    extended = (*fields, contract.ContractField("region", "text", True))
    monkeypatch.setattr(contract, "contract_fields", lambda: extended)
    outcome = validate_raw.validate(FIXTURES / "ge_incomplete_crm", docs_dir=None)
    assert not outcome.usable
    assert outcome.reason.startswith("required column region is absent from task_runs_2026-09-07")


def test_timestamp_rule_is_the_dbt_macro_rule():
    """GE's "parses" must mean what staging accepts: the macro's pattern, then DuckDB's cast."""
    macro = (PROJECT_DIR / "macros" / "parse_timestamp_utc.sql").read_text(encoding="utf-8")
    assert contract.ISO_8601_PATTERN in macro, "macros/parse_timestamp_utc.sql changed its pattern"
    for bound in contract.UTC_TIMESTAMP_RANGE:
        assert f"cast('{bound}' as timestamp)" in macro, "the macro's UTC range changed"
    assert "try_cast" in macro and "timestamptz" in macro
    parsed = contract.parse_timestamps_utc(
        [
            "2026-09-07T04:41:27Z",
            "2026-09-07 06:41:27+02:00",
            "2026-09-07",
            "epoch",
            "2026-13-01",
            # DuckDB alone would read these as the next midnight and as 1 BC.
            "2026-09-07T24:00:00Z",
            "0000-09-07T04:41:27Z",
            # Valid text whose UTC moment falls outside years 0001-9999.
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:30:00-01:00",
            "0001-01-01T00:30:00-01:00",
        ]
    )
    assert [moment and moment.isoformat() for moment in parsed] == [
        "2026-09-07T04:41:27",
        "2026-09-07T04:41:27",
        "2026-09-07T00:00:00",
        None,
        None,
        None,
        None,
        None,
        None,
        "0001-01-01T01:30:00",
    ]


# ---------------------------------------------------------------------------
# CLI, Data Docs, the demo


def test_cli_blocks_with_a_one_line_reason_and_writes_the_result(unknown_status_cli):
    assert unknown_status_cli.exit_code == 1
    assert unknown_status_cli.stderr.splitlines() == [
        "validate_raw.py: unusable raw delivery: status (trimmed, lower-cased) is not in "
        "seeds/task_status_outcomes.csv in 3 of 20 records (15.0%): 'finished' (2), 'ok' (1)"
    ]
    assert (
        "BLOCK status_in_vocabulary: status (trimmed, lower-cased) is not in"
        in unknown_status_cli.stdout
    )
    assert "1 blocking failure(s), 0 warning(s) -> UNUSABLE" in unknown_status_cli.stdout
    assert unknown_status_cli.result["blocking_failures"][0]["check"] == "status_in_vocabulary"
    # Data Docs are written for an unusable delivery too: they show what failed.
    assert (unknown_status_cli.docs_dir / "index.html").exists()


def test_cli_script_rejects_a_missing_folder_in_one_line(tmp_path):
    """The script as CI runs it (a subprocess; this path exits before importing GE)."""
    completed = subprocess.run(
        [str(PYTHON), str(SCRIPT), str(tmp_path / "nowhere"), "--result", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 1
    assert completed.stderr.splitlines() == [
        f"validate_raw.py: unusable raw delivery: raw folder {tmp_path / 'nowhere'} does not "
        "exist or is not a folder"
    ]
    assert json.loads((tmp_path / "r.json").read_text())["usable"] is False


@pytest.mark.parametrize("problem", ["empty", "not_task_runs"])
def test_cli_rejects_a_folder_without_task_runs(tmp_path, capsys, problem):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    if problem == "not_task_runs":
        (raw_dir / "customers.csv").write_text("customer_id,customer_name,tier\n")
        (raw_dir / "task_runs.csv").write_text("task_run_id\n")

    exit_code = validate_raw.main(
        [str(raw_dir), "--docs-dir", str(tmp_path / "docs"), "--result", str(tmp_path / "r.json")]
    )

    assert exit_code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"validate_raw.py: unusable raw delivery: raw folder {raw_dir} holds no "
        "task_runs*.jsonl or task_runs*.parquet file"
    ]


def test_data_docs_html_is_written(incomplete_crm_cli):
    index = incomplete_crm_cli.docs_dir / "index.html"
    assert index.exists()
    html = index.read_text(encoding="utf-8")
    assert "raw_task_runs.contract" in html
    assert "raw_task_runs.required_input_fields" in html
    assert len(list((incomplete_crm_cli.docs_dir / "validations").rglob("*.html"))) == 2
    assert incomplete_crm_cli.result["data_docs"] == index.resolve().as_uri()


def test_data_docs_open_in_headless_chromium(incomplete_crm_cli):
    if not CHROMIUM.exists():
        pytest.skip(
            "/usr/bin/chromium is absent: install it (apt-get install -y chromium) to check that "
            "Data Docs open in a headless browser"
        )
    completed = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            # Offline and fast: the pages' CDN stylesheets and scripts resolve nowhere.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=5000",
            "--dump-dom",
            (incomplete_crm_cli.docs_dir / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    dom = completed.stdout
    assert "<html" in dom.lower()
    assert "raw_task_runs.contract" in dom
    assert "raw_task_runs.required_input_fields" in dom


def test_story_demo_is_usable_and_its_completeness_matches_the_reference(story_raw):
    """The demo the README builds passes the blocking suite; the completeness per customer
    equals what reference.py's own missing-value rule counts on the accepted runs."""
    outcome = validate_raw.validate(story_raw, docs_dir=None)

    assert outcome.usable, outcome.reason
    raw = reference.load_raw(story_raw)
    statuses = pd.read_csv(PROJECT_DIR / "seeds" / "task_status_outcomes.csv")
    accepted, _ = reference.validate(raw, statuses)
    required = reference._required_lookup(
        pd.read_csv(PROJECT_DIR / "seeds" / "required_input_fields.csv")
    )
    expected: dict[str, list[int]] = {}
    for run in accepted.to_dict("records"):
        fields = required.get(run["task_type"], [])
        if not fields:
            continue
        counts = expected.setdefault(run["customer_id"], [0, 0])
        counts[0] += 1
        counts[1] += any(reference.is_missing_value(run["input"].get(name)) for name in fields)
    actual = {
        row["customer_id"]: [row["record_count"], row["incomplete_record_count"]]
        for row in outcome.result["completeness"]["by_customer"]
    }
    assert actual == expected
    worst = outcome.result["completeness"]["by_customer"][0]
    assert worst["customer_id"] == "cust_northwind"
