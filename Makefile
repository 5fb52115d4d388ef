# deskpulse: `make demo` and `make test` on a fresh clone; everything installs into .venv.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)

.PHONY: install manifest demo dev test test-slow test-all lint lineage generate bench-transform bench-ingest bench-run clean

install: $(STAMP)

# uv installs what pip would, in seconds; it compiles the bytecode as pip does, so the test workers
# and dbt's processes do not each compile every module they import
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

# dagster-dbt loads the dbt manifest when Definitions load; prepare it whenever dbt files change.
manifest: $(MANIFEST)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	$(BIN)/dagster-dbt project prepare-and-package --file assets/project.py

demo: manifest
	$(BIN)/deskpulse demo

dev: manifest
	$(BIN)/deskpulse dev

lineage: manifest
	$(BIN)/deskpulse lineage

# the dbt sources yml and docs/raw_contract.md, from the raw table declarations of each source
generate: $(STAMP)
	$(BIN)/deskpulse generate

# dbt build time of every mart on 1,000,000 loaded tickets, full and after 1% changed (TICKETS=N)
bench-transform: manifest
	$(BIN)/deskpulse bench transform --tickets $(or $(TICKETS),1000000)

# extract + load of 1,000,000 tickets from a fake Zendesk: rows/s, requests, peak RSS (TICKETS=N)
bench-ingest: $(STAMP)
	$(BIN)/deskpulse bench ingest --tickets $(or $(TICKETS),1000000)

# whole runs on 1,000,000 tickets: full, after one day of changes, nothing new; time and memory per stage (TICKETS=N)
bench-run: manifest
	$(BIN)/deskpulse bench run --tickets $(or $(TICKETS),1000000)

lint: $(STAMP)
	$(BIN)/ruff check .

# The fast lane keeps its homes (warehouses, Dagster's SQLite storage, dlt's files) in memory where
# the machine has a tmpfs: what it tests is the same, without waiting on the disk for every commit.
# The slow lane's crash and stop trials keep theirs on disk, as an operator's are.
TEST_TMPDIR := $(firstword $(wildcard /dev/shm) $(TMPDIR) /tmp)

# the fast lane: unit tests, dbt tests on hand-worked rows, ingest tests and one small end-to-end
# world, built once per session and read by every test of a run's results (tests/conftest.py); one
# pytest worker per core, each module whole on one, the shared world's readers first and together
test: manifest lint
	TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest -m "not slow" -n auto --dist loadscope --no-loadscope-reorder

# the slow lane: crash, stop and fault trials, worlds of their own, jobs run on a copy of the shared
# world, benchmark smoke runs; one worker per core, as the fast lane, with the homes on disk
test-slow: manifest
	$(BIN)/pytest -m slow -n auto --dist loadscope

# both lanes, as CI runs them (.ci/run)
test-all: test test-slow

clean:
	rm -rf .deskpulse dbt_project/target dbt_project/logs .pytest_cache
