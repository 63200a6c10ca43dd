# Two entry points (see README.md): `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo tour test lint bench clean postgres chromium java validate r

$(BIN)/atopic: pyproject.toml
	$(PYTHON) -m venv $(VENV) || (apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV))
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(BIN)/atopic
	$(BIN)/atopic serve --demo --db atopic-demo.db

tour: $(BIN)/atopic
	$(BIN)/atopic instruments
	$(BIN)/atopic score easi --input examples/easi.json
	$(BIN)/atopic score scorad --input examples/scorad.jsonl
	$(BIN)/atopic score poem --input examples/poem.jsonl
	$(BIN)/atopic diagnose --input examples/diagnosis.jsonl
	$(BIN)/atopic responder EASI-75 --baseline 24.3 --value 6.05
	@# The wide CSV holds one invalid row on purpose: it lands in the rejects file, with its reason,
	@# and the command exits with status 1 to say so.
	$(BIN)/atopic score easi --csv examples/easi_wide.csv --out out/easi_scored.csv \
		|| echo "(exit status 1: a row was rejected, as intended for this example)"
	@echo "--- out/easi_scored.rejects.csv"; cat out/easi_scored.rejects.csv
	@# The registry: a synthetic 36-subject trial, its audit chain, and a blinded export.
	rm -f out/demo.db out/demo.db-wal out/demo.db-shm
	$(BIN)/atopic demo --db out/demo.db
	$(BIN)/atopic db verify --db out/demo.db
	ATOPIC_PASSWORD=demo-statistician-password $(BIN)/atopic export tables --db out/demo.db \
		--out out/tables --format csv --as statistician
	@# Trial analytics: lock the demo registry, then the statistician analyses it; and a synthetic
	@# dose-ranging trial (placebo + 4 doses) analysed from files. Open out/*/report.html.
	ATOPIC_PASSWORD=demo-admin-password $(BIN)/atopic db lock --db out/demo.db --as admin
	ATOPIC_PASSWORD=demo-statistician-password $(BIN)/atopic analyze --db out/demo.db \
		--as statistician --design examples/trial/design.toml --out out/demo-analysis
	$(BIN)/atopic synth --design examples/trial/dose_ranging.toml --subjects 300 --seed 7 \
		--out out/dose-ranging
	$(BIN)/atopic analyze --tables out/dose-ranging --design examples/trial/dose_ranging.toml \
		--out out/dose-ranging-analysis

lint: $(BIN)/atopic
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The registry tests start a real PostgreSQL server from Debian's packages.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

# The browser tests drive Debian's Chromium with Playwright (no browser download).
chromium:
	@test -x /usr/bin/chromium || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The Spark engine's test runs PySpark in local mode, which needs a Java runtime (17 or later).
java:
	@command -v java >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		default-jre-headless >/dev/null)

test: lint postgres chromium java
	$(BIN)/pytest -n 2 -q

bench: $(BIN)/atopic
	$(BIN)/python benchmarks/bench_scoring.py

# The statistics are checked against R: `make validate` regenerates every validation/*/expected.json
# from the committed synthetic data with Debian's R packages (the tests compare without R).
r:
	@command -v Rscript >/dev/null 2>&1 && \
		Rscript -e 'library(nlme); library(emmeans); library(DoseFinding); library(mice); library(jsonlite)' \
		>/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends r-base-core r-cran-nlme r-cran-emmeans r-cran-dosefinding r-cran-mice \
		r-cran-jsonlite r-cran-survival >/dev/null)

validate: $(BIN)/atopic r
	@for script in validation/*/generate.R; do echo "== $$script"; (cd $$(dirname $$script) && Rscript generate.R) || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
