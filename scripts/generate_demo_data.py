"""Generate deterministic demo raw task logs in the raw contract of docs/definitions.md.

Writes one ``task_runs_<monday>.jsonl`` (or ``.parquet``) file per week plus ``customers.csv``
and ``users.csv`` and a small ``_manifest.json`` recording how the folder was produced.

Profiles:

* ``story``: ~93-94% completion overall; one enterprise customer (``cust_northwind``) has sparse
  CRM records and completes ~60% of its tasks. Completion depends on the number of required
  input fields that are missing, so most failures sit in the ``3+`` missing bucket; every other
  segment stays near the aggregate.
* ``healthy``: a flat ~94% success rate independent of every attribute, spread over hundreds
  of small segments (Zipf-sized customers, many users). No segment truly differs.
* ``interaction``: a flat ~94% except one combination: enterprise-tier tasks with 3+ required
  fields missing complete ~56%. Each attribute alone looks mild (enterprise ~3-4 points below
  the aggregate, ``3+`` missing ~6 points below); together they sit ~37 points below. The
  enterprise tasks are spread over dozens of similar-sized customers, so no single customer
  carries the combination.

Usable as a CLI (``--help``) or as a library: ``generate(out_dir, profile, weeks,
tasks_per_week, seed, file_format)`` returns a summary dict.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cli_support import OneLineParser, positive_int
from tqdm import tqdm

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUIRED_FIELDS_SEED = PROJECT_ROOT / "seeds" / "required_input_fields.csv"
DEFAULT_OUT = "data/demo"
MANIFEST_NAME = "_manifest.json"
FIRST_MONDAY = date(2026, 9, 7)
MAX_TASKS_PER_WEEK = 5_000_000
TASK_FILE_RE = re.compile(r"^task_runs.*\.(jsonl|parquet)$")

TASK_TYPES = ("account_summary", "renewal_forecast", "support_triage", "outreach_email")
TEAMS = ("sales", "success", "support", "marketing")
TEAM_USER_SHARE = (0.35, 0.25, 0.25, 0.15)
# Task-type mix per team, columns in TASK_TYPES order.
TEAM_TASK_MIX = np.array(
    [
        [0.45, 0.20, 0.00, 0.35],  # sales
        [0.35, 0.45, 0.10, 0.10],  # success
        [0.15, 0.00, 0.85, 0.00],  # support
        [0.20, 0.00, 0.00, 0.80],  # marketing
    ]
)
TEAM_ROLES = {
    "sales": ("account_executive", "sales_development_rep", "sales_manager"),
    "success": ("customer_success_manager", "customer_success_manager", "success_lead"),
    "support": ("support_engineer", "support_engineer", "support_lead"),
    "marketing": ("marketing_specialist", "marketing_manager"),
}
AGENT_NAME = "crm-copilot"
AGENT_VERSIONS = ("2.3.0", "2.4.0")
MODELS = ("gpt-4.1", "claude-sonnet-4", "gemini-2.5-flash")
MODEL_SHARE = (0.5, 0.35, 0.15)
# USD per million input / output tokens.
MODEL_PRICE = np.array([[2.0, 8.0], [3.0, 15.0], [0.3, 2.5]])
REGIONS = ("eu", "us", "apac")
REGION_SHARE = (0.4, 0.4, 0.2)
CHANNELS = ("slack", "web", "api")
CHANNEL_SHARE = (0.45, 0.35, 0.20)
TIERS = ("free", "pro", "enterprise")
TIER_SHARE = (0.3, 0.45, 0.25)
CRM_SYSTEMS = ("salesforce", "hubspot", "dynamics")

# Failure reasons (error_type) and the raw statuses they are logged with.
ERROR_TYPES = ("missing_context", "tool_error", "timeout", "invalid_output", "rate_limited")
OTHER_ERROR_SHARE = (0.0, 0.45, 0.30, 0.15, 0.10)  # failures not caused by missing context
ERROR_STATUSES = {
    "missing_context": (("incomplete", 0.6), ("failed", 0.4)),
    "tool_error": (("error", 1.0),),
    "timeout": (("timeout", 1.0),),
    "invalid_output": (("failed", 1.0),),
    "rate_limited": (("error", 1.0),),
}
STATUSES = ("completed", "succeeded", "failed", "error", "timeout", "incomplete", "cancelled")
CANCEL_RATE = 0.015
RETRY_RATE = 0.08
DAY_SHARE = (0.19, 0.2, 0.2, 0.19, 0.17, 0.03, 0.02)  # Monday..Sunday
LATENCY_MEDIAN_MS = (18_000, 25_000, 9_000, 12_000)  # per task type
OUTPUT_TOKENS_MEDIAN = (650, 450, 300, 380)  # per task type

NORTHWIND_ID = "cust_northwind"
NORTHWIND_NAME = "Northwind Logistics"

NAME_PREFIXES = (
    "Acme", "Apex", "Aurora", "Bluefin", "Brightwave", "Cedar", "Cobalt", "Copperleaf",
    "Crescent", "Driftwood", "Evergreen", "Falcon", "Fernhill", "Granite", "Harbor", "Helix",
    "Ironbridge", "Juniper", "Keystone", "Lakeshore", "Lumen", "Maple", "Meridian", "Nimbus",
    "Oakridge", "Orchid", "Pinecrest", "Quartz", "Redwood", "Riverbend", "Sapphire",
    "Silverline", "Summit", "Tidewater", "Umber", "Vantage", "Willow", "Zenith", "Cascade",
    "Beacon",
)  # fmt: skip
NAME_SUFFIXES = (
    ("Logistics", "logistics"), ("Freight", "logistics"), ("Foods", "retail"),
    ("Retail", "retail"), ("Health", "healthcare"), ("Clinics", "healthcare"),
    ("Bank", "fintech"), ("Capital", "fintech"), ("Payments", "fintech"),
    ("Manufacturing", "manufacturing"), ("Robotics", "manufacturing"),
    ("Industries", "manufacturing"), ("Software", "software"), ("Labs", "software"),
    ("Analytics", "software"), ("Cloud", "software"), ("Learning", "education"),
    ("Academy", "education"), ("Media", "media"), ("Studios", "media"), ("Energy", "energy"),
    ("Power", "energy"), ("Travel", "hospitality"), ("Hotels", "hospitality"),
    ("Insurance", "insurance"),
)  # fmt: skip
FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "Daniel", "Elena", "Farah", "George", "Hana", "Ivan", "Julia",
    "Kenji", "Laura", "Marco", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samuel", "Tara",
    "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Lena", "Mateo", "Sofia", "Noah",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Becker", "Nguyen", "Okafor", "Rossi", "Kowalski", "Tanaka", "Haddad", "Larsen",
    "Moreau", "Patel", "Garcia", "Schmidt", "Kim", "Novak", "Costa", "Jansen", "Ibrahim",
    "Fischer", "Dubois", "Ortiz", "Lindqvist", "Murphy", "Sato", "Mendes", "Weber", "Khan",
    "Horvat", "Reyes", "Berg",
)  # fmt: skip

USAGE_TRENDS = ("growing", "flat", "declining")
TICKET_SUBJECTS = (
    "Sync with ERP failing since Monday",
    "Dashboard shows stale numbers",
    "Cannot export invoices to CSV",
    "SSO login loops back to the start page",
    "Webhook deliveries delayed",
    "Duplicate contacts after import",
    "Report scheduling stopped working",
    "Mobile app crashes on upload",
    "API rate limit hit during nightly job",
    "Wrong currency on renewal quote",
    "Permissions missing for new team members",
    "Search returns no results for archived deals",
)
PRODUCTS = ("Core CRM", "Analytics Add-on", "Billing", "Integrations API", "Mobile App")
SEVERITIES = ("low", "medium", "high", "critical")
NOTE_SENTENCES = (
    "Met with procurement to review the rollout plan.",
    "Champion changed roles in the spring and a new sponsor is being onboarded.",
    "Usage dipped during the holiday period and recovered in the following weeks.",
    "Requested a security questionnaire before the next renewal.",
    "Open question on volume discounts for the additional regions.",
    "Finance team prefers quarterly invoicing.",
    "Pilot in the warehouse team went well and they want to expand it.",
    "Two escalations last quarter, both closed within the agreed time.",
    "Executive sponsor attends the quarterly business review.",
    "Integration with the data warehouse is planned for next quarter.",
    "They compared us with two competitors during the last evaluation.",
    "Training sessions were booked for the new hires.",
    "Legal is reviewing the updated data processing agreement.",
    "Budget planning for next year starts in the autumn.",
)
# First ask of a request per task type: (prefix, slot, suffix); slot is company, contact or "".
REQUEST_TEMPLATES = {
    "account_summary": (
        ("Summarise the ", "company", " account for my QBR"),
        ("Give me a one-page overview of ", "company", ""),
        ("What changed at ", "company", " this quarter"),
        ("List the open opportunities at ", "company", ""),
        ("Prepare talking points for my call with ", "contact", ""),
    ),
    "renewal_forecast": (
        ("Forecast the renewal for ", "company", ""),
        ("How likely is ", "company", " to renew"),
        ("Estimate the expansion potential at ", "company", ""),
        ("Flag churn risks for ", "company", ""),
    ),
    "support_triage": (
        ("Triage the latest ticket from ", "company", ""),
        ("Classify this ticket from ", "contact", " and suggest a priority"),
        ("Find similar past tickets for ", "company", ""),
        ("Draft a first reply to ", "contact", ""),
    ),
    "outreach_email": (
        ("Write a follow-up email to ", "contact", ""),
        ("Draft an intro email for ", "company", ""),
        ("Write a check-in note to ", "contact", " about the renewal"),
        ("Draft a case-study request for ", "company", ""),
    ),
}
FOLLOW_UPS = (
    "Summarise it in three bullets",
    "Add a next-steps section",
    "Translate it into German",
    "Put the numbers in a table",
    "Keep it under 150 words",
    "Suggest a subject line",
    "Mention the open ticket",
    "List the risks",
)
# Separators between asks; True = the following ask starts lower-case. "? " only follows a
# first ask that is a question (a template starting with QUESTION_WORDS).
ASK_JOINS = (("? ", False), ("; ", True), (" and then ", True), (". Also ", True))
QUESTION_WORDS = ("What ", "How ")
PARTS_SHARE = (0.66, 0.24, 0.10)  # 1, 2, 3 asks
MISSING_REQUEST_RATE = 0.005
MISSING_TEAM_RATE = 0.015
# How a missing required field shows up: absent key, null, "" or whitespace.
MISSING_MODES = ("absent", "null", "empty", "blank")
MISSING_MODE_SHARE = (0.4, 0.3, 0.15, 0.15)
INPUT_LENGTH_MEDIAN = 700  # characters of compact input JSON (target, before clipping)
INPUT_LENGTH_MAX = 6000
NOTE_STEP = 10
NOTE_LENGTHS = INPUT_LENGTH_MAX // NOTE_STEP + 1
NOTE_VARIANTS = 4


@dataclass(frozen=True)
class ProfileSpec:
    """Knobs that distinguish the profiles."""

    name: str
    code: int
    n_customers: int
    n_users: int
    # P(number of missing required fields = 0..5) for ordinary and for the focus customer.
    missing_dist: tuple[float, ...]
    focus_missing_dist: tuple[float, ...] | None
    focus_share: float
    # P(success | missing 0, 1, 2, 3+), among tasks that were not cancelled.
    success_by_missing: tuple[float, float, float, float]
    # Share of customers per tier (TIERS order).
    tier_share: tuple[float, float, float] = TIER_SHARE
    # Customer sizes without a focus customer: Zipf-like (long tail) or lognormal (similar sizes).
    zipf_customers: bool = True
    # A planted interaction: (tier, lowest missing-fields bucket, P(success)) overrides
    # success_by_missing for tasks of customers of that tier with at least that many missing.
    interaction: tuple[str, int, float] | None = None


PROFILES = {
    "story": ProfileSpec(
        name="story",
        code=1,
        n_customers=40,
        n_users=120,
        missing_dist=(0.88, 0.06, 0.03, 0.024, 0.006, 0.0),
        focus_missing_dist=(0.05, 0.07, 0.08, 0.40, 0.30, 0.10),
        focus_share=0.09,
        success_by_missing=(0.985, 0.95, 0.88, 0.52),
    ),
    "healthy": ProfileSpec(
        name="healthy",
        code=2,
        n_customers=300,
        n_users=600,
        missing_dist=(0.86, 0.09, 0.035, 0.012, 0.003, 0.0),
        focus_missing_dist=None,
        focus_share=0.0,
        success_by_missing=(0.94, 0.94, 0.94, 0.94),
    ),
    "interaction": ProfileSpec(
        name="interaction",
        code=3,
        n_customers=300,
        n_users=150,
        # 3+ missing for ~11.5% of every tier's tasks (0..5 missing).
        missing_dist=(0.78, 0.07, 0.035, 0.075, 0.03, 0.01),
        focus_missing_dist=None,
        focus_share=0.0,
        success_by_missing=(0.94, 0.94, 0.94, 0.94),
        tier_share=(0.35, 0.45, 0.20),
        zipf_customers=False,
        interaction=("enterprise", 3, 0.56),
    ),
}


@dataclass
class World:
    """Customers and users of one run (small, built with plain Python)."""

    customers: list[dict[str, Any]]
    users: list[dict[str, str]]
    customer_weights: np.ndarray
    user_weights: np.ndarray
    user_team: np.ndarray  # index into TEAMS
    is_focus: np.ndarray  # per customer
    customer_tokens: dict[str, pa.Array]  # CRM field -> JSON token per customer


def _token(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _pick(rng: np.random.Generator, n: int, shares: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Vectorised categorical draw: n indices distributed by shares."""
    cum = np.cumsum(np.asarray(shares, dtype=float))
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(cum) - 1)


def read_required_fields(path: Path = REQUIRED_FIELDS_SEED) -> dict[str, list[str]]:
    """task_type -> required input fields, in seed order."""
    fields: dict[str, list[str]] = {t: [] for t in TASK_TYPES}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            task_type = row["task_type"].strip()
            if task_type in fields:
                fields[task_type].append(row["field_name"].strip())
    return fields


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _build_world(spec: ProfileSpec, seed: int) -> World:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(spec.code, 0)))
    n_other = spec.n_customers - (1 if spec.focus_missing_dist else 0)
    combos = [(p, s, ind) for p in NAME_PREFIXES for s, ind in NAME_SUFFIXES]
    chosen = rng.choice(len(combos), size=n_other, replace=False)
    customers: list[dict[str, Any]] = []
    if spec.focus_missing_dist:
        customers.append(
            {
                "customer_id": NORTHWIND_ID,
                "customer_name": NORTHWIND_NAME,
                "tier": "enterprise",
                "industry": "logistics",
                "region": "eu",
            }
        )
    tiers = _pick(rng, n_other, spec.tier_share)
    regions = _pick(rng, n_other, REGION_SHARE)
    for i, combo_idx in enumerate(chosen):
        prefix, suffix, industry = combos[combo_idx]
        name = f"{prefix} {suffix}"
        customers.append(
            {
                "customer_id": f"cust_{_slug(name)}",
                "customer_name": name,
                "tier": TIERS[tiers[i]],
                "industry": industry,
                "region": REGIONS[regions[i]],
            }
        )

    # CRM values that belong to the customer (the same in every record of that customer).
    revenue_range = {"free": (1e6, 2e7), "pro": (1e7, 2e8), "enterprise": (2e8, 5e9)}
    contract_range = {"free": (0, 5e3), "pro": (1e4, 1.5e5), "enterprise": (1.5e5, 2e6)}
    values: dict[str, list[Any]] = {
        k: []
        for k in (
            "account_id",
            "company_name",
            "industry",
            "annual_revenue",
            "primary_contact",
            "renewal_date",
            "contract_value",
            "customer_plan",
            "contact_email",
            "crm_system",
        )
    }
    for cust in customers:
        tier = cust["tier"]
        first = FIRST_NAMES[rng.integers(len(FIRST_NAMES))]
        last = LAST_NAMES[rng.integers(len(LAST_NAMES))]
        domain = _slug(cust["customer_name"]).replace("_", "") + ".example"
        lo, hi = revenue_range[tier]
        clo, chi = contract_range[tier]
        renewal = FIRST_MONDAY + timedelta(days=int(rng.integers(30, 400)))
        values["account_id"].append(f"ACC-{rng.integers(100_000, 999_999)}")
        values["company_name"].append(cust["customer_name"])
        values["industry"].append(cust["industry"])
        values["annual_revenue"].append(int(round(float(rng.uniform(lo, hi)), -3)))
        values["primary_contact"].append(f"{first} {last}")
        values["renewal_date"].append(renewal.isoformat())
        values["contract_value"].append(int(round(float(rng.uniform(clo, chi)), -2)))
        values["customer_plan"].append(tier)
        values["contact_email"].append(f"{first.lower()}.{last.lower()}@{domain}")
        values["crm_system"].append(CRM_SYSTEMS[rng.integers(len(CRM_SYSTEMS))])
    customer_tokens = {k: pa.array([_token(v) for v in vs]) for k, vs in values.items()}
    # Raw (unquoted) names for request texts.
    customer_tokens["_name_raw"] = pa.array(values["company_name"])
    customer_tokens["_contact_raw"] = pa.array(values["primary_contact"])

    is_focus = np.array([c["customer_id"] == NORTHWIND_ID for c in customers])
    if spec.focus_missing_dist:
        others = rng.lognormal(0.0, 0.45, size=n_other)
        weights = np.concatenate(
            [[spec.focus_share], others / others.sum() * (1 - spec.focus_share)]
        )
    elif not spec.zipf_customers:  # similar sizes: no customer dominates a segment
        weights = rng.lognormal(0.0, 0.45, size=n_other)
    else:  # Zipf-like: a few big customers, a long tail with a handful of tasks each.
        ranks = rng.permutation(n_other) + 1
        weights = 1.0 / ranks**1.05
    weights = weights / weights.sum()

    user_team = _pick(rng, spec.n_users, TEAM_USER_SHARE)
    users: list[dict[str, str]] = []
    seen: set[str] = set()
    for i in range(spec.n_users):
        team = TEAMS[user_team[i]]
        first = FIRST_NAMES[rng.integers(len(FIRST_NAMES))].lower()
        last = LAST_NAMES[rng.integers(len(LAST_NAMES))].lower()
        email, n = f"{first}.{last}@example.com", 2
        while email in seen:
            email, n = f"{first}.{last}{n}@example.com", n + 1
        seen.add(email)
        roles = TEAM_ROLES[team]
        users.append(
            {
                "user_id": f"u_{i + 1:04d}",
                "email": email,
                "team": team,
                "role": roles[rng.integers(len(roles))],
            }
        )
    user_weights = rng.lognormal(0.0, 0.6, size=spec.n_users)
    return World(
        customers=customers,
        users=users,
        customer_weights=weights,
        user_weights=user_weights / user_weights.sum(),
        user_team=user_team,
        is_focus=is_focus,
        customer_tokens=customer_tokens,
    )


def _note_pool() -> pa.Array:
    """JSON tokens of free-text notes: NOTE_VARIANTS texts, each cut (at a word boundary) to
    0, 10, 20, ... characters; token of variant v, length 10*j at v * NOTE_LENGTHS + j."""
    rng = np.random.default_rng(0)  # fixed: the pool is part of the format, not of the seed
    pool = []
    for _ in range(NOTE_VARIANTS):
        order = np.concatenate([rng.permutation(len(NOTE_SENTENCES)) for _ in range(60)])
        text = " ".join(NOTE_SENTENCES[i] for i in order)
        for length in range(0, NOTE_LENGTHS * NOTE_STEP, NOTE_STEP):
            cut = text[:length]
            if len(text) > length and text[length] != " ":
                cut = cut[: cut.rfind(" ") + 1] if " " in cut else ""
            pool.append(_token(cut.rstrip()))
    return pa.array(pool)


NOTE_POOL = _note_pool()


def _str_array(values: tuple[str, ...]) -> pa.Array:
    return pa.array(list(values), pa.string())


def _take(values: pa.Array | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    arr = values if isinstance(values, pa.Array) else _str_array(values)
    return pc.take(arr, pa.array(idx))


def _json_tokens(values: list[str]) -> pa.Array:
    return pa.array([_token(v) for v in values])


def _build_inputs(
    rng: np.random.Generator,
    world: World,
    required: dict[str, list[str]],
    task_type: np.ndarray,
    cust: np.ndarray,
    n_missing: np.ndarray,
    start_day: np.ndarray,
) -> pa.Array:
    """The CRM record (compact JSON text) each task got, with n_missing required fields missing."""
    n = len(task_type)
    all_fields: list[str] = []
    for t in TASK_TYPES:
        all_fields += [f for f in required[t] if f not in all_fields]
    # code per (task, field): 0 present, 1 absent/not applicable, 2 null, 3 "", 4 whitespace
    code = np.ones((n, len(all_fields)), dtype=np.int8)
    for t_idx, t in enumerate(TASK_TYPES):
        rows = np.flatnonzero(task_type == t_idx)
        fields = required[t]
        if len(rows) == 0 or not fields:
            continue
        cols = np.array([all_fields.index(f) for f in fields])
        scores = rng.random((len(rows), len(fields)))
        rank = np.argsort(np.argsort(scores, axis=1), axis=1)
        missing = rank < n_missing[rows, None]
        mode = _pick(rng, missing.size, MISSING_MODE_SHARE).reshape(missing.shape)
        sub = np.where(missing, (mode + 1).astype(np.int8), np.int8(0))
        code[rows[:, None], cols[None, :]] = sub
    special = pa.array([None, None, "null", '""', '"   "'], pa.string())

    fragments = [
        pc.binary_join_element_wise(
            '"account_id":', _take(world.customer_tokens["account_id"], cust), ""
        )
    ]
    for j, field in enumerate(all_fields):
        if field in world.customer_tokens:
            value = _take(world.customer_tokens[field], cust)
        elif field == "usage_trend":
            value = _take(_json_tokens(list(USAGE_TRENDS)), rng.integers(3, size=n))
        elif field == "ticket_subject":
            value = _take(
                _json_tokens(list(TICKET_SUBJECTS)), rng.integers(len(TICKET_SUBJECTS), size=n)
            )
        elif field == "product":
            value = _take(_json_tokens(list(PRODUCTS)), rng.integers(len(PRODUCTS), size=n))
        elif field == "severity":
            value = _take(_json_tokens(list(SEVERITIES)), _pick(rng, n, (0.35, 0.4, 0.2, 0.05)))
        elif field == "last_interaction":
            days = start_day - rng.integers(1, 90, size=n)
            text = np.datetime_as_string(days.astype("datetime64[D]"), unit="D")
            value = pc.binary_join_element_wise('"', pa.array(text), '"', "")
        else:  # a field added to the seed later: any plausible text
            value = _take(_json_tokens([f"{field} {i}" for i in range(5)]), rng.integers(5, size=n))
        field_code = code[:, j]
        token = pc.if_else(pa.array(field_code == 0), value, pc.take(special, pa.array(field_code)))
        fragments.append(pc.binary_join_element_wise(f'"{field}":', token, ""))
    fragments.append(
        pc.binary_join_element_wise(
            '"crm_system":', _take(world.customer_tokens["crm_system"], cust), ""
        )
    )
    body = pc.binary_join_element_wise(*fragments, ",", null_handling="skip")

    # Free-text notes pad the record to a target length drawn independently of everything else,
    # so input length says nothing about missing fields (records are ~200 chars without notes).
    target = np.clip(rng.lognormal(np.log(INPUT_LENGTH_MEDIAN), 0.6, size=n), 0, INPUT_LENGTH_MAX)
    current = pc.binary_length(body).to_numpy(zero_copy_only=False) + 2
    pad = target - current - len(',"notes":""')
    note_idx = np.clip(pad // NOTE_STEP, 0, NOTE_LENGTHS - 1).astype(np.int64)
    note_idx += rng.integers(NOTE_VARIANTS, size=n) * NOTE_LENGTHS
    notes = pc.if_else(
        pa.array(pad >= NOTE_STEP),
        pc.binary_join_element_wise(',"notes":', pc.take(NOTE_POOL, pa.array(note_idx)), ""),
        "",
    )
    return pc.binary_join_element_wise("{", body, notes, "}", "")


def _build_requests(
    rng: np.random.Generator, world: World, task_type: np.ndarray, cust: np.ndarray
) -> pa.Array:
    n = len(task_type)
    prefixes, slots, suffixes, offsets = [], [], [], []
    for t in TASK_TYPES:
        offsets.append(len(prefixes))
        for prefix, slot, suffix in REQUEST_TEMPLATES[t]:
            prefixes.append(prefix)
            slots.append(slot)
            suffixes.append(suffix)
    counts = np.array([len(REQUEST_TEMPLATES[t]) for t in TASK_TYPES])
    template = np.asarray(offsets)[task_type] + (rng.random(n) * counts[task_type]).astype(int)
    slot = np.array(slots)[template]
    slot_value = pc.if_else(
        pa.array(slot == "company"),
        _take(world.customer_tokens["_name_raw"], cust),
        pc.if_else(
            pa.array(slot == "contact"), _take(world.customer_tokens["_contact_raw"], cust), ""
        ),
    )
    parts = [_take(tuple(prefixes), template), slot_value, _take(tuple(suffixes), template)]
    n_parts = _pick(rng, n, PARTS_SHARE) + 1
    is_question = np.array([p.startswith(QUESTION_WORDS) for p in prefixes])[template]
    follow_texts = [
        sep + (f[0].lower() + f[1:] if lower else f) for sep, lower in ASK_JOINS for f in FOLLOW_UPS
    ]
    for extra in (2, 3):
        # "? " right after a question; otherwise one of the other separators.
        join = rng.integers(1, len(ASK_JOINS), size=n)
        if extra == 2:
            join = np.where(is_question & (rng.random(n) < 0.6), 0, join)
        follow = rng.integers(len(FOLLOW_UPS), size=n)
        piece = _take(tuple(follow_texts), join * len(FOLLOW_UPS) + follow)
        parts.append(pc.if_else(pa.array(n_parts >= extra), piece, ""))
    parts.append(pc.if_else(pa.array(is_question & (n_parts == 1)), "?", ""))
    text = pc.binary_join_element_wise(*parts, "")
    return pc.if_else(
        pa.array(rng.random(n) < MISSING_REQUEST_RATE), pa.scalar(None, pa.string()), text
    )


def _failure(rng: np.random.Generator, n_missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw (error_type index, status index) for failed runs."""
    n = len(n_missing)
    p_context = np.select([n_missing >= 3, n_missing >= 1], [0.85, 0.6], 0.0)
    err = np.where(rng.random(n) < p_context, 0, _pick(rng, n, OTHER_ERROR_SHARE))
    status = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for e_idx, e in enumerate(ERROR_TYPES):
        rows = err == e_idx
        codes = np.array([STATUSES.index(st) for st, _ in ERROR_STATUSES[e]])
        cum = np.cumsum([share for _, share in ERROR_STATUSES[e]])
        status[rows] = codes[np.minimum(np.searchsorted(cum, u[rows], side="right"), len(cum) - 1)]
    return err, status


def _simulate_week(
    spec: ProfileSpec,
    world: World,
    required: dict[str, list[str]],
    seed: int,
    week: int,
    weeks: int,
    tasks_per_week: int,
) -> pa.Table:
    """All runs of one week as a table in the raw contract (input/attributes as JSON text)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(spec.code, 1, week)))
    n = max(1, round(tasks_per_week * rng.uniform(0.94, 1.06)))
    monday = FIRST_MONDAY + timedelta(weeks=week)
    week_start = int(datetime(monday.year, monday.month, monday.day, tzinfo=UTC).timestamp())

    # Tasks, in the order they started.
    day = _pick(rng, n, DAY_SHARE)
    busy = rng.random(n) < 0.8
    second = np.where(busy, rng.normal(13.5 * 3600, 3 * 3600, n), rng.uniform(0, 86_400, n))
    start = np.sort(week_start + day * 86_400 + np.clip(second, 0, 86_399).astype(np.int64))
    user = _pick(rng, n, world.user_weights)
    team = world.user_team[user]
    u = rng.random(n)
    cum = np.cumsum(TEAM_TASK_MIX, axis=1)[team]
    task_type = np.minimum((u[:, None] >= cum).sum(axis=1), len(TASK_TYPES) - 1)
    cust = _pick(rng, n, world.customer_weights)
    focus = world.is_focus[cust]
    n_missing = _pick(rng, n, spec.missing_dist)
    if spec.focus_missing_dist and focus.any():
        n_missing[focus] = _pick(rng, int(focus.sum()), spec.focus_missing_dist)
    n_required = np.array([len(required[t]) for t in TASK_TYPES])[task_type]
    n_missing = np.minimum(n_missing, n_required)
    bucket = np.minimum(n_missing, 3)
    cancelled = rng.random(n) < CANCEL_RATE
    p_success = np.asarray(spec.success_by_missing)[bucket]
    if spec.interaction:
        tier, min_bucket, rate = spec.interaction
        tier_of_customer = np.array([c["tier"] == tier for c in world.customers])
        p_success = np.where(tier_of_customer[cust] & (bucket >= min_bucket), rate, p_success)
    success = ~cancelled & (rng.random(n) < p_success)
    retried = rng.random(n) < RETRY_RATE
    start_day = (start // 86_400).astype(np.int64)
    inputs = _build_inputs(rng, world, required, task_type, cust, n_missing, start_day)
    requests = _build_requests(rng, world, task_type, cust)
    model = _pick(rng, n, MODEL_SHARE)
    channel = _pick(rng, n, CHANNEL_SHARE)
    version = 0 if week < (weeks + 1) // 2 else 1
    task_seq = pc.utf8_lpad(
        pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width=7, padding="0"
    )
    task_key = pc.binary_join_element_wise(f"{monday:%Y%m%d}_", task_seq, "")

    # Runs: every task has its deciding run; retried tasks also a failed first attempt.
    first = np.flatnonzero(retried)
    task_of_run = np.concatenate([np.arange(n), first])
    attempt = np.concatenate([np.where(retried, 2, 1), np.ones(len(first), dtype=np.int64)])
    is_first_of_retry = np.concatenate([np.zeros(n, bool), np.ones(len(first), bool)])
    runs = len(task_of_run)
    run_missing = n_missing[task_of_run]
    run_type = task_type[task_of_run]

    err_idx, fail_status = _failure(rng, run_missing)
    run_success = success[task_of_run] & ~is_first_of_retry
    run_cancelled = cancelled[task_of_run] & ~is_first_of_retry
    run_failed = ~run_success & ~run_cancelled
    success_status = np.where(rng.random(runs) < (0.95 if version == 0 else 0.2), 0, 1)
    status = np.select(
        [run_success, run_cancelled], [success_status, STATUSES.index("cancelled")], fail_status
    )
    error_type = pc.if_else(
        pa.array(run_failed), _take(ERROR_TYPES, err_idx), pa.scalar(None, pa.string())
    )

    latency = np.asarray(LATENCY_MEDIAN_MS)[run_type] * rng.lognormal(0, 0.45, runs)
    latency = np.where(run_failed & (err_idx == 0), latency * 0.5, latency)
    latency = np.where(run_failed & (err_idx == 2), 120_000 + rng.uniform(0, 2_000, runs), latency)
    latency = np.where(run_cancelled, latency * rng.uniform(0.1, 0.8, runs), latency)
    latency = np.maximum(latency, 300).astype(np.int64)
    # A retry starts 20 s to 15 min after its failed first attempt finished.
    duration = -(-latency // 1000)
    retry_delay = np.zeros(n, dtype=np.int64)
    retry_delay[first] = duration[n:] + rng.integers(20, 900, size=len(first))
    run_start = start[task_of_run] + np.where(is_first_of_retry, 0, retry_delay[task_of_run])
    run_finish = run_start + duration

    input_len = pc.binary_length(inputs).to_numpy(zero_copy_only=False)[task_of_run]
    input_tokens = (1_400 + input_len / 3.6 + rng.lognormal(np.log(1_500), 0.6, runs)).astype(
        np.int64
    )
    out_scale = np.select([run_success, run_cancelled], [1.0, 0.3], 0.4)
    output_tokens = np.asarray(OUTPUT_TOKENS_MEDIAN)[run_type] * rng.lognormal(0, 0.35, runs)
    output_tokens = np.maximum(output_tokens * out_scale, 5).astype(np.int64)
    price = MODEL_PRICE[model[task_of_run]]
    cost = np.round((input_tokens * price[:, 0] + output_tokens * price[:, 1]) / 1e6, 6)

    team_idx = pa.array(team[task_of_run])
    run_team = pc.if_else(
        pa.array(rng.random(runs) < MISSING_TEAM_RATE),
        pa.scalar(None, pa.string()),
        pc.take(_str_array(TEAMS), team_idx),
    )
    region_tokens = _json_tokens([c["region"] for c in world.customers])
    attributes = pc.binary_join_element_wise(
        '{"model":',
        _take(_json_tokens(list(MODELS)), model[task_of_run]),
        ',"region":',
        _take(region_tokens, cust[task_of_run]),
        ',"channel":',
        _take(_json_tokens(list(CHANNELS)), channel[task_of_run]),
        "}",
        "",
    )
    run_task_key = pc.take(task_key, pa.array(task_of_run))
    customer_ids = pa.array([c["customer_id"] for c in world.customers])
    user_ids = pa.array([x["user_id"] for x in world.users])
    table = pa.table(
        {
            "task_run_id": pc.binary_join_element_wise(
                "run_", run_task_key, "_", pc.cast(pa.array(attempt), pa.string()), ""
            ),
            "task_id": pc.binary_join_element_wise("task_", run_task_key, ""),
            "attempt": pa.array(attempt, pa.int64()),
            "agent_name": pa.array(np.full(runs, AGENT_NAME)),
            "agent_version": pa.array(np.full(runs, AGENT_VERSIONS[version])),
            "task_type": _take(TASK_TYPES, run_type),
            "user_id": pc.take(user_ids, pa.array(user[task_of_run])),
            "team": run_team,
            "customer_id": pc.take(customer_ids, pa.array(cust[task_of_run])),
            "started_at": pc.strftime(
                pa.array(run_start, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%SZ"
            ),
            "finished_at": pc.strftime(
                pa.array(run_finish, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%SZ"
            ),
            "status": _take(STATUSES, status),
            "error_type": error_type,
            "request_text": pc.take(requests, pa.array(task_of_run)),
            "input": pc.take(inputs, pa.array(task_of_run)),
            "latency_ms": pa.array(latency, pa.int64()),
            "cost_usd": pa.array(cost, pa.float64()),
            "input_tokens": pa.array(input_tokens, pa.int64()),
            "output_tokens": pa.array(output_tokens, pa.int64()),
            "attributes": attributes,
        }
    )
    run_order = np.lexsort((attempt, task_of_run, run_start))
    return table.take(pa.array(run_order))


JSON_COLUMNS = ("input", "attributes")
UNSAFE_JSON_CHARS = r'["\\\x00-\x1f]'


def _column_tokens(name: str, column: pa.Array) -> pa.Array:
    """JSON text of every value of one column (null -> null)."""
    if name in JSON_COLUMNS:
        return column
    if pa.types.is_string(column.type):
        if pc.any(pc.match_substring_regex(column, UNSAFE_JSON_CHARS)).as_py():
            quoted = pa.array([None if v is None else _token(v) for v in column.to_pylist()])
        else:
            quoted = pc.binary_join_element_wise('"', column, '"', "")
    else:
        quoted = pc.cast(column, pa.string())
    return pc.fill_null(quoted, "null")


def _jsonl_bytes(table: pa.Table) -> memoryview:
    """One compact JSON object per line, keys in table column order."""
    parts: list[Any] = []
    for i, name in enumerate(table.column_names):
        parts.append(("{" if i == 0 else ",") + f'"{name}":')
        parts.append(_column_tokens(name, table.column(name).combine_chunks()))
    parts.append("}\n")
    lines = pc.binary_join_element_wise(*parts, "").cast(pa.large_string())
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    return memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row[c] for c in columns})


def _resolve_out(out_dir: str | Path) -> Path:
    path = Path(out_dir).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _prepare_out_dir(out: Path) -> None:
    """Remove this script's earlier output; refuse to mix with task files it did not write."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST_NAME
    ours: set[str] = set()
    if manifest.exists():
        try:
            ours = set(json.loads(manifest.read_text(encoding="utf-8")).get("files", []))
        except (json.JSONDecodeError, AttributeError):
            ours = set()
    foreign = sorted(
        p.name for p in out.iterdir() if TASK_FILE_RE.match(p.name) and p.name not in ours
    )
    if foreign:
        raise FileExistsError(
            f"{out} already holds task files this script did not write ({foreign[0]}"
            f"{', ...' if len(foreign) > 1 else ''}); choose another --out or remove them"
        )
    for name in sorted(ours):
        if TASK_FILE_RE.match(name):
            (out / name).unlink(missing_ok=True)


def generate(
    out_dir: str | Path = DEFAULT_OUT,
    profile: str = "story",
    weeks: int = 8,
    tasks_per_week: int = 350,
    seed: int = 7,
    file_format: str = "jsonl",
    *,
    progress: bool = False,
) -> dict[str, Any]:
    """Write the demo raw logs into out_dir and return a summary.

    A relative out_dir is taken relative to the project root (like dbt's raw_path). Output is a
    pure function of (profile, weeks, tasks_per_week, seed, file_format): byte-identical reruns.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (choose from {', '.join(PROFILES)})")
    if file_format not in ("jsonl", "parquet"):
        raise ValueError(f"unknown format {file_format!r} (choose jsonl or parquet)")
    if not 1 <= weeks <= 520:
        raise ValueError(f"weeks must be between 1 and 520, got {weeks}")
    if not 1 <= tasks_per_week <= MAX_TASKS_PER_WEEK:
        raise ValueError(
            f"tasks-per-week must be between 1 and {MAX_TASKS_PER_WEEK:,}, got {tasks_per_week}"
        )
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")

    spec = PROFILES[profile]
    required = read_required_fields()
    world = _build_world(spec, seed)
    out = _resolve_out(out_dir)
    _prepare_out_dir(out)
    _write_csv(
        out / "customers.csv",
        world.customers,
        ["customer_id", "customer_name", "tier", "industry", "region"],
    )
    _write_csv(out / "users.csv", world.users, ["user_id", "email", "team", "role"])

    files: list[str] = []
    rows = tasks = 0
    bar = tqdm(total=weeks, unit="week", desc=f"{profile} demo data", disable=not progress)
    for week in range(weeks):
        table = _simulate_week(spec, world, required, seed, week, weeks, tasks_per_week)
        monday = FIRST_MONDAY + timedelta(weeks=week)
        name = f"task_runs_{monday.isoformat()}.{file_format}"
        if file_format == "jsonl":
            (out / name).write_bytes(_jsonl_bytes(table))
        else:
            pq.write_table(table, out / name)
        files.append(name)
        rows += table.num_rows
        tasks += int(pc.count_distinct(table.column("task_id")).as_py())
        bar.set_postfix(rows=f"{rows:,}", refresh=False)
        bar.update(1)
    bar.close()

    summary = {
        "out_dir": str(out),
        "profile": profile,
        "format": file_format,
        "seed": seed,
        "weeks": weeks,
        "tasks_per_week": tasks_per_week,
        "files": files,
        "rows": rows,
        "tasks": tasks,
        "customers": len(world.customers),
        "users": len(world.users),
    }
    manifest = {
        "generator": "scripts/generate_demo_data.py",
        **{k: v for k, v in summary.items() if k != "out_dir"},
    }
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return summary


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="generate_demo_data.py",
        description=(
            "Write deterministic demo AI-agent task logs in the raw contract of "
            "docs/definitions.md: one task_runs_<monday>.<format> file per week starting "
            f"{FIRST_MONDAY.isoformat()}, plus customers.csv and users.csv. Profile 'story' has "
            "one customer (cust_northwind) with sparse CRM records and ~60% completion against "
            "~93% overall; 'healthy' is a flat ~94% with hundreds of small segments; 'interaction' "
            "is a flat ~94% except enterprise tasks with 3+ required fields missing (~56%), "
            "a combination neither attribute shows alone. Earlier "
            "output of this script in --out is replaced; other task_runs files there are an error."
        ),
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="story",
        help="data set to generate (default: story)",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"output folder, relative paths from the project root (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--weeks", type=positive_int, default=8, help="number of weekly files (default: 8)"
    )
    parser.add_argument(
        "--tasks-per-week",
        type=positive_int,
        default=350,
        help="about this many tasks per week, +-6%% (default: 350)",
    )
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=7,
        help="random seed; same arguments give identical files (default: 7)",
    )
    parser.add_argument(
        "--format",
        dest="file_format",
        choices=("jsonl", "parquet"),
        default="jsonl",
        help="file format (default: jsonl)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = generate(
            args.out,
            args.profile,
            args.weeks,
            args.tasks_per_week,
            args.seed,
            args.file_format,
            progress=not args.quiet and sys.stderr.isatty(),
        )
    except ValueError as exc:
        print(f"generate_demo_data.py: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"generate_demo_data.py: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {len(summary['files'])} {summary['format']} files ({summary['rows']:,} runs, "
        f"{summary['tasks']:,} tasks, profile {summary['profile']}, seed {summary['seed']}) "
        f"+ customers.csv, users.csv to {summary['out_dir']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
