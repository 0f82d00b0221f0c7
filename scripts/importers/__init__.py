"""Importers: agent logs exported from other tools -> the raw contract (README, "Raw input
contract"). One module per source, all writing through contract_writer.ContractWriter:

* langfuse: Langfuse trace exports (one trace = one task run, a score as the outcome);
* otel: OpenTelemetry OTLP/JSON traces with GenAI semantic-convention attributes;
* langsmith: LangSmith run exports (one root run = one task run);
* mapping: any CSV or JSONL file, through a mapping file (mappings/ has examples).

``run_import`` is what scripts/import_logs.py calls; docs/importers.md says what maps to what.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_SCRIPTS_DIR = Path(__file__).resolve().parent.parent
if str(_SCRIPTS_DIR) not in sys.path:  # raw_contract.py lives beside this package
    sys.path.insert(0, str(_SCRIPTS_DIR))

import raw_contract  # noqa: E402

from importers.contract_writer import (  # noqa: E402
    SKIPPED_FILE,
    ContractWriter,
    ImportInputError,
    ImportSummary,
)
from importers.langfuse import LangfuseOptions, import_langfuse  # noqa: E402
from importers.langsmith import LangsmithOptions, import_langsmith  # noqa: E402
from importers.mapping import import_mapped, load_mapping  # noqa: E402
from importers.otel import OtelOptions, import_otel  # noqa: E402

SOURCES = ("langfuse", "otel", "langsmith", "mapping")
MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"

__all__ = [
    "MAPPINGS_DIR",
    "SKIPPED_FILE",
    "SOURCES",
    "ContractWriter",
    "ImportInputError",
    "ImportSummary",
    "LangfuseOptions",
    "LangsmithOptions",
    "OtelOptions",
    "run_import",
]


def run_import(
    source: str,
    input_path: Path,
    out_dir: Path,
    file_format: str = "jsonl",
    mapping_path: Path | None = None,
    options: Any = None,
    name: str | None = None,
) -> ImportSummary:
    """Import one export into `out_dir`; ImportInputError when the input is unusable.

    `options` is the source's options object (LangfuseOptions, OtelOptions, LangsmithOptions);
    `mapping_path` is required for source "mapping". `name` names the output file
    task_runs_<name>.<format> (default: <source>_<input file stem>)."""
    input_path = Path(input_path)
    if not input_path.is_file():
        raise ImportInputError(f"{input_path} does not exist or is not a file")
    unscored = getattr(options, "unscored_status", None)
    if unscored is not None and unscored.strip().lower() not in raw_contract.status_outcomes():
        raise ImportInputError(
            f"--unscored-status {unscored!r} is not in seeds/task_status_outcomes.csv"
        )
    writer = ContractWriter(out_dir, source, input_path, file_format)
    if source == "langfuse":
        import_langfuse(input_path, writer, options or LangfuseOptions())
    elif source == "otel":
        import_otel(input_path, writer, options or OtelOptions())
    elif source == "langsmith":
        import_langsmith(input_path, writer, options or LangsmithOptions())
    elif source == "mapping":
        if mapping_path is None:
            raise ImportInputError("the mapping importer needs --mapping FILE")
        import_mapped(input_path, writer, load_mapping(mapping_path))
    else:
        raise ImportInputError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    if writer.records_in == 0:
        raise ImportInputError(f"{input_path} holds no records")
    return writer.finish(name)
