"""Tests for scripts/generate_demo_data.py.

Expected figures are recomputed here from the written files with plain json/pandas and the
seeds, following docs/definitions.md; nothing is taken from the generator's internals.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_ROOT / "scripts" / "generate_demo_data.py"
SEEDS = PROJECT_ROOT / "seeds"
CONTRACT_FIELDS = {
    "task_run_id",
    "task_id",
    "attempt",
    "agent_name",
    "agent_version",
    "task_type",
    "user_id",
    "team",
    "customer_id",
    "started_at",
    "finished_at",
    "status",
    "input",
    "request_text",
    "error_type",
    "latency_ms",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "attributes",
}
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
WEEK_FILES = [
    "task_runs_2026-09-07",
    "task_runs_2026-09-14",
    "task_runs_2026-09-21",
    "task_runs_2026-09-28",
    "task_runs_2026-10-05",
    "task_runs_2026-10-12",
    "task_runs_2026-10-19",
    "task_runs_2026-10-26",
]


def _load_generator():
    spec = importlib.util.spec_from_file_location("generate_demo_data", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
REQUIRED = pd.read_csv(SEEDS / "required_input_fields.csv").groupby("task_type")["field_name"]
REQUIRED_FIELDS = {task_type: list(fields) for task_type, fields in REQUIRED}
OUTCOMES = pd.read_csv(SEEDS / "task_status_outcomes.csv").set_index("raw_status")["outcome"]


def read_records(folder: Path) -> list[dict]:
    """Every record of every task_runs file, input/attributes as dicts."""
    records: list[dict] = []
    for path in sorted(folder.glob("task_runs_*")):
        if path.suffix == ".jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            records += [json.loads(line) for line in lines if line.strip()]
        else:
            frame = pd.read_parquet(path)
            for record in frame.to_dict(orient="records"):
                record["input"] = json.loads(record["input"])
                record["attributes"] = json.loads(record["attributes"])
                records.append({k: (None if _is_na(v) else v) for k, v in record.items()})
    return records


def _is_na(value: object) -> bool:
    return not isinstance(value, (dict, list)) and bool(pd.isna(value))


def missing_count(record: dict) -> int:
    """Required fields of the task type that are absent, null, blank or empty (definitions 4)."""
    count = 0
    for field in REQUIRED_FIELDS.get(record["task_type"], []):
        value = record["input"].get(field)
        blank = isinstance(value, str) and not value.strip()
        empty = isinstance(value, (list, dict)) and not value
        if value is None or blank or empty:
            count += 1
    return count


def counted_tasks(folder: Path) -> pd.DataFrame:
    """One row per task (its highest attempt), cancelled/excluded tasks dropped."""
    runs = pd.DataFrame(read_records(folder))
    runs["n_missing"] = [missing_count(r) for r in runs.to_dict(orient="records")]
    runs = runs.sort_values(["task_id", "attempt", "started_at", "task_run_id"])
    tasks = runs.groupby("task_id").tail(1).copy()
    tasks["outcome"] = tasks["status"].str.strip().str.lower().map(OUTCOMES)
    assert tasks["outcome"].notna().all()
    tasks = tasks[tasks["outcome"] != "excluded"].copy()
    tasks["success"] = tasks["outcome"] == "success"
    return tasks


def run(folder: Path, **kwargs) -> dict:
    args = {"profile": "story", "weeks": 2, "tasks_per_week": 150, "seed": 7}
    args |= kwargs
    return gen.generate(
        folder,
        args["profile"],
        args["weeks"],
        args["tasks_per_week"],
        args["seed"],
        args.get("file_format", "jsonl"),
    )


@pytest.fixture(scope="module")
def story_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("story")
    gen.generate(folder, "story", 8, 350, 7, "jsonl")  # the default run
    return folder


@pytest.fixture(scope="module")
def healthy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("healthy")
    gen.generate(folder, "healthy", 8, 350, 7, "jsonl")
    return folder


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    for file_format in ("jsonl", "parquet"):
        first, second = tmp_path / f"a_{file_format}", tmp_path / f"b_{file_format}"
        run(first, file_format=file_format)
        run(second, file_format=file_format)
        names = sorted(p.name for p in first.iterdir())
        assert names == sorted(p.name for p in second.iterdir())
        for name in names:
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
    other = tmp_path / "other_seed"
    run(other, seed=8)
    assert (other / "task_runs_2026-09-07.jsonl").read_bytes() != (
        tmp_path / "a_jsonl" / "task_runs_2026-09-07.jsonl"
    ).read_bytes()


def test_records_follow_the_raw_contract(story_dir: Path) -> None:
    assert sorted(p.name for p in story_dir.glob("task_runs_*")) == [
        f"{name}.jsonl" for name in WEEK_FILES
    ]
    customers = pd.read_csv(story_dir / "customers.csv")
    users = pd.read_csv(story_dir / "users.csv")
    assert list(customers.columns) == ["customer_id", "customer_name", "tier", "industry", "region"]
    assert list(users.columns) == ["user_id", "email", "team", "role"]
    assert set(customers["tier"]) <= {"free", "pro", "enterprise"}
    raw_statuses = set(OUTCOMES.index)
    for path in sorted(story_dir.glob("task_runs_*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            record = json.loads(line)
            where = f"{path.name}:{number}"
            assert isinstance(record, dict), where
            assert set(record) >= CONTRACT_FIELDS, (where, CONTRACT_FIELDS - set(record))
            assert record["task_type"] in REQUIRED_FIELDS, where
            assert record["status"] in raw_statuses, where
            assert TIMESTAMP_RE.match(record["started_at"]), where
            assert TIMESTAMP_RE.match(record["finished_at"]), where
            assert record["finished_at"] >= record["started_at"], where
            assert isinstance(record["attempt"], int) and record["attempt"] >= 1, where
            for field in ("latency_ms", "input_tokens", "output_tokens"):
                assert isinstance(record[field], int) and record[field] > 0, (where, field)
            assert isinstance(record["cost_usd"], float) and record["cost_usd"] > 0, where
            assert isinstance(record["input"], dict), where
            assert set(record["attributes"]) == {"model", "region", "channel"}, where
            assert (OUTCOMES[record["status"]] == "failure") == (record["error_type"] is not None)
    records = read_records(story_dir)
    assert {r["customer_id"] for r in records} <= set(customers["customer_id"])
    assert {r["user_id"] for r in records} <= set(users["user_id"])
    assert {r["agent_version"] for r in records} == {"2.3.0", "2.4.0"}


def test_task_run_ids_are_unique(story_dir: Path) -> None:
    ids = [r["task_run_id"] for r in read_records(story_dir)]
    assert len(ids) == len(set(ids))


def test_jsonl_and_parquet_hold_the_same_records(tmp_path: Path) -> None:
    summary_jsonl = run(tmp_path / "jsonl", weeks=3, tasks_per_week=120)
    summary_parquet = run(tmp_path / "parquet", weeks=3, tasks_per_week=120, file_format="parquet")
    assert summary_jsonl["rows"] == summary_parquet["rows"]
    assert [Path(f).stem for f in summary_jsonl["files"]] == WEEK_FILES[:3]
    assert [Path(f).stem for f in summary_parquet["files"]] == WEEK_FILES[:3]
    from_jsonl = read_records(tmp_path / "jsonl")
    from_parquet = read_records(tmp_path / "parquet")
    assert len(from_jsonl) == summary_jsonl["rows"]
    assert from_jsonl == from_parquet


def test_story_profile_has_the_northwind_gap(story_dir: Path) -> None:
    tasks = counted_tasks(story_dir)
    overall = tasks["success"].mean()
    assert 0.92 <= overall <= 0.95
    northwind = tasks[tasks["customer_id"] == "cust_northwind"]
    assert len(northwind) >= 150
    assert 0.5 <= northwind["success"].mean() <= 0.7
    failures = tasks[~tasks["success"]]
    assert (failures["n_missing"] >= 3).mean() >= 0.6
    # No other customer with 30+ tasks sits 15 points below the overall rate.
    by_customer = tasks.groupby("customer_id")["success"].agg(["size", "mean"])
    others = by_customer.drop(index="cust_northwind")
    assert (others.loc[others["size"] >= 30, "mean"] >= overall - 0.15).all()


def test_healthy_profile_has_no_real_gaps(healthy_dir: Path) -> None:
    tasks = counted_tasks(healthy_dir)
    overall = tasks["success"].mean()
    assert 0.92 <= overall <= 0.96
    by_customer = tasks.groupby("customer_id")["success"].agg(["size", "mean"])
    assert len(by_customer) >= 200
    assert (by_customer["size"] < 10).sum() >= 100  # a long tail of small customers
    big = by_customer[by_customer["size"] >= 30]
    assert len(big) >= 5
    assert ((big["mean"] - overall).abs() <= 0.10).all(), big


def test_rerun_replaces_its_own_files_and_refuses_foreign_ones(tmp_path: Path) -> None:
    run(tmp_path, weeks=3, tasks_per_week=20)
    run(tmp_path, weeks=2, tasks_per_week=20, file_format="parquet")
    assert sorted(p.name for p in tmp_path.glob("task_runs_*")) == [
        f"{name}.parquet" for name in WEEK_FILES[:2]
    ]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "task_runs_real.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        run(foreign, weeks=1, tasks_per_week=20)


def test_cli_prints_a_summary_and_rejects_bad_arguments(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, str(SCRIPT), *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    ok = cli("--out", str(tmp_path / "cli"), "--weeks", "1", "--tasks-per-week", "30", "--quiet")
    assert ok.returncode == 0, ok.stderr
    assert len(ok.stdout.strip().splitlines()) == 1
    assert "1 jsonl files" in ok.stdout and str(tmp_path / "cli") in ok.stdout
    for bad in (["--weeks", "0"], ["--tasks-per-week", "x"], ["--profile", "nope"]):
        result = cli("--out", str(tmp_path / "bad"), *bad)
        assert result.returncode != 0, bad
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "bad").exists()
    assert cli("--help").returncode == 0
