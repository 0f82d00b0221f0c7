# agent_segments: two commands do everything on a fresh machine.
#   make demo   set up, generate demo logs, dbt build, report the failing segments
#   make test   set up, lint, and run every test (what .ci/run runs)

PYTHON ?= python3
VENV := .venv
# A DuckDB 1.x client on its own, as BI drivers bundle it: tests read the marts with it.
VENV_DUCKDB1 := .venv-duckdb1
BIN := $(VENV)/bin
DEMO_DATA := data/demo

export AGENT_SEGMENTS_DB ?= data/agent_segments.duckdb
# The salt of the user and customer pseudonyms (docs/privacy.md). The demo's is
# public, so its pseudonyms protect nothing: set your own secret for real logs.
export AGENT_SEGMENTS_ID_SALT ?= agent-segments-demo-salt-not-secret
# dbt reads profiles.yml from this folder; no ~/.dbt needed.
export DBT_PROFILES_DIR := $(CURDIR)
export DO_NOT_TRACK := 1

.PHONY: demo test setup lint format browser dashboard dashboard-install clean

# Great Expectations checks the raw delivery first (an unusable one stops here);
# dbt build exits 1 when the gap test finds segments in alert, which is the
# demo's point, so the report decides: it fails only on any other failure.
demo: setup $(DEMO_DATA)/.generated
	@mkdir -p $(dir $(AGENT_SEGMENTS_DB))
	$(BIN)/python scripts/validate_raw.py $(DEMO_DATA)
	$(BIN)/dbt build --vars '{raw_path: $(DEMO_DATA)}' || true
	$(BIN)/python scripts/report_segments.py --run-results target/run_results.json

# CI: lint, the demo end to end, the semantic layer against the built
# warehouse, then every test.
test: setup lint browser dashboard-install demo
	$(BIN)/mf validate-configs
	$(BIN)/python -m pytest

setup: $(VENV)/.installed $(VENV_DUCKDB1)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark]"
	touch $@

$(VENV_DUCKDB1)/.installed:
	$(PYTHON) -m venv $(VENV_DUCKDB1)
	$(VENV_DUCKDB1)/bin/python -m pip install --quiet "duckdb==1.5.6"
	touch $@

$(DEMO_DATA)/.generated: scripts/generate_demo_data.py | setup
	$(BIN)/python scripts/generate_demo_data.py --out $(DEMO_DATA)
	touch $@

# sqlfluff's dbt templater compiles every model, which lists the raw files:
# it lints against the demo data and a scratch warehouse.
lint: setup $(DEMO_DATA)/.generated
	$(BIN)/ruff check scripts tests dashboards/src/data
	$(BIN)/ruff format --check scripts tests dashboards/src/data
	$(BIN)/dbt --warn-error parse
	AGENT_SEGMENTS_DB=target/lint.duckdb $(BIN)/sqlfluff lint models tests/assert_*.sql analyses

# Headless Chromium opens the Data Docs and the dashboard in tests. Installed
# from Debian when missing and we may (CI runs as root); tests that need it
# skip with a reason otherwise.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
		&& (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium not installed: browser tests will be skipped"; }

format: setup
	$(BIN)/ruff format scripts tests dashboards/src/data
	$(BIN)/ruff check --fix scripts tests dashboards/src/data

# The dashboard (dashboards/, Observable Framework) on the warehouse make demo built.
dashboard: setup
	$(MAKE) -C dashboards build

dashboard-install:
	$(MAKE) -C dashboards install

clean:
	rm -rf target logs data $(VENV) $(VENV_DUCKDB1)
