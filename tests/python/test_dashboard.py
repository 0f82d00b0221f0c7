"""The dashboard (dashboards/, Observable Framework) on the story demo's marts.

Builds the dashboard against a dbt build of the story demo (the conftest harness) by a
copy of the project that declares one intervention (so the trends page marks it), serves
the static output on 127.0.0.1 and loads every page in headless Chromium with every other
host unresolvable: each page must render its charts, show the demo's planted problems
(customer cust_northwind, by its pseudonym, and inputs missing 3+ required fields) and
log nothing to the console. Screenshots of the overview and segments pages are checked,
and kept in $AGENT_SEGMENTS_SCREENSHOT_DIR when it is set
(`AGENT_SEGMENTS_SCREENSHOT_DIR=docs/img` refreshes the ones in the docs); a test run
leaves the tree as it was.

Needs node and npm (dashboards/node_modules is installed with `npm ci` if missing; CI
installs it beforehand so the test never needs the network) and Chromium (Debian's
`chromium`, or $CHROMIUM); skipped with the reason when they are missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, STORY_FAILING_CUSTOMER
from test_custom_contract import copy_project

DASHBOARD_DIR = PROJECT_DIR / "dashboards"
SCREENSHOT_DIR = (
    Path(os.environ["AGENT_SEGMENTS_SCREENSHOT_DIR"])
    if os.environ.get("AGENT_SEGMENTS_SCREENSHOT_DIR")
    else None
)
PAGES = ["index", "segments", "combinations", "trends", "inputs"]
SCREENSHOTS = {"index": "dashboard_overview.png", "segments": "dashboard_segments.png"}
EXPECTED_TEXT = [STORY_FAILING_CUSTOMER, "3+"]
INTERVENTION_ID = "fix_northwind_crm"
INTERVENTIONS_CSV = (
    "intervention_id,intervention_date,slice_key,description,expects_gap_closed\n"
    f"{INTERVENTION_ID},2026-09-21,customer={STORY_FAILING_CUSTOMER},"
    "Validate CRM records before the agent runs,false\n"
)
NPM = shutil.which("npm")
NODE = shutil.which("node")
CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
BUILD_TIMEOUT_SECONDS = 300
BROWSER_TIMEOUT_SECONDS = 90
# Chromium with --enable-logging=stderr logs each console message (any level) and each
# uncaught error as "...:INFO:CONSOLE:<line>] "<message>", source: <url> (<line>)".
CONSOLE_LINE = re.compile(r":CONSOLE[:(]")
# Framework shows a cell that threw as an inspector error.
CELL_ERROR = "observablehq--error"

pytestmark = [
    pytest.mark.skipif(
        NODE is None or NPM is None,
        reason="node and npm are needed to build the dashboard (Node 20 or later)",
    ),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is needed to load the dashboard (apt-get install -y chromium)",
    ),
]


def _ensure_node_modules() -> None:
    """`npm ci` when dashboards/node_modules is missing (make -C dashboards install)."""
    if (DASHBOARD_DIR / "node_modules" / ".bin" / "observable").exists():
        return
    completed = subprocess.run(
        [NPM, "ci", "--no-audit", "--no-fund"],
        cwd=DASHBOARD_DIR,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, f"npm ci failed:\n{completed.stdout}\n{completed.stderr}"


def _copy_dashboard(destination: Path) -> Path:
    """The dashboard's sources in `destination`, sharing node_modules and its bundle cache."""
    shutil.copytree(
        DASHBOARD_DIR,
        destination,
        ignore=shutil.ignore_patterns("node_modules", "dist", ".observablehq"),
    )
    (destination / "node_modules").symlink_to(DASHBOARD_DIR / "node_modules")
    bundles = DASHBOARD_DIR / "src" / ".observablehq" / "cache" / "_node"
    if bundles.is_dir():  # bundles of node_modules packages, keyed by version: safe to reuse
        shutil.copytree(bundles, destination / "src" / ".observablehq" / "cache" / "_node")
    return destination


@pytest.fixture(scope="module")
def dashboard_dist(dbt_build, story_raw, tmp_path_factory) -> Path:
    """dist/ of the dashboard built on the story demo's warehouse, with an intervention."""
    project = copy_project(tmp_path_factory.mktemp("dashboard_project") / "project")
    (project / "seeds" / "interventions.csv").write_text(INTERVENTIONS_CSV)
    build = dbt_build(story_raw, project_dir=project)
    assert not build.unexpected_failures(), build.describe()
    interventions = build.table("marts.intervention_effects")
    assert list(interventions["intervention_id"]) == [INTERVENTION_ID]
    _ensure_node_modules()
    work = _copy_dashboard(tmp_path_factory.mktemp("dashboard") / "dashboards")
    dist = work / "dist"
    environment = {
        **os.environ,
        "AGENT_SEGMENTS_DB": str(build.db_path),
        "AGENT_SEGMENTS_PYTHON": sys.executable,
        "AGENT_SEGMENTS_DASHBOARD_OUT": str(dist),
        "OBSERVABLE_TELEMETRY_DISABLE": "1",
    }
    completed = subprocess.run(
        [NODE, "build.mjs"],
        cwd=work,
        env=environment,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"dashboard build failed:\n{output[-6000:]}"
    return dist


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves a folder, recording (path, status) of every request instead of logging."""

    requests: list[tuple[str, int]]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requests.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Server:
    url: str
    requests: list[tuple[str, int]]


@pytest.fixture(scope="module")
def server(dashboard_dist: Path) -> Iterator[Server]:
    requests: list[tuple[str, int]] = []
    handler = type("Handler", (_QuietHandler,), {"requests": requests})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(dashboard_dist)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", requests)
    finally:
        httpd.shutdown()
        httpd.server_close()


def _chromium(url: str, *arguments: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                # Nothing but the local server resolves: the pages must fetch nothing else.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--virtual-time-budget=10000",
                "--enable-logging=stderr",
                "--v=0",
                *arguments,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=BROWSER_TIMEOUT_SECONDS,
            check=False,
        )


@dataclass
class PageLoad:
    dom: str
    console: list[str]
    returncode: int
    stderr: str


@pytest.fixture(scope="module")
def page_loads(server: Server) -> dict[str, PageLoad]:
    """Every page loaded once (in parallel) with --dump-dom and console logging."""

    def load(page: str) -> PageLoad:
        completed = _chromium(f"{server.url}/{page}.html", "--dump-dom")
        console = [line for line in completed.stderr.splitlines() if CONSOLE_LINE.search(line)]
        return PageLoad(completed.stdout, console, completed.returncode, completed.stderr)

    with ThreadPoolExecutor(max_workers=len(PAGES)) as pool:
        return dict(zip(PAGES, pool.map(load, PAGES), strict=True))


def test_build_fetches_nothing_from_the_internet(dashboard_dist: Path):
    """No page, stylesheet or script of the output refers to another host."""
    remote = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import\s+url\(["']?https?:""")
    offenders = [
        str(path.relative_to(dashboard_dist))
        for path in dashboard_dist.rglob("*")
        if path.suffix in {".html", ".css"} and remote.search(path.read_text(errors="replace"))
    ]
    assert not offenders, f"files that load from another host: {offenders}"
    assert not list(dashboard_dist.rglob("_npm")), "an npm: (CDN) import was bundled"
    assert sorted(path.stem for path in dashboard_dist.glob("*.html")) == sorted(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_the_planted_problems_without_console_errors(page, page_loads, server):
    load = page_loads[page]
    assert load.returncode == 0, f"chromium exited {load.returncode}:\n{load.stderr[-3000:]}"
    assert not load.console, f"{page}: console messages:\n" + "\n".join(load.console)
    assert CELL_ERROR not in load.dom, f"{page}: a cell failed:\n{_excerpt(load.dom, CELL_ERROR)}"
    assert 'class="plot-' in load.dom, f"{page}: no chart rendered"
    for text in EXPECTED_TEXT:
        assert text in load.dom, f"{page}: {text!r} is not on the page"
    failed = [(path, status) for path, status in server.requests if status >= 400]
    failed = [(path, status) for path, status in failed if path != "/favicon.ico"]
    assert not failed, f"requests that failed: {failed}"


def test_trends_page_marks_the_intervention(page_loads):
    dom = page_loads["trends"].dom
    assert f"{INTERVENTION_ID}: customer={STORY_FAILING_CUSTOMER}" in dom, (
        "no rule for the intervention"
    )
    assert "Validate CRM records" in dom, "the interventions table is missing"


@pytest.mark.parametrize("page", sorted(SCREENSHOTS))
def test_screenshot_shows_charts(page, server, page_loads, tmp_path):
    """A screenshot of the page, kept in the docs: not blank, with the alert red in it."""
    image_module = pytest.importorskip("PIL.Image")
    shot = tmp_path / SCREENSHOTS[page]
    completed = _chromium(
        f"{server.url}/{page}.html", f"--screenshot={shot}", "--window-size=1400,1800"
    )
    assert shot.exists(), f"no screenshot:\n{completed.stderr[-3000:]}"
    with image_module.open(shot) as image:
        pixels = image.convert("RGB").resize((350, 450))
        colours = pixels.getcolors(maxcolors=350 * 450) or []
    busy = sum(count for count, colour in colours if sum(colour) < 3 * 235)
    assert busy > 0.04 * 350 * 450, f"{page}: the screenshot is nearly blank"
    assert len(colours) > 200, f"{page}: too few colours for charts ({len(colours)})"
    alert_red = sum(count for count, (r, g, b) in colours if r > 170 and g < 90 and b < 90)
    assert alert_red > 0, f"{page}: no alert-red mark (the planted alerts) in the screenshot"
    if SCREENSHOT_DIR is not None:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT_DIR / SCREENSHOTS[page])


def _excerpt(text: str, needle: str, context: int = 400) -> str:
    at = text.find(needle)
    return text[max(0, at - context) : at + context]
