# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run dev test test-mongo check-mongo lint format benchmark soak chaos schemathesis clean

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# `serve` supervises the embedded Redis itself; the steps before it need none.
SERVE := EMBEDDED_REDIS=supervised

## run: serve the whole service (web, Celery worker and beat, Redis) on http://$(HOST):$(PORT)/
run: $(VENV)/.runtime
	$(SERVE) $(PY) manage.py migrate --noinput
	$(SERVE) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(SERVE) $(PY) manage.py serve

## dev: the same, restarting the web server when the code changes
dev: $(VENV)/.runtime
	$(SERVE) $(PY) manage.py migrate --noinput
	$(SERVE) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(SERVE) DEBUG=true $(PY) manage.py serve --reload

## test: the whole suite, on the embedded default unless DATABASE_URL / REDIS_URL are set
test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

# MongoDB mode checked with no server: the system checks, the migrations in mongo_migrations/
# against the models, and the hot queries compiled to MQL (tests/mongo/).
MONGO_OFFLINE := DATABASE_URL=mongodb://127.0.0.1:27017/leaderboard MONGODB_NO_SERVER=true
# The two commands need no Redis either: "supervised" keeps them from starting an embedded one,
# which would outlive them.
MONGO_CHECK := $(MONGO_OFFLINE) EMBEDDED_REDIS=supervised

## check-mongo: check MongoDB mode offline (no server needed)
check-mongo: $(VENV)/.dev
	$(MONGO_CHECK) $(PY) manage.py check --database default
	$(MONGO_CHECK) $(PY) manage.py makemigrations --check --dry-run
	$(MONGO_OFFLINE) $(PY) -m pytest -p no:cacheprovider -q tests/mongo

## test-mongo: the whole suite in MongoDB mode: against MONGODB_URL (a replica set) if set,
## else against a SecantusDB server of its own, started on a free port and stopped afterwards
test-mongo: $(VENV)/.dev
ifdef MONGODB_URL
	DATABASE_URL="$(MONGODB_URL)" $(PY) -m pytest $(PYTEST_ARGS)
else
	$(PY) tests/mongo_server.py -- $(PY) -m pytest $(PYTEST_ARGS)
endif

## lint: ruff, mypy, hadolint on the Dockerfiles, actionlint on the GitHub workflows
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/hadolint Dockerfile deploy/compose/standins.Dockerfile
	$(VENV)/bin/actionlint .github/workflows/*.yml

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## benchmark: seed 1M users, rebuild the index, and time reads; prints the figures
benchmark: $(VENV)/.dev
	$(PY) benchmarks/run.py $(BENCHMARK_ARGS)

## soak: 90% reads, 10% ± changes on 1M users for 10 minutes; 5xx, p99 a minute, memory
soak: $(VENV)/.dev
	$(PY) benchmarks/soak.py $(SOAK_ARGS)

## chaos: random ±, deletes, rebuilds, Redis pauses and kills, worker recycles for 10 minutes
chaos: $(VENV)/.dev
	$(PY) benchmarks/chaos.py $(CHAOS_ARGS)

## schemathesis: fuzz the API from its OpenAPI document against a live server
schemathesis: $(VENV)/.dev
	$(PY) benchmarks/fuzz.py $(SCHEMATHESIS_ARGS)

clean:
	rm -rf $(VENV) var
