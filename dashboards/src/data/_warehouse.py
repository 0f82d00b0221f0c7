"""Shared by the data loaders: open the DuckDB marts read-only and print JSON.

The warehouse is $AGENT_SEGMENTS_DB (default data/agent_segments.duckdb); a relative
path is taken from the project folder, as dbt's profiles.yml does. Loaders write JSON
to stdout (Observable Framework captures it) and report problems on stderr.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[3]
DEFAULT_DB = "data/agent_segments.duckdb"
# A running `dbt build` holds the write lock; wait this long for it before giving up.
LOCK_WAIT_SECONDS = float(os.environ.get("AGENT_SEGMENTS_DB_LOCK_WAIT", "60"))


def database_path() -> Path:
    path = Path(os.environ.get("AGENT_SEGMENTS_DB") or DEFAULT_DB)
    return path if path.is_absolute() else PROJECT_DIR / path


def connect() -> duckdb.DuckDBPyConnection:
    path = database_path()
    if not path.exists():
        sys.exit(
            f"{path} does not exist: build the marts first (make demo, or dbt build), "
            "or point AGENT_SEGMENTS_DB at the warehouse."
        )
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                sys.exit(f"cannot open {path} read-only: {error}")
            time.sleep(1)


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
