# The two commands of the README: `make run` launches FaceGate, `make test` runs the tests.
# Both first run scripts/setup, which installs whatever is missing (system packages for
# dlib's build, a virtual environment in .venv, the Python packages) and does nothing
# when all is there.
PY := .venv/bin/python
ARGS ?=

.PHONY: run test check setup bench

setup:
	@bash scripts/setup

run: setup
	$(PY) main.py $(ARGS)

# The conventions first (a few seconds): the formatting, lint with import order, the import
# contracts of pyproject.toml, types; then the suite. .pre-commit-config.yaml runs the same.
check: setup
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	.venv/bin/lint-imports
	$(PY) -m mypy

test: check
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(ARGS)

bench: setup
	$(PY) bench/run_all.py
