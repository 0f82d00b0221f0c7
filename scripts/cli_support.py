"""What every command in scripts/ shares: bad arguments end in one line, exit 2."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad arguments in one line (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def write_benchmark_results(
    results: dict[str, Any],
    started: float,
    json_path: Path,
    markdown_path: Path,
    write_markdown: Callable[[Path, dict[str, Any]], None],
    table: Callable[[dict[str, Any]], str],
) -> None:
    """How a benchmark script ends: the total minutes since `started`
    (time.perf_counter), the results JSON, the block in its docs page, and
    the table on stdout."""
    results["total_minutes"] = round((time.perf_counter() - started) / 60, 1)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_markdown(markdown_path, results)
    print(table(results))


def benchmark_dbt_environment(db_path: Path, project_dir: Path, **settings: str) -> dict[str, str]:
    """The environment a benchmark runs dbt in: this one, the warehouse at `db_path`, the
    project's profile, no usage tracking, a pseudonym salt when none is set (any secret does
    for a benchmark; docs/privacy.md), and `settings` (e.g. AGENT_SEGMENTS_MEMORY_LIMIT)."""
    return {
        **os.environ,
        "AGENT_SEGMENTS_DB": str(db_path),
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "AGENT_SEGMENTS_ID_SALT": os.environ.get("AGENT_SEGMENTS_ID_SALT", "benchmark-salt"),
        **settings,
    }
