# The two commands of the README: `make run` launches FaceGate, `make test` runs the tests.
# Both first run scripts/setup, which installs whatever is missing (system packages for
# dlib's build, a virtual environment in .venv, the Python packages) and does nothing
# when all is there.
PY := .venv/bin/python
ARGS ?=

.PHONY: run test setup bench

setup:
	@bash scripts/setup

run: setup
	$(PY) main.py $(ARGS)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(ARGS)

bench: setup
	$(PY) bench/run_all.py
