"""Deliver segment alerts that opened or resolved since the last delivery.

Reads marts.segment_alerts (and the example failed task ids of
marts.segment_slices) from the DuckDB warehouse and sends, per destination:

* an "opened" event for an alert that is new, ongoing or reopened and was not
  last delivered as open;
* a "resolved" event for a resolved alert that was last delivered as open.

Destinations: a Slack incoming webhook, a generic JSON webhook, or stdout.
What was delivered is kept in the same file, table alerting.alert_deliveries
(one row per alert and destination), written only after a successful send:
re-runs send nothing twice and a failed send is retried by the next run.
HTTP 429, 5xx and connection errors are retried with exponential backoff
(Retry-After is honoured); when a destination still fails, the command exits 1
with one line naming the destination and the status.
"""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from cli_support import OneLineParser, positive_int

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "data/agent_segments.duckdb"
SLACK_ENV = "AGENT_SEGMENTS_SLACK_WEBHOOK"
JSON_ENV = "AGENT_SEGMENTS_JSON_WEBHOOK"
STATE_TABLE = "alerting.alert_deliveries"
OPEN_STATUSES = ("new", "ongoing", "reopened")
OPEN, RESOLVED = "open", "resolved"
USER_AGENT = "agent_segments-deliver-alerts/0.1"
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

ALERTS_QUERY = """
select
    alerts.alert_id,
    alerts.slice_key,
    alerts.slice_dimensions,
    alerts.slice_values,
    alerts.alert_status,
    alerts.slice_level,
    alerts.task_count,
    alerts.failed_count,
    alerts.completion_rate,
    alerts.completion_rate_ci_low,
    alerts.completion_rate_ci_high,
    alerts.overall_completion_rate,
    alerts.gap_pp,
    alerts.peak_gap_pp,
    alerts.failure_share,
    alerts.attributable_share,
    alerts.q_value,
    alerts.warned_since_at,
    alerts.first_seen_at,
    alerts.last_seen_at,
    alerts.resolved_at,
    alerts.status_changed_at,
    slices.example_failed_task_ids
from marts.segment_alerts as alerts
left join marts.segment_slices as slices
    on alerts.slice_key = slices.slice_key
order by alerts.gap_pp desc, alerts.slice_key
"""


class DeliveryError(Exception):
    """A destination did not accept an event (after any retries)."""


@dataclass(frozen=True)
class AlertEvent:
    """One message to deliver: an alert that opened or resolved, with its latest figures."""

    event: str
    alert_id: str
    alert_status: str
    segment: str
    slice_key: str
    slice_dimensions: str
    slice_values: str
    slice_level: int
    task_count: int
    failed_count: int
    completion_rate: float
    completion_rate_ci_low: float
    completion_rate_ci_high: float
    overall_completion_rate: float
    gap_pp: float
    peak_gap_pp: float | None
    failure_share: float | None
    attributable_share: float | None
    q_value: float | None
    since_at: str | None
    since_source: str  # early_warning, first_seen or reopened
    warned_since_at: str | None
    first_seen_at: str | None
    last_seen_at: str | None
    resolved_at: str | None
    status_changed_at: str | None
    example_task_ids: list[str]

    @property
    def delivered_state(self) -> str:
        return OPEN if self.event == "opened" else RESOLVED


# ---------------------------------------------------------------------------
# Reading alerts and delivery state


def _iso(value: Any) -> str | None:
    """A warehouse timestamp (naive UTC) as ISO-8601 with Z."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    return str(value)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def describe_segment(slice_key: str) -> str:
    """'customer_tier=enterprise AND missing_required_fields=3+' in plain words:
    'customer tier = enterprise and missing required fields = 3+'."""
    words = []
    for predicate in slice_key.split(" AND "):
        dimension, _, value = predicate.partition("=")
        if dimension.startswith("attributes."):
            dimension = f"{dimension.removeprefix('attributes.')} (attribute)"
        words.append(f"{dimension.replace('_', ' ')} = {value}")
    return " and ".join(words)


def read_alerts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute(ALERTS_QUERY)
    columns = [description[0] for description in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists alerting")
    con.execute(
        f"""
        create table if not exists {STATE_TABLE} (
            alert_id varchar not null,
            destination varchar not null,
            last_delivered_state varchar not null,
            last_delivered_at timestamp not null,
            primary key (alert_id, destination)
        )
        """
    )


def read_state(con: duckdb.DuckDBPyConnection, destination: str) -> dict[str, str]:
    """alert_id -> last delivered state ('open' or 'resolved') for one destination."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'alerting' and table_name = 'alert_deliveries'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = con.execute(
        f"select alert_id, last_delivered_state from {STATE_TABLE} where destination = ?",
        [destination],
    ).fetchall()
    return dict(rows)


def record_delivery(con: duckdb.DuckDBPyConnection, event: AlertEvent, destination: str) -> None:
    con.execute(
        f"""
        insert into {STATE_TABLE} (alert_id, destination, last_delivered_state, last_delivered_at)
        values (?, ?, ?, ?)
        on conflict (alert_id, destination) do update set
            last_delivered_state = excluded.last_delivered_state,
            last_delivered_at = excluded.last_delivered_at
        """,
        [
            event.alert_id,
            destination,
            event.delivered_state,
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )


def to_event(alert: dict[str, Any], event: str) -> AlertEvent:
    warned_since = _iso(alert["warned_since_at"])
    first_seen = _iso(alert["first_seen_at"])
    examples = alert.get("example_failed_task_ids") or ""
    status_changed = _iso(alert["status_changed_at"]) or ""
    # The early warning reports the first alarm in the segment's whole history: for a
    # reopened alert that is the previous episode, so "since" is the build that reopened it.
    if alert["alert_status"] == "reopened" and status_changed:
        since_at, since_source = status_changed, "reopened"
    elif warned_since:
        since_at, since_source = warned_since, "early_warning"
    else:
        since_at, since_source = first_seen, "first_seen"
    return AlertEvent(
        event=event,
        alert_id=alert["alert_id"],
        alert_status=alert["alert_status"],
        segment=describe_segment(alert["slice_key"]),
        slice_key=alert["slice_key"],
        slice_dimensions=alert["slice_dimensions"],
        slice_values=alert["slice_values"],
        slice_level=int(alert["slice_level"]),
        task_count=int(alert["task_count"]),
        failed_count=int(alert["failed_count"]),
        completion_rate=float(alert["completion_rate"]),
        completion_rate_ci_low=float(alert["completion_rate_ci_low"]),
        completion_rate_ci_high=float(alert["completion_rate_ci_high"]),
        overall_completion_rate=float(alert["overall_completion_rate"]),
        gap_pp=float(alert["gap_pp"]),
        peak_gap_pp=_number(alert["peak_gap_pp"]),
        failure_share=_number(alert["failure_share"]),
        attributable_share=_number(alert["attributable_share"]),
        q_value=_number(alert["q_value"]),
        since_at=since_at,
        since_source=since_source,
        warned_since_at=warned_since,
        first_seen_at=first_seen,
        last_seen_at=_iso(alert["last_seen_at"]),
        resolved_at=_iso(alert["resolved_at"]),
        status_changed_at=status_changed or None,
        example_task_ids=[task for task in (part.strip() for part in examples.split(",")) if task],
    )


def pending_events(alerts: Sequence[dict[str, Any]], state: dict[str, str]) -> list[AlertEvent]:
    """Events one destination has not had yet: opened ones first, biggest gap first."""
    opened, resolved = [], []
    for alert in alerts:
        last = state.get(alert["alert_id"])
        if alert["alert_status"] in OPEN_STATUSES and last != OPEN:
            opened.append(to_event(alert, "opened"))
        elif alert["alert_status"] == "resolved" and last == OPEN:
            resolved.append(to_event(alert, "resolved"))
    return opened + resolved


# ---------------------------------------------------------------------------
# Messages


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _when(iso: str | None) -> str:
    return "-" if not iso else iso.replace("T", " ").removesuffix("Z")[:16] + " UTC"


def since_text(event: AlertEvent) -> str:
    if event.since_source == "early_warning":
        return f"since {_when(event.since_at)} (early warning first fired)"
    if event.since_source == "reopened":
        first = f"; first warned {_when(event.warned_since_at)}" if event.warned_since_at else ""
        return f"since {_when(event.since_at)} (build that reopened it{first})"
    return f"since {_when(event.since_at)} (first build that alerted)"


def format_text(event: AlertEvent) -> str:
    """The message in plain text: what, how bad, how many, since when, tasks to open."""
    figures = (
        f"{_percent(event.completion_rate)} completion vs "
        f"{_percent(event.overall_completion_rate)} overall "
        f"(interval {_percent(event.completion_rate_ci_low)} to "
        f"{_percent(event.completion_rate_ci_high)}), {event.gap_pp:.1f} points below, "
        f"{event.task_count:,} tasks ({event.failed_count:,} failed), "
        f"{_percent(event.failure_share)} of all failures"
    )
    if event.event == "opened":
        lines = [
            f"Segment alert {event.alert_status}: {event.segment}",
            figures,
            since_text(event),
        ]
        if event.example_task_ids:
            lines.append(f"failed tasks to open: {', '.join(event.example_task_ids)}")
    else:
        lines = [
            f"Segment alert resolved: {event.segment}",
            f"no longer below the threshold as of {_when(event.resolved_at)}; "
            f"last alerting figures: {figures}",
            f"{since_text(event)}; peak gap {event.peak_gap_pp or event.gap_pp:.1f} points",
        ]
    lines.append(f"alert {event.alert_id} ({event.slice_key})")
    return "\n".join(lines)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(event: AlertEvent) -> dict[str, Any]:
    """A Slack incoming-webhook message: fallback text plus Block Kit blocks."""
    segment = _slack_escape(event.segment)
    if event.event == "opened":
        title = f"Segment alert {event.alert_status}: {event.segment}"
        summary = (
            f"*{segment}* completes *{_percent(event.completion_rate)}* of its tasks vs "
            f"*{_percent(event.overall_completion_rate)}* overall "
            f"(interval {_percent(event.completion_rate_ci_low)} to "
            f"{_percent(event.completion_rate_ci_high)}): *{event.gap_pp:.1f} points* below."
        )
    else:
        title = f"Segment alert resolved: {event.segment}"
        summary = (
            f"*{segment}* is no longer below the alert threshold "
            f"(resolved {_when(event.resolved_at)}). Last alerting figures: "
            f"{_percent(event.completion_rate)} vs {_percent(event.overall_completion_rate)} "
            f"overall, {event.gap_pp:.1f} points below."
        )
    fields = [
        f"*Tasks*\n{event.task_count:,} ({event.failed_count:,} failed)",
        f"*Share of all failures*\n{_percent(event.failure_share)}",
        f"*Since*\n{_slack_escape(since_text(event).removeprefix('since '))}",
        f"*Gap*\n{event.gap_pp:.1f} points (peak {event.peak_gap_pp or event.gap_pp:.1f})",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": field} for field in fields],
        },
    ]
    if event.example_task_ids:
        tasks = ", ".join(f"`{_slack_escape(task)}`" for task in event.example_task_ids)
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"Failed tasks to open: {tasks}"},
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"alert `{event.alert_id}` · `{_slack_escape(event.slice_key)}`",
                }
            ],
        }
    )
    return {"text": format_text(event), "blocks": blocks}


def json_payload(event: AlertEvent) -> dict[str, Any]:
    """Every field of the event, plus the plain-text message."""
    return {"source": "agent_segments", **asdict(event), "text": format_text(event)}


# ---------------------------------------------------------------------------
# Sending


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 10.0


def redact(url: str) -> str:
    """scheme://host/… : webhook paths are secrets (a Slack webhook URL is its own token)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path not in ("", "/") else url


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def post_json(
    url: str,
    payload: dict[str, Any],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """POST payload as JSON; retry 429, 5xx and connection errors with exponential backoff.

    Raises DeliveryError with the last status when the destination does not accept it.
    """
    body = json.dumps(payload).encode("utf-8")
    for attempt in range(1, policy.attempts + 1):
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        retry_after: float | None = None
        try:
            with urllib.request.urlopen(request, timeout=policy.timeout) as response:
                response.read()
            return
        except urllib.error.HTTPError as error:
            detail = error.read(200).decode("utf-8", "replace").strip().replace("\n", " ")
            status = f"HTTP {error.code}" + (f" ({detail[:80]})" if detail else "")
            if error.code not in RETRYABLE_STATUSES:
                raise DeliveryError(f"{status}, not retried") from None
            retry_after = retry_after_seconds(error.headers.get("Retry-After"))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            status = f"connection error ({reason})"
        if attempt == policy.attempts:
            break
        delay = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay)
        if retry_after is not None:
            if retry_after > policy.max_delay:
                raise DeliveryError(
                    f"{status}; asked to retry after {retry_after:.0f} s, more than "
                    f"--max-retry-delay {policy.max_delay:g} s"
                )
            delay = max(delay, retry_after)
        sleep(delay)
    plural = "s" if policy.attempts > 1 else ""
    raise DeliveryError(f"{status} after {policy.attempts} attempt{plural}")


@dataclass(frozen=True)
class Destination:
    """Where events go. `name` keys the delivery state ('slack', 'json' or 'print')."""

    name: str
    label: str
    url: str | None = None

    def payload(self, event: AlertEvent) -> dict[str, Any]:
        return slack_payload(event) if self.name == "slack" else json_payload(event)

    def send(self, event: AlertEvent, policy: RetryPolicy) -> None:
        if self.url is None:
            print(format_text(event), end="\n\n", flush=True)
        else:
            post_json(self.url, self.payload(event), policy)


def choose_destinations(args: argparse.Namespace) -> list[Destination]:
    slack = args.slack_webhook or os.environ.get(SLACK_ENV) or None
    generic = args.json_webhook or os.environ.get(JSON_ENV) or None
    destinations = []
    if slack:
        destinations.append(Destination("slack", f"slack webhook {redact(slack)}", slack))
    if generic:
        destinations.append(Destination("json", f"json webhook {redact(generic)}", generic))
    if args.print or not destinations:
        destinations.append(Destination("print", "stdout"))
    return destinations


def deliver(
    con: duckdb.DuckDBPyConnection,
    destinations: Sequence[Destination],
    policy: RetryPolicy,
    dry_run: bool = False,
) -> list[str]:
    """Send each destination what it has not had; return one failure line per failed one."""
    alerts = read_alerts(con)
    if not dry_run:
        ensure_state_table(con)
    failures = []
    for destination in destinations:
        events = pending_events(alerts, read_state(con, destination.name))
        sent = 0
        for event in events:
            if dry_run:
                print(f"[dry run: {destination.label}, {event.event}]\n{format_text(event)}\n")
                continue
            try:
                destination.send(event, policy)
            except DeliveryError as error:
                left = len(events) - sent
                failures.append(
                    f"delivery to {destination.label} failed: {error}; "
                    f"{left} event(s) left for the next run"
                )
                break
            record_delivery(con, event, destination.name)
            sent += 1
        verb = "would send" if dry_run else "sent"
        count = len(events) if dry_run else sent
        print(f"{destination.label}: {verb} {count} of {len(events)} event(s)", file=sys.stderr)
    return failures


# ---------------------------------------------------------------------------
# Command line


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="deliver_alerts.py",
        description=(
            "Send segment alerts that opened or resolved since the last run to a Slack incoming "
            "webhook, a generic JSON webhook and/or stdout. Reads marts.segment_alerts from the "
            "DuckDB warehouse and records what each destination received in "
            f"{STATE_TABLE}, so re-runs never send duplicates and failed sends are retried. "
            "Exits 1 when a destination does not accept its events."
        ),
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("AGENT_SEGMENTS_DB", DEFAULT_DB),
        help=f"DuckDB warehouse (default: $AGENT_SEGMENTS_DB or {DEFAULT_DB})",
    )
    parser.add_argument(
        "--slack-webhook",
        metavar="URL",
        help=f"Slack incoming-webhook URL (default: ${SLACK_ENV})",
    )
    parser.add_argument(
        "--json-webhook",
        metavar="URL",
        help=f"URL that receives one JSON object per event (default: ${JSON_ENV})",
    )
    parser.add_argument(
        "--print",
        action="store_true",
        help="print events to stdout (the default when no webhook is configured)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be sent; send nothing and record nothing",
    )
    parser.add_argument(
        "--max-attempts",
        type=positive_int,
        default=RetryPolicy.attempts,
        help=f"HTTP attempts per event (default: {RetryPolicy.attempts})",
    )
    parser.add_argument(
        "--retry-delay",
        type=_non_negative_float,
        default=RetryPolicy.base_delay,
        help=(
            "seconds before the first retry, doubled for each further one "
            f"(default: {RetryPolicy.base_delay:g})"
        ),
    )
    parser.add_argument(
        "--max-retry-delay",
        type=_non_negative_float,
        default=RetryPolicy.max_delay,
        help=(
            "longest wait between attempts; a Retry-After beyond it fails the destination "
            f"(default: {RetryPolicy.max_delay:g})"
        ),
    )
    parser.add_argument(
        "--timeout",
        type=_non_negative_float,
        default=RetryPolicy.timeout,
        help=f"seconds to wait for each HTTP response (default: {RetryPolicy.timeout:g})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    policy = RetryPolicy(args.max_attempts, args.retry_delay, args.max_retry_delay, args.timeout)
    db_path = Path(args.db)
    if not db_path.is_absolute():
        db_path = PROJECT_ROOT / db_path
    if not db_path.exists():
        print(
            f"deliver_alerts.py: error: no warehouse at {db_path}; run dbt build first",
            file=sys.stderr,
        )
        return 1
    try:
        with duckdb.connect(str(db_path), read_only=args.dry_run) as con:
            failures = deliver(con, choose_destinations(args), policy, dry_run=args.dry_run)
    except duckdb.CatalogException as error:
        first_line = str(error).splitlines()[0]
        print(
            f"deliver_alerts.py: error: the alert marts are missing from {db_path} "
            f"({first_line}); run dbt build first",
            file=sys.stderr,
        )
        return 1
    except duckdb.IOException as error:
        first_line = str(error).splitlines()[0]
        print(f"deliver_alerts.py: error: cannot open {db_path}: {first_line}", file=sys.stderr)
        return 1
    for failure in failures:
        print(f"deliver_alerts.py: error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
