"""Turn an agent-log export into the raw contract, ready for `dbt build`.

    python scripts/import_logs.py {langfuse,otel,langsmith,mapping} INPUT --out RAW_DIR
        [--mapping FILE] [--format jsonl|parquet] [source options]

Writes RAW_DIR/task_runs_<source>_<input name>.jsonl (or .parquet), the
records that are not task runs or break the contract to RAW_DIR/import_skipped.jsonl
with a reason each, and customers.csv / users.csv when the export names tiers
or user details. Prints one summary line: records in, task runs written,
skipped by reason (records in = written + skipped). Then:

    .venv/bin/dbt build --vars '{raw_path: RAW_DIR}'

Exit status: 0 when task runs were written, 1 with a one-line reason when the
input is unusable (missing or empty file, bad mapping, no record importable),
2 on a usage error. What maps to what: docs/importers.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from importers import (
    SOURCES,
    ImportInputError,
    LangfuseOptions,
    LangsmithOptions,
    OtelOptions,
    run_import,
)
from importers.otel import ROOT_SPAN_MODES

PROGRAM = "import_logs.py"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description=(
            "Turn a Langfuse, OpenTelemetry or LangSmith export, or any CSV/JSONL file with a "
            "mapping, into task_runs files in the raw contract that dbt build reads. Every "
            "input record is written or listed in RAW_DIR/import_skipped.jsonl with a reason."
        ),
        epilog="See docs/importers.md for what maps to what.",
    )
    parser.add_argument("source", choices=SOURCES, help="the kind of export")
    parser.add_argument("input", type=Path, help="the export file (JSON, JSONL or CSV)")
    parser.add_argument("--out", type=Path, required=True, help="RAW_DIR: folder to write into")
    parser.add_argument(
        "--mapping", type=Path, help="mapping file (YAML or JSON); required for source mapping"
    )
    parser.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl")
    parser.add_argument(
        "--name", help="output file task_runs_<name>.<format> (default: <source>_<input stem>)"
    )
    parser.add_argument(
        "--default-task-type",
        help="task_type for runs whose export names none (default: the trace/run/agent name)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="langfuse scores / langsmith feedback: >= this is completed (default 0.5)",
    )
    parser.add_argument(
        "--score-name",
        action="append",
        dest="score_names",
        help="langfuse: score that decides the outcome; repeat for fallbacks "
        "(default: task_completed, then success)",
    )
    parser.add_argument(
        "--feedback-key",
        help="langsmith: judge runs that did not error by this feedback's average",
    )
    parser.add_argument(
        "--unscored-status",
        default="skipped",
        help="langfuse/langsmith: status of a run without the score or feedback "
        "(default skipped, which counts in no rate)",
    )
    parser.add_argument(
        "--root-spans",
        choices=ROOT_SPAN_MODES,
        default="auto",
        help="otel: which spans are task runs (default auto: outermost invoke_agent spans, "
        "else each trace's root span)",
    )
    parser.add_argument(
        "--agent-operation",
        action="append",
        dest="agent_operations",
        help="otel: gen_ai.operation.name of agent spans; repeatable (default invoke_agent)",
    )
    args = parser.parse_args(argv)
    if args.source == "mapping" and args.mapping is None:
        parser.error("source mapping needs --mapping FILE")
    return args


def source_options(args: argparse.Namespace) -> object | None:
    if args.source == "langfuse":
        return LangfuseOptions(
            score_names=tuple(args.score_names or LangfuseOptions.score_names),
            threshold=args.threshold,
            default_task_type=args.default_task_type,
            unscored_status=args.unscored_status,
        )
    if args.source == "otel":
        return OtelOptions(
            root_spans=args.root_spans,
            agent_operations=tuple(args.agent_operations or OtelOptions.agent_operations),
            default_task_type=args.default_task_type,
        )
    if args.source == "langsmith":
        return LangsmithOptions(
            feedback_key=args.feedback_key,
            threshold=args.threshold,
            default_task_type=args.default_task_type,
            unscored_status=args.unscored_status,
        )
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        summary = run_import(
            args.source,
            args.input,
            args.out,
            file_format=args.format,
            mapping_path=args.mapping,
            options=source_options(args),
            name=args.name,
        )
    except ImportInputError as error:
        print(f"{PROGRAM}: unusable input: {error}", file=sys.stderr)
        return 1
    print(summary.line())
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    if summary.written == 0:
        print(
            f"{PROGRAM}: unusable input: no task run could be imported from {args.input} "
            f"({summary.records_in} records, all skipped)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
