"""dbt docs are complete: every model, seed, source, macro and mart column has a
description, and the overview page and exposures exist.

Read from the manifest of a real build (the story demo) and the columns the
marts actually have in the warehouse, so a new mart column without a
description fails here.
"""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def built(dbt_build, story_raw):
    build = dbt_build(story_raw)
    assert not build.unexpected_failures(), build.describe()
    manifest_path = build.db_path.parent / "target" / "manifest.json"
    return build, json.loads(manifest_path.read_text())


def own_nodes(manifest, resource_type):
    return {
        unique_id: node
        for unique_id, node in {**manifest["nodes"], **manifest["sources"]}.items()
        if node["resource_type"] == resource_type and node["package_name"] == "agent_segments"
    }


@pytest.mark.parametrize("resource_type", ["model", "seed", "source"])
def test_every_node_is_described(built, resource_type):
    _, manifest = built
    nodes = own_nodes(manifest, resource_type)
    assert nodes
    undescribed = sorted(uid for uid, node in nodes.items() if not node["description"].strip())
    assert not undescribed


ADAPTER_PREFIXES = ("default__", "duckdb__", "spark__", "postgres__")


def test_every_macro_is_described(built):
    """Dispatched implementations (default__x, duckdb__x, ...) share their macro's entry."""
    _, manifest = built
    macros = {
        uid: macro
        for uid, macro in manifest["macros"].items()
        if macro["package_name"] == "agent_segments"
        and not macro["name"].startswith(ADAPTER_PREFIXES)
    }
    assert macros
    undescribed = sorted(uid for uid, macro in macros.items() if not macro["description"].strip())
    assert not undescribed


def test_every_mart_column_is_described(built):
    build, manifest = built
    marts = {
        node["alias"]: node
        for node in own_nodes(manifest, "model").values()
        if node["schema"] == "marts"
    }
    columns = build.query(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'marts'"
    )
    undescribed = []
    for table_name, column_name in columns.itertuples(index=False):
        documented = marts[table_name]["columns"].get(column_name, {}).get("description", "")
        if not documented.strip():
            undescribed.append(f"{table_name}.{column_name}")
    assert set(columns["table_name"]) == set(marts), "a mart is missing from the warehouse"
    assert not undescribed


def test_overview_and_exposures(built):
    _, manifest = built
    overview = [doc for doc in manifest["docs"].values() if doc["name"] == "__overview__"]
    assert any(doc["package_name"] == "agent_segments" for doc in overview)
    exposures = {exposure["name"] for exposure in manifest["exposures"].values()}
    assert {"segment_dashboard", "alert_delivery", "findings_report"} <= exposures
