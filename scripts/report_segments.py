"""Print the segments a dbt build found below the aggregate, and where the marts are.

Reads dbt's run_results.json and the DuckDB warehouse. Exits 0 when the build
succeeded or failed only because the gap test found segments in alert (that is
the CI gate doing its job); exits 1 when anything else failed, or the
warehouse has no marts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

GAP_TEST_NAME = "segment_gap_within_threshold"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "data/agent_segments.duckdb"


@dataclass(frozen=True)
class BuildOutcome:
    gap_test_failures: list[str]
    other_failures: list[str]


def read_build_outcome(run_results_path: Path) -> BuildOutcome:
    """Split the failed nodes of a dbt run into gap-test failures and the rest."""
    results = json.loads(run_results_path.read_text())["results"]
    gap_failures, other_failures = [], []
    for result in results:
        if result["status"] not in ("error", "fail", "runtime error", "skipped"):
            continue
        node = result["unique_id"]
        if node.startswith("test.") and GAP_TEST_NAME in node and result["status"] == "fail":
            gap_failures.append(node)
        else:
            other_failures.append(f"{node} ({result['status']}): {result.get('message') or ''}")
    return BuildOutcome(gap_failures, other_failures)


def format_percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def print_segments(con: duckdb.DuckDBPyConnection, limit: int) -> int:
    """Print alerting segments, then the watch list; return the number of alerts."""
    overall = con.execute(
        "select max(overall_completion_rate), count(*) from marts.segment_completion"
    ).fetchall()[0]
    task_totals = con.execute(
        "select count(*) filter (where is_counted), count(*) from marts.fct_task_runs"
    ).fetchall()[0]
    rejected = con.execute("select count(*) from marts.rejected_task_runs").fetchall()[0][0]
    print(
        f"Overall completion {format_percent(overall[0])} over {task_totals[0]:,} counted tasks "
        f"({task_totals[1]:,} tasks; {rejected:,} raw records rejected, "
        "see marts.rejected_task_runs)."
    )
    rows = con.execute(
        """
        select dimension, segment_value, status, task_count, completion_rate,
               completion_rate_ci_low, completion_rate_ci_high, gap_pp, failure_share,
               traffic_share, q_value
        from marts.segment_completion
        where status in ('alert', 'watch')
        order by status, gap_pp desc
        """
    ).fetchall()
    alerts = [row for row in rows if row[2] == "alert"]
    watch = [row for row in rows if row[2] == "watch"]
    if not alerts:
        print("No segment is in alert.")
    else:
        print(f"\n{len(alerts)} segment(s) in ALERT (rate, interval, gap below overall):")
    for section, section_rows in (("", alerts), ("watch", watch)):
        if section and section_rows:
            print(
                f"\n{len(section_rows)} segment(s) to WATCH (below threshold, evidence too thin):"
            )
        for dim, value, _, n, rate, low, high, gap, fail_share, traffic, q in section_rows[:limit]:
            print(
                f"  {dim} = {value}: {format_percent(rate)} "
                f"[{format_percent(low)}, {format_percent(high)}], "
                f"{gap:.1f} pp below, {n:,} tasks, {format_percent(fail_share)} of failures "
                f"on {format_percent(traffic)} of traffic" + ("" if q is None else f", q = {q:.2g}")
            )
        if len(section_rows) > limit:
            print(f"  ... and {len(section_rows) - limit} more (marts.segment_completion)")
    return len(alerts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--run-results",
        type=Path,
        default=PROJECT_ROOT / "target" / "run_results.json",
        help="dbt's run_results.json of the build to judge (default: target/run_results.json)",
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("AGENT_SEGMENTS_DB", DEFAULT_DB),
        help="DuckDB warehouse (default: $AGENT_SEGMENTS_DB or data/agent_segments.duckdb)",
    )
    parser.add_argument("--limit", type=int, default=20, help="segments to list per status")
    args = parser.parse_args(argv)

    if not args.run_results.exists():
        print(
            f"error: no dbt run results at {args.run_results}; run dbt build first", file=sys.stderr
        )
        return 1
    outcome = read_build_outcome(args.run_results)
    db_path = Path(args.db)
    if not db_path.is_absolute():
        db_path = PROJECT_ROOT / db_path
    if not db_path.exists():
        print(f"error: no warehouse at {db_path}; run dbt build first", file=sys.stderr)
        return 1

    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            alert_count = print_segments(con, args.limit)
    except duckdb.CatalogException as error:
        print(f"error: the marts are missing from {db_path}: {error}", file=sys.stderr)
        return 1

    print(f"\nMarts: {db_path} (schema marts). Open with:")
    query = "from marts.segment_completion order by gap_pp desc"
    connect = f"duckdb.connect('{db_path}', read_only=True)"
    print(f"  .venv/bin/python -c \"import duckdb; {connect}.sql('{query}').show()\"")
    if outcome.other_failures:
        print("\nThe build failed for other reasons than the gap test:", file=sys.stderr)
        for failure in outcome.other_failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    if outcome.gap_test_failures:
        print(
            f"\ndbt build failed its gap test ({alert_count} segment(s) in alert): "
            "that is the CI gate working. Failing rows are stored in schema test_failures."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
