"""Print what a dbt build found: the segments and combinations far below the aggregate.

Ranked by their share of all failures, in plain words, with the attribution
of a combination's gap to its parts and failed task ids to open. Reads dbt's
run_results.json and the DuckDB warehouse. Exits 0 when the build
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


def describe_slice(slice_key: str) -> str:
    """'customer_tier=enterprise AND missing_required_fields=3+' -> plain words."""
    return " + ".join(predicate.replace("=", " = ", 1) for predicate in slice_key.split(" AND "))


def print_findings(con: duckdb.DuckDBPyConnection, limit: int) -> int:
    """Print the run's findings, biggest first; return the number of alerts."""
    overall_rate, counted, total = con.execute(
        """
        select avg(case when is_success then 1.0 else 0.0 end) filter (where is_counted),
               count(*) filter (where is_counted), count(*)
        from marts.fct_task_runs
        """
    ).fetchall()[0]
    rejected = con.execute("select count(*) from marts.rejected_task_runs").fetchall()[0][0]
    print(
        f"Overall completion {format_percent(overall_rate)} over {counted:,} counted tasks "
        f"({total:,} tasks; {rejected:,} raw records rejected, see marts.rejected_task_runs)."
    )
    alerts = con.execute(
        """
        select slice_key, completion_rate, completion_rate_ci_low, completion_rate_ci_high,
               overall_completion_rate, task_count, failure_share, attributable_share,
               example_failed_task_ids,
               (select count(*) from marts.segment_slices as narrower
                where narrower.redundant_under_slice_key = slices.slice_key) as narrower_count
        from marts.segment_slices as slices
        where status = 'alert' and not is_redundant
        order by attributable_share desc nulls last, gap_pp desc
        """
    ).fetchall()
    attribution = con.execute(
        """
        select slice_key, predicate_dimension, predicate_value, contribution_share
        from marts.slice_attribution
        order by slice_key, contribution_share desc
        """
    ).fetchall()
    if not alerts:
        print("No segment or combination is in alert.")
    else:
        print(f"\n{len(alerts)} finding(s), biggest share of failures first:")
    for rank, row in enumerate(alerts[:limit], start=1):
        key, rate, low, high, overall, n, fail_share, attributable, examples, narrower = row
        print(
            f"{rank:>3}. {describe_slice(key)}: {format_percent(rate)} vs "
            f"{format_percent(overall)} overall [{format_percent(low)}, {format_percent(high)}], "
            f"{n:,} tasks, {format_percent(fail_share)} of all failures "
            f"({format_percent(attributable)} attributable)"
        )
        contributions = [
            f"{dimension} = {value} {format_percent(share)}"
            for slice_key, dimension, value, share in attribution
            if slice_key == key
        ]
        if contributions:
            print(f"       gap explained by: {', '.join(contributions)}")
        if narrower:
            print(f"       {narrower} narrower slice(s) inside it say nothing new")
        if examples:
            print(f"       failed tasks to open: {examples}")
    watch_count = con.execute(
        "select count(*) from marts.segment_slices where status = 'watch'"
    ).fetchall()[0][0]
    if watch_count:
        print(
            f"\n{watch_count} slice(s) to watch: below the threshold on thin evidence "
            "(marts.segment_slices where status = 'watch')."
        )
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
    parser.add_argument("--limit", type=int, default=20, help="findings to list at most")
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
            alert_count = print_findings(con, args.limit)
    except duckdb.CatalogException as error:
        print(f"error: the marts are missing from {db_path}: {error}", file=sys.stderr)
        return 1

    print(f"\nMarts: {db_path} (schema marts). Open with:")
    query = (
        "select dimension, segment_value, status, task_count, completion_rate, gap_pp"
        " from marts.segment_completion order by gap_pp desc"
    )
    connect = f"duckdb.connect('{db_path}', read_only=True)"
    print(f"  .venv/bin/python -c \"import duckdb; {connect}.sql('{query}').show()\"")
    if outcome.other_failures:
        print("\nThe build failed for other reasons than the gap test:", file=sys.stderr)
        for failure in outcome.other_failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    if outcome.gap_test_failures:
        print(
            f"\ndbt build failed its gap test ({alert_count} finding(s) in alert): "
            "that is the CI gate working. Failing rows are stored in schema test_failures."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
