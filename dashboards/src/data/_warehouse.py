"""Shared by the data loaders: open the published marts read-only and print JSON.

The loaders read the snapshot of the marts that the last successful `dbt build`
published (docs/reliability.md), resolved once per loader through
scripts/marts_snapshot.py: a build running meanwhile neither blocks them nor
shows them a half-built set of marts. The snapshots are in $AGENT_SEGMENTS_MARTS_DIR,
else in marts_parquet beside the warehouse $AGENT_SEGMENTS_DB (default
data/agent_segments.duckdb), where dbt publishes them unless the var
parquet_export_path says otherwise. A relative path is taken from the project
folder, as dbt's profiles.yml does. Loaders write JSON to stdout (Observable
Framework captures it) and report problems on stderr.
"""

from __future__ import annotations

import json
import math
import os
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[3]
# scripts/marts_snapshot.py of the project; a copy of the dashboard outside the project
# (its test builds one) finds it through the interpreter, the project's .venv.
SCRIPTS_DIR = next(
    (
        folder
        for folder in (PROJECT_DIR / "scripts", Path(sys.prefix).parent / "scripts")
        if (folder / "marts_snapshot.py").exists()
    ),
    PROJECT_DIR / "scripts",
)
sys.path.insert(0, str(SCRIPTS_DIR))

import marts_snapshot  # noqa: E402  (found through the line above)

DEFAULT_DB = "data/agent_segments.duckdb"


def _project_path(text: str) -> Path:
    path = Path(text)
    return path if path.is_absolute() else PROJECT_DIR / path


def export_dir() -> Path:
    configured = os.environ.get("AGENT_SEGMENTS_MARTS_DIR")
    if configured:
        return _project_path(configured)
    return _project_path(os.environ.get("AGENT_SEGMENTS_DB") or DEFAULT_DB).parent / "marts_parquet"


def connect() -> duckdb.DuckDBPyConnection:
    """A connection whose schema `marts` holds the current snapshot's marts."""
    try:
        return marts_snapshot.connect(marts_snapshot.current_snapshot(export_dir()))
    except marts_snapshot.SnapshotError as error:
        sys.exit(
            f"cannot read the published marts: {error}. Build them first (make demo, or "
            "dbt build), or point AGENT_SEGMENTS_MARTS_DIR (or AGENT_SEGMENTS_DB) at them."
        )


def records(connection: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict]:
    """Rows of a query as JSON-ready dicts."""
    result = connection.execute(sql, params) if params is not None else connection.execute(sql)
    columns = [column[0] for column in result.description]
    return [
        {column: _plain(value) for column, value in zip(columns, row, strict=True)}
        for row in result.fetchall()
    ]


def relation_exists(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    found = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def emit(payload: Any) -> None:
    json.dump(payload, sys.stdout, allow_nan=False, separators=(",", ":"))
