"""Read the published marts: resolve the current snapshot once, then read every mart from it.

`dbt build` publishes the marts as Parquet snapshots (macros/export_marts_to_parquet.sql,
docs/reliability.md); a reader that goes through current.json always sees one whole build:

    <export dir>/current.json                  {"build_id", "snapshot", "published_at"}
    <export dir>/<snapshot>/_manifest.json     {"build_id", "published_at", "raw_path",
                                                "row_counts": {"<mart>": rows, ...}}
    <export dir>/<snapshot>/<mart>.parquet     build_id in the file's key-value metadata

Needs only the standard library and duckdb (any 1.x or later), so it can be copied beside
a BI tool or a notebook:

    snapshot = current_snapshot("data/marts_parquet")
    with connect(snapshot) as connection:
        connection.sql("select * from marts.segment_completion").show()

Read what you need within one build interval: a publish keeps the previous snapshot, the
one after it empties it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

POINTER_FILE = "current.json"
MANIFEST_FILE = "_manifest.json"
# Attempts at resolving the pointer when the snapshot it named was emptied meanwhile
# (possible only when two builds publish while a reader resolves).
RESOLVE_ATTEMPTS = 3


class SnapshotError(RuntimeError):
    """No readable published snapshot, or one that is not what its manifest says."""


@dataclass(frozen=True)
class Snapshot:
    """One published build of every mart."""

    build_id: str
    folder: Path
    published_at: datetime
    raw_path: str
    row_counts: dict[str, int]

    @property
    def marts(self) -> list[str]:
        return sorted(self.row_counts)

    def mart_path(self, mart: str) -> Path:
        if mart not in self.row_counts:
            raise SnapshotError(f"snapshot {self.build_id} has no mart {mart!r}")
        return self.folder / f"{mart}.parquet"


def current_snapshot(export_dir: str | Path) -> Snapshot:
    """The snapshot current.json names, with its manifest. Resolve once per read session."""
    export_dir = Path(export_dir)
    pointer_path = export_dir / POINTER_FILE
    for _ in range(RESOLVE_ATTEMPTS):
        try:
            pointer = json.loads(pointer_path.read_text())
        except FileNotFoundError:
            raise SnapshotError(
                f"{pointer_path} does not exist: no build has published marts there yet "
                "(dbt build publishes when every mart was built and only the gap test failed)"
            ) from None
        folder = export_dir / pointer["snapshot"]
        try:
            manifest = json.loads((folder / MANIFEST_FILE).read_text())
        except FileNotFoundError:
            continue  # emptied since the pointer was read: read the newer pointer
        if manifest["build_id"] != pointer["build_id"]:
            raise SnapshotError(
                f"{folder / MANIFEST_FILE} is build {manifest['build_id']}, "
                f"but {pointer_path} names build {pointer['build_id']}"
            )
        return Snapshot(
            build_id=manifest["build_id"],
            folder=folder,
            published_at=datetime.fromisoformat(manifest["published_at"]),
            raw_path=manifest["raw_path"],
            row_counts={mart: int(rows) for mart, rows in manifest["row_counts"].items()},
        )
    raise SnapshotError(f"{pointer_path} kept naming emptied snapshots; is a build looping?")


def _sql_text(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def problems(snapshot: Snapshot, connection: duckdb.DuckDBPyConnection) -> list[str]:
    """What is wrong with a snapshot, one line each: a missing file, a file written by
    another build, or a row count unlike the manifest's. Reads Parquet footers only."""
    found = []
    for mart in snapshot.marts:
        path = snapshot.mart_path(mart)
        if not path.exists():
            found.append(f"{path} is missing")
            continue
        metadata = dict(
            connection.execute(
                "select decode(key), decode(value) from parquet_kv_metadata("
                + _sql_text(path)
                + ")"
            ).fetchall()
        )
        if metadata.get("build_id") != snapshot.build_id:
            found.append(f"{path} is from build {metadata.get('build_id')}")
        rows = connection.execute(
            "select count(*) from read_parquet(" + _sql_text(path) + ")"
        ).fetchone()[0]
        if rows != snapshot.row_counts[mart]:
            found.append(f"{path} has {rows} rows, the manifest {snapshot.row_counts[mart]}")
    return found


def connect(snapshot: Snapshot, check: bool = True) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection whose schema `marts` has one view per mart of the
    snapshot, so queries written for the warehouse (`from marts.fct_task_runs`) run
    unchanged. With `check`, raises SnapshotError unless the files match the manifest."""
    connection = duckdb.connect()
    if check:
        found = problems(snapshot, connection)
        if found:
            connection.close()
            raise SnapshotError(f"snapshot {snapshot.build_id}: " + "; ".join(found))
    connection.execute("create schema marts")
    for mart in snapshot.marts:
        connection.execute(
            f'create view marts."{mart}" as select * from read_parquet('
            + _sql_text(snapshot.mart_path(mart))
            + ")"
        )
    return connection


def main(argv: list[str] | None = None) -> int:
    try:  # the project's one-line errors; plain argparse where the file was copied alone
        from cli_support import OneLineParser
    except ImportError:
        from argparse import ArgumentParser as OneLineParser

    parser = OneLineParser(
        description="Show the marts snapshot BI tools read now (build, time, rows per mart); "
        "with --check, exit 1 unless every file matches its manifest."
    )
    parser.add_argument(
        "export_dir",
        nargs="?",
        default="data/marts_parquet",
        help="folder of the published marts (var parquet_export_path; default data/marts_parquet)",
    )
    parser.add_argument("--check", action="store_true", help="verify every mart file")
    args = parser.parse_args(argv)
    try:
        snapshot = current_snapshot(args.export_dir)
    except SnapshotError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"build {snapshot.build_id}, published {snapshot.published_at.isoformat()}")
    print(f"folder {snapshot.folder}, raw_path {snapshot.raw_path}")
    for mart in snapshot.marts:
        print(f"  {mart}: {snapshot.row_counts[mart]:,} rows")
    if args.check:
        with duckdb.connect() as connection:
            found = problems(snapshot, connection)
        for problem in found:
            print(problem, file=sys.stderr)
        if found:
            return 1
        print("every file matches the manifest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
