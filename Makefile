# Descent Lab — the two commands a new user needs:
#   make run    build .venv if needed, start the explorer at http://127.0.0.1:8050
#   make test   build .venv if needed, run every test (browser tests included, beside the others)
#   make serve  serve a class (gunicorn, several workers; see the README)
#   make soak   run the browser and job tests RUNS times (default 20) and count failures per test

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8050

# Compiled kernels are cached here (must be writable; shared by all processes).
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache

.PHONY: run serve test test-fast soak bench system-deps clean

# The compact plotly.js the pages load, and the regenerator runtime they load instead of Dash's
# whole polyfill (built with npm from web/; without npm the app loads Dash's full plotly.js and
# polyfill, and draws its first page more slowly).
WEB_BUNDLE := assets/vendor/plotly-lite.mjs
$(WEB_BUNDLE): web/package.json web/package-lock.json web/plotly-lite.mjs web/plotly-3d.mjs scripts/build-web.sh
	@sh scripts/build-web.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP) $(WEB_BUNDLE)
	$(PY) -m app --host $(HOST) --port $(PORT)

# a class: gunicorn on every interface (see "Hosting a class" in the README)
SERVE_HOST ?= 0.0.0.0
serve: $(STAMP) $(WEB_BUNDLE)
	$(VENV)/bin/descent-lab serve --host $(SERVE_HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

system-deps:
	@sh scripts/ensure-test-deps.sh

# the browser tests and the others as two pytest processes side by side (scripts/run_tests.py)
test: $(STAMP) system-deps $(WEB_BUNDLE)
	$(PY) scripts/run_tests.py

test-fast: $(STAMP)
	$(PY) -m pytest -m "not browser"

# the browser and background-job tests, RUNS times over (not part of `make test`): failures per test
RUNS ?= 20
soak: $(STAMP) system-deps $(WEB_BUNDLE)
	$(PY) scripts/soak.py --runs $(RUNS)

bench: $(STAMP) $(WEB_BUNDLE)
	$(PY) bench/bench_core.py
	$(PY) bench/bench_explorer.py
	$(PY) bench/bench_autoencoder.py
	$(PY) bench/bench_export.py

clean:
	rm -rf $(VENV) .numba_cache .pytest_cache .hypothesis assets/vendor web/node_modules
