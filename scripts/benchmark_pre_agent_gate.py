"""Measure the pre-agent gate: throughput (records/s) and per-call latency (median, p99).

    python scripts/benchmark_pre_agent_gate.py [--raw-dir data/demo] [--records 200000]

Records come from the task_runs*.jsonl files of --raw-dir (the inputs the
agent really received) when given, else from a synthetic mix built from
seeds/required_input_fields.csv (a quarter of them with a blank, null or
absent field). Runs in one process, after a warm-up; prints the figures
docs/input_validation.md quotes.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pre_agent_gate
import raw_contract as contract


def synthetic_runs(count: int, seed: int = 5) -> list[dict[str, Any]]:
    """Task-run-shaped records for every task type of the seed; ~25% miss something."""
    rng = random.Random(seed)
    required = contract.required_input_fields()
    task_types = sorted(required)
    blanks: list[Any] = [None, "", "   ", [], {}]
    runs = []
    for number in range(count):
        task_type = task_types[number % len(task_types)]
        record: dict[str, Any] = {name: f"{name} value" for name in required[task_type]}
        record["notes"] = "Met with procurement to review the rollout plan. " * 4
        record["annual_revenue"] = 0  # a value: 0 is present
        if rng.random() < 0.25:
            name = rng.choice(required[task_type])
            if rng.random() < 0.5:
                record.pop(name, None)
            else:
                record[name] = rng.choice(blanks)
        runs.append({"task_run_id": f"run_{number}", "task_type": task_type, "input": record})
    return runs


def demo_runs(raw_dir: Path, count: int) -> list[dict[str, Any]]:
    """The {task_run_id, task_type, input} of the raw records, repeated up to `count`."""
    runs = []
    for path in sorted(raw_dir.glob("task_runs*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = contract.parse_json(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                runs.append({key: record.get(key) for key in ("task_run_id", "task_type", "input")})
    if not runs:
        raise SystemExit(f"benchmark_pre_agent_gate.py: no task_runs*.jsonl records in {raw_dir}")
    return [runs[number % len(runs)] for number in range(count)]


def percentile(sorted_values: list[float], share: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(share * (len(sorted_values) - 1))))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmark_pre_agent_gate.py",
        description="Measure the pre-agent gate's throughput and per-call latency.",
    )
    parser.add_argument("--raw-dir", type=Path, help="take records from this raw folder")
    parser.add_argument("--records", type=int, default=200_000, help="records per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="batch runs; the best is kept")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    gate = pre_agent_gate.PreAgentGate()
    load_ms = (time.perf_counter() - started) * 1000
    runs = demo_runs(args.raw_dir, args.records) if args.raw_dir else synthetic_runs(args.records)
    source = str(args.raw_dir) if args.raw_dir else "synthetic records from the seed"

    gate.check_batch(runs[: min(len(runs), 10_000)])  # warm-up
    gc.collect()
    batch_seconds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        results = gate.check_batch(runs)
        batch_seconds.append(time.perf_counter() - started)
    failed = sum(not result.passed for result in results)

    latencies_us = []
    clock = time.perf_counter_ns
    for run in runs:
        task_type, record = run["task_type"], run["input"]
        started_ns = clock()
        gate.check_record(task_type, record)
        latencies_us.append((clock() - started_ns) / 1000)
    latencies_us.sort()

    print(f"pre-agent gate benchmark: {len(runs):,} records ({source}), {failed:,} fail the gate")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"seed load (once per process): {load_ms:.2f} ms")
    print(f"check_batch throughput: {len(runs) / min(batch_seconds):,.0f} records/s")
    print(
        f"check_record latency: median {statistics.median(latencies_us):.2f} us, "
        f"p99 {percentile(latencies_us, 0.99):.2f} us, max {latencies_us[-1]:.1f} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
