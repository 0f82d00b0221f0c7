"""scripts/deliver_alerts.py against a local HTTP server that records what it receives.

Real marts: the story demo (2 weeks, ~800 tasks: cust_northwind, shown by its
pseudonym, and tasks missing 3+ required fields alert), then healthy data built on the same
warehouse, which resolves both alerts. Between the two builds the alerts are
delivered to stdout on the live warehouse, so the second snapshot also shows
that a dbt build leaves alerting.alert_deliveries alone. Each test works on its
own copy of a snapshot.
"""

from __future__ import annotations

import http.server
import itertools
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import PROJECT_DIR, STORY_FAILING_CUSTOMER, BuildResult, generate_demo
from time_checks import build_into, check_built, load_script, snapshot

deliver_alerts = load_script("deliver_alerts")

SCRIPT = PROJECT_DIR / "scripts" / "deliver_alerts.py"
SELECT = ["+segment_alerts", "+segment_slices"]
FAST_RETRIES = ["--retry-delay", "0.05", "--max-attempts", "4"]


@dataclass(frozen=True)
class Stages:
    opened: BuildResult
    resolved: BuildResult
    alert_count: int


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> Stages:
    root = tmp_path_factory.mktemp("deliver_alerts")
    raw, work = root / "raw", root / "work"
    generate_demo(raw, "story", weeks=2, tasks_per_week=400, seed=7)
    build = build_into(work, raw, select=SELECT)
    check_built(build, "story build")
    opened = snapshot(build, root / "opened.duckdb")
    # Deliver to stdout on the live warehouse, then the agent recovers.
    assert deliver_alerts.main(["--db", str(build.db_path), "--print"]) == 0
    generate_demo(raw, "healthy", weeks=2, tasks_per_week=400, seed=11)
    build = build_into(work, raw, select=SELECT)
    check_built(build, "healthy build")
    resolved = snapshot(build, root / "resolved.duckdb")
    alert_count = len(opened.table("marts.segment_alerts"))
    return Stages(opened, resolved, alert_count)


@pytest.fixture(autouse=True)
def no_webhook_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(deliver_alerts.SLACK_ENV, raising=False)
    monkeypatch.delenv(deliver_alerts.JSON_ENV, raising=False)


# ---------------------------------------------------------------------------
# A webhook that records requests and can be told to fail


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class RecordingServer:
    received: list[Received] = field(default_factory=list)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, status: int = 500, headers: dict | None = None) -> None:
        with self.lock:
            self.failures += [(status, headers or {})] * count

    def start(self) -> None:
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with recorder.lock:
                    recorder.received.append(
                        Received(self.path, dict(self.headers), json.loads(body), time.monotonic())
                    )
                    status, headers = recorder.failures.pop(0) if recorder.failures else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                reply = b"ok" if status == 200 else b"server says no"
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = "/hooks/T000/B000/secret-token") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def bodies(self) -> list[Any]:
        return [request.body for request in self.received]


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    recorder = RecordingServer()
    recorder.start()
    yield recorder
    recorder.stop()


def _copy(build: BuildResult, tmp_path: Path) -> Path:
    destination = tmp_path / "warehouse.duckdb"
    shutil.copy2(build.db_path, destination)
    return destination


def deliver(db: Path, *args: str) -> int:
    return deliver_alerts.main(["--db", str(db), *args])


def _query(db: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql)
        columns = [description[0] for description in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _deliveries(db: Path) -> list[dict]:
    return _query(
        db,
        "select * from alerting.alert_deliveries order by destination, alert_id",
    )


def _percent(rate: float) -> str:
    return f"{100 * rate:.1f}%"


# ---------------------------------------------------------------------------
# What is sent


def test_json_events_carry_every_figure(stages, server, tmp_path):
    db = _copy(stages.opened, tmp_path)
    assert deliver(db, "--json-webhook", server.url()) == 0
    alerts = {
        row["alert_id"]: row
        for row in _query(
            db,
            """
            select alerts.*, slices.example_failed_task_ids
            from marts.segment_alerts as alerts
            left join marts.segment_slices as slices using (slice_key)
            """,
        )
    }
    assert {f"customer={STORY_FAILING_CUSTOMER}", "missing_required_fields=3+"} <= {
        alert["slice_key"] for alert in alerts.values()
    }
    bodies = server.bodies()
    assert sorted(body["alert_id"] for body in bodies) == sorted(alerts)
    assert [body["gap_pp"] for body in bodies] == sorted(
        (body["gap_pp"] for body in bodies), reverse=True
    )
    for body in bodies:
        alert = alerts[body["alert_id"]]
        assert body["event"] == "opened"
        assert body["alert_status"] == alert["alert_status"] == "new"
        assert body["slice_key"] == alert["slice_key"]
        for column in (
            "completion_rate",
            "completion_rate_ci_low",
            "completion_rate_ci_high",
            "overall_completion_rate",
            "gap_pp",
            "failure_share",
            "attributable_share",
        ):
            assert body[column] == pytest.approx(alert[column]), column
        assert body["task_count"] == alert["task_count"]
        assert body["failed_count"] == alert["failed_count"]
        assert body["example_task_ids"] == alert["example_failed_task_ids"].split(", ")
        assert 1 <= len(body["example_task_ids"]) <= 5
        since = alert["warned_since_at"] or alert["first_seen_at"]
        assert body["since_at"] == since.isoformat(timespec="seconds") + "Z"
        assert body["since_source"] == (
            "early_warning" if alert["warned_since_at"] else "first_seen"
        )
        text = body["text"]
        for part in (
            _percent(alert["completion_rate"]),
            _percent(alert["overall_completion_rate"]),
            _percent(alert["completion_rate_ci_low"]),
            _percent(alert["completion_rate_ci_high"]),
            f"{alert['gap_pp']:.1f} points below",
            f"{alert['task_count']:,} tasks",
            f"{_percent(alert['failure_share'])} of all failures",
            f"since {since:%Y-%m-%d %H:%M} UTC",
            *body["example_task_ids"],
        ):
            assert part in text, (part, text)
    segments = {body["slice_key"]: body["segment"] for body in bodies}
    assert segments[f"customer={STORY_FAILING_CUSTOMER}"] == f"customer = {STORY_FAILING_CUSTOMER}"
    assert segments["missing_required_fields=3+"] == "missing required fields = 3+"
    # The early warning is the "since when" where it fired.
    assert any(body["since_source"] == "early_warning" for body in bodies)
    assert all(request.headers["Content-Type"] == "application/json" for request in server.received)


def test_slack_messages_have_the_incoming_webhook_shape(stages, server, tmp_path):
    db = _copy(stages.opened, tmp_path)
    assert deliver(db, "--slack-webhook", server.url()) == 0
    assert len(server.received) == stages.alert_count
    for body in server.bodies():
        assert set(body) == {"text", "blocks"}
        assert isinstance(body["text"], str) and body["text"]
        types = [block["type"] for block in body["blocks"]]
        assert types[0] == "header" and types[-1] == "context" and "section" in types
        header = body["blocks"][0]["text"]
        assert header["type"] == "plain_text" and len(header["text"]) <= 150
        for block in body["blocks"]:
            if block["type"] == "section" and "text" in block:
                assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= 3000
            for item in block.get("fields", []):
                assert item["type"] == "mrkdwn" and len(item["text"]) <= 2000
        rendered = json.dumps(body["blocks"])
        for words in ("completes", "overall", "points", "Tasks", "failures", "Since"):
            assert words in rendered, words
        assert "Failed tasks to open" in rendered
    headers = " | ".join(body["blocks"][0]["text"]["text"] for body in server.bodies())
    assert f"customer = {STORY_FAILING_CUSTOMER}" in headers
    assert "missing required fields = 3+" in headers


# ---------------------------------------------------------------------------
# Exactly once per state change


def _alert(alert_id: str, status: str, **figures: Any) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "slice_key": f"customer={alert_id}",
        "slice_dimensions": "customer",
        "slice_values": alert_id,
        "alert_status": status,
        "slice_level": 1,
        "task_count": 40,
        "failed_count": 20,
        "completion_rate": 0.5,
        "completion_rate_ci_low": 0.37,
        "completion_rate_ci_high": 0.63,
        "overall_completion_rate": 0.94,
        "gap_pp": 44.0,
        "peak_gap_pp": 44.0,
        "failure_share": 0.3,
        "attributable_share": 0.28,
        "q_value": 0.001,
        "warned_since_at": datetime(2026, 1, 31, 13, 36),
        "first_seen_at": datetime(2026, 2, 1, 6, 0),
        "last_seen_at": datetime(2026, 3, 22, 6, 0),
        "resolved_at": None,
        "status_changed_at": datetime(2026, 3, 22, 6, 0),
        "example_failed_task_ids": "t1, t2",
        **figures,
    }


@pytest.mark.parametrize(
    ("status", "last_delivered", "expected"),
    [
        ("new", None, "opened"),
        ("ongoing", None, "opened"),  # a send that failed while it was new
        ("ongoing", "open", None),
        ("reopened", "resolved", "opened"),
        ("reopened", "open", None),  # resolved and reopened between two deliveries
        ("resolved", "open", "resolved"),
        ("resolved", "resolved", None),
        ("resolved", None, None),  # never announced: nothing to take back
    ],
)
def test_which_events_are_due(status, last_delivered, expected):
    state = {"a": last_delivered} if last_delivered else {}
    events = deliver_alerts.pending_events([_alert("a", status)], state)
    assert [event.event for event in events] == ([expected] if expected else [])


def test_a_reopened_alert_is_dated_from_its_reopening():
    """The early warning dates the first episode; a relapse is dated by the reopening build."""
    (event,) = deliver_alerts.pending_events([_alert("a", "reopened")], {"a": "resolved"})
    assert event.since_source == "reopened" and event.since_at == "2026-03-22T06:00:00Z"
    text = deliver_alerts.format_text(event)
    assert "since 2026-03-22 06:00 UTC" in text and "first warned 2026-01-31 13:36 UTC" in text
    (fresh,) = deliver_alerts.pending_events([_alert("b", "new")], {})
    assert fresh.since_source == "early_warning" and fresh.since_at == "2026-01-31T13:36:00Z"


def test_a_second_run_sends_nothing_new(stages, server, tmp_path):
    db = _copy(stages.opened, tmp_path)
    assert deliver(db, "--json-webhook", server.url(), "--slack-webhook", server.url("/s")) == 0
    assert len(server.received) == 2 * stages.alert_count
    assert deliver(db, "--json-webhook", server.url(), "--slack-webhook", server.url("/s")) == 0
    assert len(server.received) == 2 * stages.alert_count
    deliveries = _deliveries(db)
    assert len(deliveries) == 2 * stages.alert_count
    assert {row["destination"] for row in deliveries} == {"json", "slack"}
    assert {row["last_delivered_state"] for row in deliveries} == {"open"}


def test_dry_run_sends_and_records_nothing(stages, server, tmp_path, capsys):
    db = _copy(stages.opened, tmp_path)
    assert deliver(db, "--json-webhook", server.url(), "--dry-run") == 0
    assert server.received == []
    assert f"customer = {STORY_FAILING_CUSTOMER}" in capsys.readouterr().out
    tables = _query(db, "select table_name from information_schema.tables")
    assert "alert_deliveries" not in {row["table_name"] for row in tables}
    assert deliver(db, "--json-webhook", server.url()) == 0
    assert len(server.received) == stages.alert_count


def test_the_webhook_can_come_from_the_environment(stages, server, tmp_path, monkeypatch):
    db = _copy(stages.opened, tmp_path)
    monkeypatch.setenv(deliver_alerts.JSON_ENV, server.url())
    assert deliver(db) == 0
    assert len(server.received) == stages.alert_count


def test_resolved_events_after_recovery(stages, server, tmp_path):
    db = _copy(stages.opened, tmp_path)
    assert deliver(db, "--json-webhook", server.url()) == 0
    opened_ids = sorted(body["alert_id"] for body in server.bodies())
    # What the healthy build wrote into the marts (a build leaves schema alerting alone).
    with duckdb.connect(str(db)) as con:
        con.execute(f"attach '{stages.resolved.db_path}' as later (read_only)")
        for table in ("segment_alerts", "segment_slices"):
            con.execute(f"create or replace table marts.{table} as from later.marts.{table}")
    assert deliver(db, "--json-webhook", server.url()) == 0
    resolved = server.bodies()[stages.alert_count :]
    assert sorted(body["alert_id"] for body in resolved) == opened_ids
    for body in resolved:
        assert body["event"] == "resolved" and body["alert_status"] == "resolved"
        assert body["resolved_at"]
        assert "resolved" in body["text"] and body["segment"] in body["text"]
    assert {row["last_delivered_state"] for row in _deliveries(db)} == {"resolved"}
    assert deliver(db, "--json-webhook", server.url()) == 0
    assert len(server.received) == 2 * stages.alert_count


def test_a_real_build_keeps_the_delivery_state(stages, tmp_path, capsys):
    """The fixture delivered to stdout between the builds: only 'resolved' is left to say."""
    db = _copy(stages.resolved, tmp_path)
    before = _deliveries(db)
    assert len(before) == stages.alert_count
    assert {row["destination"] for row in before} == {"print"}
    assert deliver(db, "--print") == 0
    out = capsys.readouterr().out
    assert out.count("Segment alert resolved:") == stages.alert_count
    assert "Segment alert new" not in out
    assert {row["last_delivered_state"] for row in _deliveries(db)} == {"resolved"}


# ---------------------------------------------------------------------------
# Failures and retries


def test_a_failed_destination_exits_non_zero_and_is_delivered_next_run(stages, server, tmp_path):
    db = _copy(stages.opened, tmp_path)
    server.fail_next(100, status=500)
    command = [sys.executable, str(SCRIPT), "--db", str(db), "--json-webhook", server.url()]
    failed = subprocess.run(
        [*command, "--retry-delay", "0.01", "--max-attempts", "3"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert failed.returncode == 1
    error_lines = [line for line in failed.stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1, failed.stderr
    assert "json webhook" in error_lines[0] and "HTTP 500" in error_lines[0]
    assert "after 3 attempts" in error_lines[0]
    assert "secret-token" not in failed.stderr  # webhook paths are secrets
    assert len(server.received) == 3  # one event, three attempts, then it gave up
    assert _deliveries(db) == []
    server.failures.clear()
    assert subprocess.run(command, capture_output=True, check=False, timeout=60).returncode == 0
    delivered = server.bodies()[3:]
    assert len(delivered) == stages.alert_count
    assert {body["event"] for body in delivered} == {"opened"}
    assert len(_deliveries(db)) == stages.alert_count


def test_server_errors_are_retried_with_exponential_backoff(stages, server, tmp_path):
    db = _copy(stages.opened, tmp_path)
    server.fail_next(3, status=503)
    assert deliver(db, "--json-webhook", server.url(), *FAST_RETRIES) == 0
    # The first event took four attempts, the others one each.
    assert len(server.received) == 3 + stages.alert_count
    first = server.received[:4]
    assert len({json.dumps(request.body) for request in first}) == 1
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(first)]
    for gap, delay in zip(gaps, (0.05, 0.1, 0.2), strict=True):
        assert gap >= delay * 0.95, gaps
    assert len(_deliveries(db)) == stages.alert_count


def test_retry_after_is_honoured_on_429(stages, server, tmp_path):
    db = _copy(stages.opened, tmp_path)
    server.fail_next(1, status=429, headers={"Retry-After": "1"})
    assert deliver(db, "--json-webhook", server.url(), *FAST_RETRIES) == 0
    assert len(server.received) == 1 + stages.alert_count
    assert server.received[1].at - server.received[0].at >= 0.95


def test_a_client_error_is_not_retried(stages, server, tmp_path, capsys):
    db = _copy(stages.opened, tmp_path)
    server.fail_next(1, status=404)
    assert deliver(db, "--slack-webhook", server.url(), *FAST_RETRIES) == 1
    assert len(server.received) == 1
    assert "slack webhook" in capsys.readouterr().err


def test_connection_errors_are_retried_then_reported(stages, tmp_path, capsys):
    db = _copy(stages.opened, tmp_path)
    closed = RecordingServer()
    closed.start()
    url = closed.url()
    closed.stop()  # nothing listens there any more
    assert deliver(db, "--json-webhook", url, "--retry-delay", "0.01", "--max-attempts", "2") == 1
    err = capsys.readouterr().err
    assert "connection error" in err and "after 2 attempts" in err


def test_help_says_what_it_does():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for words in ("Slack", "JSON webhook", "--dry-run", "--max-attempts", "alert_deliveries"):
        assert words in result.stdout, words
