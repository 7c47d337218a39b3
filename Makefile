# citygrid — two commands: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
NPMSTAMP := static/vendor/.installed
export DJANGO_SETTINGS_MODULE := citygrid.settings

.PHONY: demo test setup lint bench bench-geocode bench-intake bench-inventory bench-assess bench-load audit clean serve

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

$(NPMSTAMP): package.json package-lock.json scripts/vendor_static.sh
	npm ci --no-audit --no-fund --loglevel=error
	sh scripts/vendor_static.sh
	touch $(NPMSTAMP)

setup: $(STAMP) $(NPMSTAMP)
	$(BIN)/citygrid compilemessages -v 0 --ignore '.venv/*' --ignore 'node_modules/*'

demo: setup
	$(BIN)/citygrid migrate --noinput -v 0
	$(BIN)/citygrid demo_setup $(DEMO_ARGS)
	BIN=$(BIN) sh scripts/demo_serve.sh 127.0.0.1:8000

test: setup
	$(BIN)/ruff check citygrid tests bench
	$(BIN)/mypy
	$(BIN)/citygrid makemigrations --check --dry-run -v 1
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

bench: setup bench-geocode bench-intake bench-inventory bench-assess

bench-geocode: setup
	$(BIN)/python bench/geocode.py

bench-intake: setup
	$(BIN)/python bench/intake.py $(BENCH_ARGS)

bench-inventory: setup
	$(BIN)/python bench/inventory.py $(BENCH_ARGS)

bench-assess: setup
	$(BIN)/python bench/assess.py $(BENCH_ARGS)

# Not in `bench`: the first run builds cg_load (~12 min on the loaded 2-core machine); later runs reuse it (~3 min).
bench-load: setup
	$(BIN)/python bench/load.py $(BENCH_ARGS)

# Failure drills (docs/drills.md): PASS/FAIL with counts. pg-restart runs its own private
# PostgreSQL cluster (run as root or postgres); worker-kill uses a scratch database on :5432.
.PHONY: drill-pg-restart drill-worker-kill
drill-pg-restart: setup
	$(BIN)/python scripts/drills/pg_restart.py $(DRILL_ARGS)

drill-worker-kill: setup
	$(BIN)/python scripts/drills/worker_kill.py $(DRILL_ARGS)

audit: setup
	sh scripts/audit.sh

clean:
	rm -rf $(VENV) node_modules static/vendor var/*.sqlite3*
