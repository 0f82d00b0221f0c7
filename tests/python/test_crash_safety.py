"""Kill `dbt build` anywhere: a BI reader still sees one whole build of the marts.

The guarantee (docs/reliability.md): a reader that goes through
<export dir>/current.json, as scripts/marts_snapshot.py does, reads either the
previous complete set of marts or the new complete set, never a mix and never a
half-written file, wherever the build dies.

A small story demo is built once. Then each of TRIALS builds runs on a raw
folder grown by one delivery (new data, as in production) and is SIGKILLed at a
seeded random moment: most spread over a whole build's duration, some once the
on-run-end publish has started, and one after the build has finished (so the
readers see a switch however slow the machine). A reader thread resolves and
reads the current snapshot all along. Every read, and the state after every
kill, must be one build: every file of the snapshot written by the build its
manifest names, row counts as in the manifest, the marts agreeing with each
other, and fct_task_runs holding exactly the tasks reference.py finds in the
raw files that build read. Then a normal build must publish the newest data,
and a build whose mart fails, a partial selection and an --empty build must
publish nothing.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import marts_snapshot
import pytest
import reference
from conftest import (
    DBT_TIMEOUT_SECONDS,
    PROJECT_DIR,
    dbt_build_command,
    generate_demo,
    run_dbt_build,
)
from test_custom_contract import copy_project

TRIALS = 20
# Of the TRIALS, these are killed after the new snapshot folder appears (the
# publish takes a fraction of a second, so uniform times would rarely hit it).
PUBLISH_TRIALS = 5
# And these are let finish before the kill: on a loaded machine every other
# trial may die before its switch, and the readers must see at least one switch.
FINISHED_TRIALS = 1
SEED = 20261125
FIRST_DELIVERIES = 2
TASKS_PER_DELIVERY = 30
# Two more deliveries than trials: the normal rebuild and the failing build each get one.
DELIVERIES = FIRST_DELIVERIES + TRIALS + 2
READ_PAUSE_SECONDS = 0.02
MART_NAMES = sorted(path.stem for path in (PROJECT_DIR / "models" / "marts").glob("*.sql"))
SNAPSHOT_ID_LENGTH = 36  # a dbt invocation id


def sql_text(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


# ---------------------------------------------------------------------------
# The raw folder, one delivery at a time, and what each state should give


class GrowingRawFolder:
    """A raw folder that receives the demo's weekly delivery files one at a time."""

    def __init__(self, deliveries_dir: Path, raw_dir: Path, states_dir: Path) -> None:
        self.deliveries = sorted(deliveries_dir.glob("task_runs_*.jsonl"))
        self.lookups = [deliveries_dir / "customers.csv", deliveries_dir / "users.csv"]
        self.path = raw_dir
        self.states_dir = states_dir
        self.delivered = 0
        self._expected_tasks: dict[int, int] = {}
        raw_dir.mkdir(parents=True)
        for lookup in self.lookups:
            shutil.copy2(lookup, raw_dir / lookup.name)

    def deliver_next(self) -> int:
        """Adds the next delivery; returns the folder's state (deliveries so far)."""
        delivery = self.deliveries[self.delivered]
        shutil.copy2(delivery, self.path / delivery.name)
        self.delivered += 1
        return self.delivered

    def expected_task_count(self, state: int) -> int:
        """Tasks in fct_task_runs for the first `state` deliveries, by reference.py."""
        if state not in self._expected_tasks:
            folder = self.states_dir / str(state)
            folder.mkdir(parents=True)
            for path in [*self.lookups, *self.deliveries[:state]]:
                (folder / path.name).symlink_to(path)
            _, _, tasks = reference.build_reference(folder, PROJECT_DIR, now=datetime.now(UTC))
            self._expected_tasks[state] = len(tasks)
        return self._expected_tasks[state]


# ---------------------------------------------------------------------------
# What a reader checks, written apart from marts_snapshot.problems()


def snapshot_inconsistencies(
    snapshot: marts_snapshot.Snapshot, connection: duckdb.DuckDBPyConnection
) -> list[str]:
    """Why a snapshot is not one whole build, one line each (empty: it is)."""
    found = []
    if sorted(snapshot.row_counts) != MART_NAMES:
        found.append(f"manifest lists {sorted(snapshot.row_counts)}, the project {MART_NAMES}")
    files = sql_text(snapshot.folder / "*.parquet")
    written_by = dict(
        connection.execute(
            "select parse_filename(file_name, true), decode(value)"
            f" from parquet_kv_metadata({files}) where decode(key) = 'build_id'"
        ).fetchall()
    )
    rows = dict(
        connection.execute(
            f"select parse_filename(file_name, true), num_rows from parquet_file_metadata({files})"
        ).fetchall()
    )
    if sorted(rows) != MART_NAMES:
        found.append(f"snapshot files are {sorted(rows)}")
    for mart, build_id in sorted(written_by.items()):
        if build_id != snapshot.build_id:
            found.append(f"{mart} written by build {build_id}, manifest says {snapshot.build_id}")
    for mart, count in sorted(rows.items()):
        if count != snapshot.row_counts.get(mart):
            found.append(f"{mart} has {count} rows, manifest {snapshot.row_counts.get(mart)}")
    return found + cross_mart_inconsistencies(connection)


def cross_mart_inconsistencies(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Marts read through marts_snapshot.connect() must describe the same tasks."""
    tasks, counted, completed, failed = connection.execute(
        "select count(*), count(*) filter (where is_counted),"
        " count(*) filter (where is_counted and is_success),"
        " count(*) filter (where is_counted and not is_success)"
        " from marts.fct_task_runs"
    ).fetchone()
    found = []
    # Every counted task is in one segment of each dimension (a segment of
    # excluded tasks only has no rate and no row, so excluded ones need not add up).
    by_dimension = connection.execute(
        "select dimension, sum(task_count), min(overall_completion_rate),"
        " max(overall_completion_rate)"
        " from marts.segment_completion group by dimension order by dimension"
    ).fetchall()
    if not by_dimension:
        found.append("segment_completion is empty")
    for dimension, counted_tasks, lowest_rate, highest_rate in by_dimension:
        if counted_tasks != counted:
            found.append(
                f"segment_completion {dimension}: {counted_tasks} counted tasks,"
                f" fct_task_runs {counted} of {tasks}"
            )
        if not (lowest_rate == highest_rate and abs(highest_rate - completed / counted) < 1e-12):
            found.append(
                f"segment_completion {dimension}: overall rate {lowest_rate}..{highest_rate},"
                f" fct_task_runs {completed / counted}"
            )
    for dimension, failures in connection.execute(
        "select dimension, sum(failed_count) from marts.segment_pareto group by dimension"
    ).fetchall():
        if failures != failed:
            found.append(f"segment_pareto {dimension}: {failures} failures, fct {failed}")
    segments, single_slices = connection.execute(
        "select (select count(*) from marts.segment_completion),"
        " (select count(*) from marts.segment_slices where slice_level = 1)"
    ).fetchone()
    if segments != single_slices:
        found.append(f"{segments} segments but {single_slices} one-dimension slices")
    return found


@dataclass(frozen=True)
class Read:
    """One reader's look at the current snapshot."""

    build_id: str | None
    task_count: int | None
    problems: list[str]


def read_current(export_dir: Path) -> Read:
    """What a BI reader does: resolve once, then read every mart of that snapshot."""
    try:
        snapshot = marts_snapshot.current_snapshot(export_dir)
        with marts_snapshot.connect(snapshot) as connection:
            problems = snapshot_inconsistencies(snapshot, connection)
            task_count = connection.execute("select count(*) from marts.fct_task_runs").fetchone()
        return Read(snapshot.build_id, task_count[0], problems)
    except (marts_snapshot.SnapshotError, OSError, duckdb.Error) as error:
        return Read(None, None, [f"{type(error).__name__}: {error}"])


class Reader(threading.Thread):
    """Reads the current snapshot again and again until stopped."""

    def __init__(self, export_dir: Path) -> None:
        super().__init__(daemon=True)
        self.export_dir = export_dir
        self.reads: list[Read] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.reads.append(read_current(self.export_dir))
            time.sleep(READ_PAUSE_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)


# ---------------------------------------------------------------------------
# Killing builds


def snapshot_folders(export_dir: Path) -> set[str]:
    return {
        path.name
        for path in export_dir.iterdir()
        if path.is_dir() and len(path.name) == SNAPSHOT_ID_LENGTH
    }


def live_snapshot_folders(export_dir: Path) -> set[str]:
    """Snapshot folders not yet emptied by a later publish."""
    return {
        name
        for name in snapshot_folders(export_dir)
        if any(not path.name.startswith("_pruned_") for path in (export_dir / name).iterdir())
    }


@dataclass
class Trial:
    number: int
    state: int
    # "anywhere": killed kill_fraction of a build's duration after its start;
    # "in publish": killed publish_delay_seconds after its snapshot folder appears;
    # "after finishing": killed once the build has ended by itself.
    kill_plan: str
    kill_fraction: float = 0.0
    publish_delay_seconds: float = 0.0
    killed_after_seconds: float = 0.0
    build_finished_before_kill: bool = False
    phase: str = ""
    outcome: str = ""
    problems: list[str] = field(default_factory=list)


def start_build(raw: GrowingRawFolder, work_dir: Path, log_path: Path) -> subprocess.Popen:
    build = dbt_build_command(raw.path, work_dir)
    with log_path.open("w") as log:
        return subprocess.Popen(
            build.command,
            cwd=build.project_dir,
            env=build.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole
        )


def wait_for_new_folder(export_dir: Path, known: set[str], process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + DBT_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if snapshot_folders(export_dir) - known:
            return True
        time.sleep(0.002)
    return bool(snapshot_folders(export_dir) - known)


def kill_build(process: subprocess.Popen) -> bool:
    """SIGKILL the build's process group; True when it had finished already."""
    finished = process.poll() is not None
    if not finished:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            finished = True
    process.wait(timeout=60)
    return finished


class Trials:
    """Runs the kill trials; knows how long a build takes from the builds it saw."""

    def __init__(self, raw: GrowingRawFolder, work_dir: Path, build_seconds: float) -> None:
        self.raw = raw
        self.work_dir = work_dir
        self.export_dir = work_dir / "marts_parquet"
        self.build_seconds = build_seconds

    def run(self, trial: Trial) -> marts_snapshot.Snapshot:
        before = marts_snapshot.current_snapshot(self.export_dir)
        folders_before = snapshot_folders(self.export_dir)
        started = time.monotonic()
        process = start_build(self.raw, self.work_dir, self.work_dir / f"trial_{trial.number}.log")
        if trial.kill_plan == "in publish":
            if not wait_for_new_folder(self.export_dir, folders_before, process):
                trial.problems.append("the build ended without starting a publish")
            self.build_seconds = time.monotonic() - started
            time.sleep(trial.publish_delay_seconds)
        elif trial.kill_plan == "after finishing":
            try:
                if process.wait(timeout=DBT_TIMEOUT_SECONDS) != 0:
                    trial.problems.append(f"the build left to finish exited {process.returncode}")
                self.build_seconds = time.monotonic() - started
            except subprocess.TimeoutExpired:
                trial.problems.append(f"the build left to finish ran over {DBT_TIMEOUT_SECONDS} s")
        else:
            try:
                process.wait(timeout=trial.kill_fraction * self.build_seconds)
                self.build_seconds = time.monotonic() - started
            except subprocess.TimeoutExpired:
                pass
        trial.killed_after_seconds = time.monotonic() - started
        trial.build_finished_before_kill = kill_build(process)

        after = marts_snapshot.current_snapshot(self.export_dir)
        with marts_snapshot.connect(after, check=False) as connection:
            trial.problems += snapshot_inconsistencies(after, connection)
        started_publish = bool(snapshot_folders(self.export_dir) - folders_before)
        if after.build_id == before.build_id:
            trial.outcome = "previous kept"
            trial.phase = "publish, before the switch" if started_publish else "before the publish"
        else:
            trial.outcome = "new published"
            trial.phase = "finished" if trial.build_finished_before_kill else "after the switch"
        return after


def kill_plans(rng: random.Random, publish_seconds: float) -> list[Trial]:
    """Seeded kill moments: one in each equal slice of a build's duration,
    PUBLISH_TRIALS within the publish and FINISHED_TRIALS after the build. A
    publish trial goes first: it measures how long a build on the grown folder
    takes."""
    spread = TRIALS - PUBLISH_TRIALS - FINISHED_TRIALS
    plans = [
        Trial(0, 0, "anywhere", kill_fraction=(slot + rng.random()) / spread)
        for slot in range(spread)
    ]
    plans += [Trial(0, 0, "after finishing") for _ in range(FINISHED_TRIALS)]
    # Publish kills in equal slices of 1.25 publishes: the first slices land
    # while marts are being written, the last one may land after the switch.
    plans += [
        Trial(
            0,
            0,
            "in publish",
            publish_delay_seconds=1.25 * publish_seconds * (slot + rng.random()) / PUBLISH_TRIALS,
        )
        for slot in range(PUBLISH_TRIALS)
    ]
    first, rest = plans[-1], plans[:-1]
    rng.shuffle(rest)
    for number, trial in enumerate([first, *rest], start=1):
        trial.number, trial.state = number, FIRST_DELIVERIES + number
    return [first, *rest]


@dataclass
class CrashRun:
    raw: GrowingRawFolder
    work_dir: Path
    export_dir: Path
    trials: list[Trial]
    reads: list[Read]
    state_of_build: dict[str, int]
    first_build_seconds: float
    publish_seconds: float


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> CrashRun:
    base = tmp_path_factory.mktemp("crash_safety")
    deliveries = generate_demo(
        base / "deliveries", "story", weeks=DELIVERIES, tasks_per_week=TASKS_PER_DELIVERY, seed=3
    )
    raw = GrowingRawFolder(deliveries, base / "raw", base / "states")
    work_dir = base / "work"
    export_dir = work_dir / "marts_parquet"
    for _ in range(FIRST_DELIVERIES):
        raw.deliver_next()

    started = time.monotonic()
    first = run_dbt_build(raw.path, work_dir)
    first_build_seconds = time.monotonic() - started
    assert not first.unexpected_failures(), first.describe()
    snapshot = marts_snapshot.current_snapshot(export_dir)
    state_of_build = {snapshot.build_id: raw.delivered}
    # How long the publish took: from the snapshot folder's first file to the switch.
    publish_seconds = (export_dir / "current.json").stat().st_mtime - (
        snapshot.folder / "_build_0.json"
    ).stat().st_mtime

    trials = kill_plans(random.Random(SEED), publish_seconds)
    runner = Trials(raw, work_dir, first_build_seconds)
    reader = Reader(export_dir)
    reader.start()
    try:
        for trial in trials:
            raw.deliver_next()
            after = runner.run(trial)
            state_of_build.setdefault(after.build_id, trial.state)
            expected = raw.expected_task_count(state_of_build[after.build_id])
            if after.row_counts["fct_task_runs"] != expected:
                trial.problems.append(
                    f"fct_task_runs has {after.row_counts['fct_task_runs']} tasks,"
                    f" reference {expected} for state {state_of_build[after.build_id]}"
                )
    finally:
        reader.stop()
    return CrashRun(
        raw,
        work_dir,
        export_dir,
        trials,
        reader.reads,
        state_of_build,
        first_build_seconds,
        publish_seconds,
    )


def describe_trials(trials: list[Trial]) -> str:
    return "\n".join(
        f"trial {trial.number:2d} ({trial.kill_plan}, at {trial.killed_after_seconds:.2f}s):"
        f" killed {trial.phase}, {trial.outcome}"
        for trial in trials
    )


# ---------------------------------------------------------------------------
# Tests


def test_after_every_kill_the_current_snapshot_is_one_whole_build(crash_run):
    broken = {trial.number: trial.problems for trial in crash_run.trials if trial.problems}
    assert not broken, f"{broken}\n{describe_trials(crash_run.trials)}"


def test_kills_landed_before_and_inside_the_publish(crash_run):
    """The trials must have hit the moments that matter, or they prove little."""
    phases = Counter(trial.phase for trial in crash_run.trials)
    print(
        f"\nfirst build {crash_run.first_build_seconds:.1f}s,"
        f" publish {crash_run.publish_seconds:.3f}s"
    )
    print(describe_trials(crash_run.trials))
    assert phases["before the publish"] >= TRIALS // 2, phases
    assert phases["publish, before the switch"] >= 1, phases


def test_readers_during_the_kills_always_saw_one_whole_build(crash_run):
    bad = [read for read in crash_run.reads if read.problems]
    assert not bad, bad[:5]
    builds_seen = Counter(read.build_id for read in crash_run.reads)
    assert len(crash_run.reads) >= 100, f"only {len(crash_run.reads)} reads"
    assert len(builds_seen) >= 2, builds_seen
    # Every build a reader saw was one the trials saw published, holding its data.
    for read in crash_run.reads:
        state = crash_run.state_of_build[read.build_id]
        assert read.task_count == crash_run.raw.expected_task_count(state), (read, state)


def test_a_normal_build_after_the_kills_publishes_the_new_data(crash_run):
    previous = marts_snapshot.current_snapshot(crash_run.export_dir)
    state = crash_run.raw.deliver_next()
    build = run_dbt_build(crash_run.raw.path, crash_run.work_dir)
    assert not build.unexpected_failures(), build.describe()

    current = marts_snapshot.current_snapshot(crash_run.export_dir)
    assert current.build_id == build.run_results["metadata"]["invocation_id"]
    with marts_snapshot.connect(current) as connection:
        assert not snapshot_inconsistencies(current, connection)
    assert current.row_counts["fct_task_runs"] == crash_run.raw.expected_task_count(state)
    # The previous snapshot stays for readers that resolved it; abandoned and
    # older ones are emptied.
    assert live_snapshot_folders(crash_run.export_dir) == {current.build_id, previous.build_id}


def test_a_build_whose_mart_fails_publishes_nothing(crash_run, tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "models" / "marts" / "planted_failure.sql").write_text(
        "select error('this mart fails on purpose') as reason\n"
    )
    current = marts_snapshot.current_snapshot(crash_run.export_dir)
    crash_run.raw.deliver_next()
    build = run_dbt_build(crash_run.raw.path, crash_run.work_dir, project_dir=project)

    assert build.node_statuses()["model.agent_segments.planted_failure"] == "error"
    assert "Marts not published" in build.output
    after = marts_snapshot.current_snapshot(crash_run.export_dir)
    assert after == current
    with marts_snapshot.connect(after) as connection:
        assert not snapshot_inconsistencies(after, connection)


@pytest.mark.parametrize(
    ("extra_args", "reason"),
    [
        (["--select", "fct_task_runs"], "marts not built by this invocation"),
        (["--empty"], "an --empty build"),
    ],
)
def test_a_partial_or_empty_build_publishes_nothing(crash_run, extra_args, reason):
    current = marts_snapshot.current_snapshot(crash_run.export_dir)
    build = run_dbt_build(crash_run.raw.path, crash_run.work_dir, extra_args=extra_args)

    assert not build.unexpected_failures(), build.describe()
    assert reason in build.output
    assert marts_snapshot.current_snapshot(crash_run.export_dir) == current
