# The two commands of the README: `make run` starts the whole app locally, `make test` runs every test.
# One Python from local runs to CI to Lambda: the runtime's (zappa_settings.json), named in .python-version, which
# pyenv's shims (and uv) read; pyproject.toml says the same and tests/deploy/test_build.py holds them together.
PYTHON_VERSION := $(shell cat .python-version)
PYTHON ?= $(shell command -v python$(PYTHON_VERSION) || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
IS_VERSION = -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PYTHON_VERSION)")'
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run reset reset-all test lint format browser services bench

$(VENV)/.installed: requirements.txt requirements-dev.txt .python-version
	@$(PYTHON) $(IS_VERSION) || { echo "$(PYTHON) is not Python $(PYTHON_VERSION) (.python-version):" \
	    "install it (pyenv install $(PYTHON_VERSION)) or pass PYTHON=/path/to/python$(PYTHON_VERSION)"; exit 1; }
	$(PY) $(IS_VERSION) 2>/dev/null || rm -rf $(VENV)  # a virtualenv of another Python is made again
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# The pages' JavaScript: npm packages (frontend/package-lock.json) bundled by esbuild into static/build/, which
# Django's static files (WhiteNoise) serve. Neither node_modules nor the bundle is in the repository.
.PHONY: assets
ASSETS := static/build/upload.js
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm; }
	cd frontend && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(ASSETS): frontend/node_modules/.installed $(wildcard frontend/src/*/*.js)
	cd frontend && npm run --silent build

assets: $(ASSETS)

# `make run PORT=8001` serves the site on another port; SITE_URL (and so the uploads bucket's CORS) follows it.
# The local AWS keeps its state under .data/localaws/ across restarts.
PORT ?= 8000
run: install assets
	$(PY) manage.py migrate --noinput
	PORT=$(PORT) $(PY) manage.py runlocal

# Empty the local AWS (buckets, objects, tables; running or not); accounts in the database stay.
reset: install
	$(PY) manage.py localaws --reset

# The same, and the accounts, sessions and sign-in records too (every row of Django's database).
reset-all: reset
	$(PY) manage.py migrate --noinput
	$(PY) manage.py flush --noinput

# Headless Chromium for the page tests, from Debian's packages.
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# Redis for the real Celery worker in the tests (PostgreSQL is optional locally; CI uses it).
services:
	@bash .ci/services.sh redis

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The suite runs in parallel processes (pytest-xdist), one per core up to four: each has its own local AWS, Celery
# worker, browser and test database (tests/conftest.py). `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= auto
test: install assets browser services nasm lint
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --maxprocesses 4

bench: install
	$(PY) bench/run.py

# The Lambda package (docs/deploy.md): `zappa package` in a clean virtualenv of requirements.txt, made by the
# runtime's Python (python3.12), from a clean copy of the project, into .data/package/mediahub-<stage>.zip.
# deploy and update ship that zip (-z), never a package Zappa would build from the working tree. Given a zip,
# Zappa skips its role management, so deploy.role first creates or updates the role (attach_policy). The zip goes
# through the stage's code bucket (deploy.upload prints its s3:// address): a local zip's bytes would go in the
# Lambda API call, which Lambda refuses above 50 MB. The package's PyAV is built from source against an LGPL
# FFmpeg (deploy.ffmpeg, cached under ~/.cache/mediahub/lgpl/): its x86 assembly needs nasm, from Debian's packages. The test
# of the built package (tests/deploy/test_build.py) builds one when none was built yet, so `make test` needs it too.
.PHONY: package deploy update nasm
STAGE ?= production
nasm:
	@command -v nasm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nasm; }

package: install assets nasm
	$(PY) -m deploy.build $(STAGE)

deploy update: package
	$(PY) -m deploy.role $(STAGE)
	$(VENV)/bin/zappa $@ $(STAGE) -z "$$($(PY) -m deploy.upload $(STAGE))"
