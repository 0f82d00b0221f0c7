"""No personal data from the raw logs reaches what BI tools and alert channels read.

The story demo (2 weeks) plus a file of records that carry personal text in
the fields a rejection used to quote (a status that is an email, a start time
that is a customer's name, a malformed line holding a request, a conflicting
duplicate, ...) is built with the shared harness. The personal strings are
collected from the raw files themselves: users' emails, customers' names, the
delivered user and customer ids, every request text, the names, emails and
notes inside `input`, and the lines of the personal file. None may appear, in
any case, in any column of any relation of schema `marts`, in the Parquet
export, in the alert payloads scripts/deliver_alerts.py would send, or in what
scripts/report_segments.py prints. The pseudonyms are recomputed here with
hashlib, and a second build with `show_customer_names: true` shows customers'
names while users stay pseudonymous (docs/privacy.md).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import marts_snapshot
import pandas as pd
import pytest
import reference
from conftest import PROJECT_DIR, TEST_ID_SALT, BuildResult, generate_demo
from test_configuration_errors import compile_model
from time_checks import load_script

deliver_alerts = load_script("deliver_alerts")

PERSONAL_FILE = "task_runs_zz_personal.jsonl"  # sorts after the demo's files: delivered later
PSEUDONYM = re.compile(r"(cust|user)_[0-9a-f]{12}")


def hashed(prefix: str, delivered_id: str) -> str:
    """The pseudonym docs/privacy.md defines, computed without the project's code."""
    digest = hashlib.sha256(f"{TEST_ID_SALT}|{prefix}|{delivered_id}".encode()).hexdigest()
    return f"{prefix}_{digest[:12]}"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _personal_lines(raw: Path) -> list[str]:
    """Records that are rejected for a field holding personal text, and one that supersedes
    a demo record with a request naming a person."""
    email = _csv_rows(raw / "users.csv")[0]["email"]
    name = _csv_rows(raw / "customers.csv")[0]["customer_name"]
    request = f"Write to {email} about the renewal of {name}"
    valid = {
        "task_type": "account_summary",
        "started_at": "2026-09-08T10:00:00Z",
        "status": "completed",
        "user_id": "u_0001",
        "customer_id": "cust_northwind",
        "request_text": request,
    }
    first_demo_record = json.loads(
        next(line for line in sorted(raw.glob("task_runs_2026-*.jsonl"))[0].open() if line.strip())
    )
    records: list[Any] = [
        {**valid, "task_run_id": "pii-status", "status": email},
        {**valid, "task_run_id": "pii-started", "started_at": name},
        {**valid, "task_run_id": "pii-finished", "finished_at": f"when {email} answers"},
        {**valid, "task_run_id": "pii-input", "input": f"call {email}"},
        {**valid, "task_run_id": "pii-attributes", "attributes": [name, email]},
        {**valid, "task_run_id": "pii-type", "user_id": {"email": email}},
        {**valid, "task_run_id": "pii-missing", "task_type": None},
        {**first_demo_record, "request_text": f"Reply to {email} first"},
    ]
    lines = [json.dumps(record) for record in records]
    lines.append('{"task_run_id": "pii-broken", "request_text": "' + request + '"')
    lines.append(json.dumps([name, email]))
    return lines


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = generate_demo(
        tmp_path_factory.mktemp("privacy_raw"), "story", weeks=2, tasks_per_week=300, seed=7
    )
    (folder / PERSONAL_FILE).write_text("\n".join(_personal_lines(folder)) + "\n")
    return folder


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def personal_strings(raw: Path) -> dict[str, set[str]]:
    """Every piece of personal text in the raw folder, by kind, read from the files."""
    users = _csv_rows(raw / "users.csv")
    customers = _csv_rows(raw / "customers.csv")
    found: dict[str, set[str]] = {
        "email": {row["email"] for row in users},
        "customer name": {row["customer_name"] for row in customers},
        "delivered id": {row["user_id"] for row in users}
        | {row["customer_id"] for row in customers},
        "request text": set(),
        "input text": set(),
        "raw line": set(),
    }
    for path in sorted(raw.glob("task_runs*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if path.name == PERSONAL_FILE:
                found["raw line"].add(line)
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            for field in ("user_id", "customer_id"):
                if isinstance(record.get(field), str):
                    found["delivered id"].add(record[field])
            if isinstance(record.get("request_text"), str):
                found["request text"].add(record["request_text"])
            # Names, emails, company names and notes; not codes like "growing".
            found["input text"] |= {
                text for text in _strings(record.get("input")) if " " in text or "@" in text
            }
    return {kind: {text for text in texts if text.strip()} for kind, texts in found.items()}


def leaks(
    texts: dict[str, Iterable[str]], personal: dict[str, set[str]], allowed: set[str] = frozenset()
) -> list[str]:
    """(where, kind, text) of every personal string found, ignoring case, in `texts`
    (place -> the strings found there)."""
    problems = []
    for where, values in texts.items():
        haystack = "\n".join(str(value) for value in values).lower()
        for kind, needles in personal.items():
            for needle in needles - allowed:
                if needle.lower() in haystack:
                    problems.append(f"{where}: {kind} {needle[:80]!r}")
    return problems


def describe_leaks(problems: list[str]) -> str:
    """How many leaks per place and kind, then the first examples."""
    counts = Counter(problem.split(" '")[0].split(' "')[0] for problem in problems)
    summary = "\n".join(f"{count:5d}  {where}" for where, count in counts.most_common())
    return f"{len(problems)} leak(s):\n{summary}\nfor example:\n" + "\n".join(problems[:20])


def _relation_texts(connection: duckdb.DuckDBPyConnection, relation: str) -> dict[str, set]:
    frame = connection.execute(f"select * from {relation}").df()
    return {f"{relation}.{column}": set(frame[column].dropna()) for column in frame.columns}


def mart_texts(build: BuildResult) -> dict[str, set]:
    """Every value of every column of every relation in schema marts."""
    texts: dict[str, set] = {}
    with duckdb.connect(str(build.db_path), read_only=True) as connection:
        relations = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        assert len(relations) >= 10, relations
        for (name,) in relations:
            texts |= _relation_texts(connection, f"marts.{name}")
    return texts


def parquet_texts(build: BuildResult) -> dict[str, set]:
    # The snapshot BI tools read now (docs/reliability.md).
    folder = marts_snapshot.current_snapshot(build.db_path.parent / "marts_parquet").folder
    texts: dict[str, set] = {}
    with duckdb.connect() as connection:
        for path in sorted(folder.glob("*.parquet")):
            texts |= _relation_texts(connection, f"read_parquet('{path}')")
    return texts


def run_script(name: str, *args: str) -> str:
    """stdout and stderr of scripts/<name>.py, which must succeed."""
    completed = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    return output


def alert_payload_texts(build: BuildResult) -> dict[str, list[str]]:
    """What every destination of scripts/deliver_alerts.py would be sent for every alert,
    and what its dry run prints."""
    with duckdb.connect(str(build.db_path), read_only=True) as connection:
        events = deliver_alerts.pending_events(deliver_alerts.read_alerts(connection), {})
    assert events, "the story demo opens alerts"
    dry_run = run_script(
        "deliver_alerts",
        *("--db", str(build.db_path), "--dry-run", "--json-webhook", "http://127.0.0.1:9/"),
    )
    return {
        "json webhook": [json.dumps(deliver_alerts.json_payload(event)) for event in events],
        "slack webhook": [json.dumps(deliver_alerts.slack_payload(event)) for event in events],
        "stdout": [deliver_alerts.format_text(event) for event in events],
        "deliver_alerts.py --dry-run": [dry_run],
    }


def report_text(build: BuildResult) -> dict[str, list[str]]:
    output = run_script(
        "report_segments",
        *("--db", str(build.db_path)),
        *("--run-results", str(build.db_path.parent / "target" / "run_results.json")),
    )
    assert "customer = cust_" in output, output
    return {"report_segments.py": [output]}


@pytest.fixture(scope="module")
def build(dbt_build, raw) -> BuildResult:
    result = dbt_build(raw)
    assert not result.unexpected_failures(), result.describe()
    return result


@pytest.fixture(scope="module")
def named_build(dbt_build, raw) -> BuildResult:
    result = dbt_build(raw, {"show_customer_names": True})
    assert not result.unexpected_failures(), result.describe()
    return result


@pytest.fixture(scope="module")
def personal(raw) -> dict[str, set[str]]:
    found = personal_strings(raw)
    assert all(found.values()), {kind: len(texts) for kind, texts in found.items()}
    return found


def test_the_fixture_carries_personal_text_into_rejections(build):
    """The personal records are there and rejected, each for the field holding the text."""
    rejected = build.table("marts.rejected_task_runs")
    personal_rows = rejected[rejected["source_file"].str.endswith(PERSONAL_FILE)]
    reasons = dict(
        zip(personal_rows["record_number"], personal_rows["rejection_reason"], strict=True)
    )
    assert reasons == {
        1: "unknown_status",
        2: "unparseable_timestamp",
        3: "unparseable_timestamp",
        4: "input_not_an_object",
        5: "attributes_not_an_object",
        6: "invalid_type",
        7: "missing_required_field",
        # Line 8 supersedes a demo record and is accepted.
        9: "malformed_json",
        10: "record_not_an_object",
    }
    conflicting = rejected[rejected["rejection_reason"] == "conflicting_duplicate"]
    assert list(conflicting["rejection_detail"].str.rsplit("/", n=1).str[-1]) == [
        f"{PERSONAL_FILE}:8"
    ]
    assert list(conflicting["rejection_detail"].str[:8]) == ["kept at "]


def test_no_personal_text_in_any_mart_column(build, personal):
    problems = leaks(mart_texts(build), personal)
    assert not problems, describe_leaks(problems)


def test_no_personal_text_in_the_parquet_export(build, personal):
    texts = parquet_texts(build)
    exported = {where.split("'")[1].rsplit("/", 1)[-1] for where in texts}
    with duckdb.connect(str(build.db_path), read_only=True) as connection:
        marts = {
            f"{name}.parquet"
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    # Exactly the marts; the re-identification lookup is not exported.
    assert exported == marts
    problems = leaks(texts, personal)
    assert not problems, describe_leaks(problems)


def test_no_personal_text_in_alert_payloads_or_the_report(build, personal):
    texts = alert_payload_texts(build) | report_text(build)
    problems = leaks(texts, personal)
    assert not problems, describe_leaks(problems)
    # The failing customer is named, by its pseudonym.
    assert any(hashed("cust", "cust_northwind") in text for text in texts["json webhook"])


def _raw_tasks(build: BuildResult) -> pd.DataFrame:
    """Each task's delivered user and customer id (reference.py without pseudonyms)."""
    _, _, tasks = reference.build_reference(build.raw_path, PROJECT_DIR, now=build.started_at)
    return tasks.set_index("task_id")


def test_ids_are_the_keyed_hashes_of_the_delivered_ids(build):
    raw_tasks = _raw_tasks(build)
    fct = build.table("marts.fct_task_runs").set_index("task_id")
    assert set(fct.index) == set(raw_tasks.index)
    for column, prefix in (("customer_id", "cust"), ("user_id", "user")):
        delivered = raw_tasks[column]
        expected = delivered.map(
            lambda value, p=prefix: None if value is None else hashed(p, value)
        )
        actual = fct.loc[raw_tasks.index, column]
        mismatched = [
            (task_id, actual[task_id], expected[task_id])
            for task_id in raw_tasks.index
            if not (pd.isna(actual[task_id]) and expected[task_id] is None)
            and actual[task_id] != expected[task_id]
        ]
        assert not mismatched, mismatched[:10]
    assert fct["customer_name"].isna().all()
    # Every segment of the customer and user dimensions is a pseudonym.
    segments = build.table("marts.segment_completion")
    for dimension, column, prefix in (
        ("customer", "customer_id", "cust"),
        ("user", "user_id", "user"),
    ):
        values = set(segments.loc[segments["dimension"] == dimension, "segment_value"])
        counted = raw_tasks[raw_tasks["is_counted"]][column]
        expected = {hashed(prefix, value) for value in counted.dropna()}
        assert values - {"(missing)"} == expected


def test_the_lookup_maps_pseudonyms_back_and_is_not_a_mart(build):
    lookup = build.table("restricted.pseudonym_lookup")
    names = {
        row["customer_id"]: row["customer_name"]
        for row in _csv_rows(build.raw_path / "customers.csv")
    }
    prefixes = {"customer": "cust", "user": "user"}
    for row in lookup.to_dict("records"):
        assert row["pseudonym"] == hashed(prefixes[row["id_kind"]], row["delivered_id"]), row
        expected_name = names.get(row["delivered_id"]) if row["id_kind"] == "customer" else None
        assert (None if pd.isna(row["customer_name"]) else row["customer_name"]) == expected_name
    raw_tasks = _raw_tasks(build)
    assert set(lookup.loc[lookup["id_kind"] == "user", "delivered_id"]) == set(
        raw_tasks["user_id"].dropna()
    )
    marts = build.query(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    )
    assert "pseudonym_lookup" not in set(marts["table_name"])


def test_opt_in_shows_customer_names_and_keeps_users_hashed(named_build, personal):
    raw_tasks = _raw_tasks(named_build)
    names = {
        row["customer_id"]: row["customer_name"]
        for row in _csv_rows(named_build.raw_path / "customers.csv")
    }
    segments = named_build.table("marts.segment_completion")
    counted = raw_tasks[raw_tasks["is_counted"]]
    customers = set(segments.loc[segments["dimension"] == "customer", "segment_value"])
    assert customers - {"(missing)"} == {
        names.get(value) or hashed("cust", value) for value in counted["customer_id"].dropna()
    }
    assert "Northwind Logistics" in customers
    users = set(segments.loc[segments["dimension"] == "user", "segment_value"]) - {"(missing)"}
    assert users == {hashed("user", value) for value in counted["user_id"].dropna()}
    fct = named_build.table("marts.fct_task_runs").set_index("task_id")
    assert all(PSEUDONYM.fullmatch(value) for value in fct["customer_id"].dropna())
    expected_names = raw_tasks["customer_id"].map(names)
    assert (fct.loc[raw_tasks.index, "customer_name"].fillna("") == expected_names.fillna("")).all()
    # Names are what the opt-in shows; nothing else personal comes with them.
    shown = mart_texts(named_build) | alert_payload_texts(named_build)
    problems = leaks(shown, personal, allowed=personal["customer name"])
    assert not problems, describe_leaks(problems)


def test_a_build_without_a_salt_fails_saying_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("AGENT_SEGMENTS_ID_SALT")
    completed = compile_model(tmp_path, {}, "int_tasks_joined_to_customers_and_users")
    output = " ".join((completed.stdout + completed.stderr).split())
    assert completed.returncode != 0, output[-3000:]
    assert "set the environment variable AGENT_SEGMENTS_ID_SALT" in output, output[-3000:]
