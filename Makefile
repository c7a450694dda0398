# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run dev test lint format benchmark clean

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

## lint: ruff and mypy
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## benchmark: seed 1M users, rebuild the index, and time reads; prints the figures
benchmark: $(VENV)/.dev
	$(PY) benchmarks/run.py $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) var
