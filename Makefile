# Two commands do everything: `make run` (install, migrate, seed a demo, serve) and `make test`.
# Needs only Python 3.11+, make, and the system packages listed in README.md.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
UV := .tools/bin/uv
export DJANGO_SETTINGS_MODULE := iea.settings

.PHONY: install run test stack-test lint messages totp backup restore bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5,<1'

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --quiet
	touch $@

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(VENV)/.installed
	$(PY) manage.py compilemessages --ignore=.venv --ignore=.tools --verbosity 0

install: $(VENV)/.installed locale/fr/LC_MESSAGES/django.mo locale/fr/LC_MESSAGES/djangojs.mo

# The web server plus a Celery worker and beat (Procfile.dev) on a broker that needs no server: the
# reminders and notifications really go through Celery, to the console. Ctrl-C stops everything.
run: install
	mkdir -p var
	$(PY) manage.py migrate --noinput --verbosity 0
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(PY) manage.py seed_demo
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} IEA_PORT=$(PORT) CELERY_BROKER_URL=filesystem:// NOTIFICATIONS_TICK=$${NOTIFICATIONS_TICK:-30} \
	  $(VENV)/bin/honcho --procfile Procfile.dev start

# The whole suite, browser tests included. DATABASE_URL picks the database (SQLite when unset).
test: install
	$(PY) manage.py makemigrations --check --dry-run --verbosity 0
	$(VENV)/bin/ruff check --quiet .
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} -p no:cacheprovider $(PYTEST_ARGS)

# The production stack of docker-compose.yml, each service's own command run as a local process (no Docker
# engine needed): PostgreSQL and Redis of its own, nginx with its workers as another user, an SMTP server;
# a PI's submission, a killed worker and a restarted Redis, a backup and its restore (tests/stack). As root.
stack-test: install
	$(PY) -m pytest -p no:cacheprovider -p no:xdist --stack tests/stack $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

messages: install
	$(PY) manage.py makemessages -l fr --ignore=.venv --ignore=.tools --ignore=var --no-obsolete
	$(PY) manage.py makemessages -l fr -d djangojs --ignore=.venv --ignore=.tools --ignore=var --ignore=static/vendor --no-obsolete

# The current two-factor code of the demo's reviewer, officer and staff.
totp: install
	@$(PY) manage.py demo_totp

# Backups (README, "Backups"): one archive in $BACKUP_DIR (default var/backups) with the database, the
# uploaded files and a manifest. `make restore BACKUP=<archive>` puts them back into the configured
# database and files folder and checks them against the manifest; FORCE=1 replaces a non-empty database.
# The virtualenv must exist, but a cron job never re-syncs it (order-only prerequisite).
backup: | $(VENV)/.installed
	$(PY) manage.py backup $(if $(BACKUP_DIR),--dir "$(BACKUP_DIR)")

restore: | $(VENV)/.installed
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/iea-<time>.tar.gz [FORCE=1]" >&2; exit 2; }
	$(PY) manage.py restore "$(BACKUP)" $(if $(filter 1,$(FORCE)),--force)

# Benchmarks (docs/benchmarks.md): builds the dataset on PostgreSQL (BENCH_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/iea_bench, dropped and created), runs each benchmarks/<name>.py and writes
# docs/benchmarks.md. BENCH_ARGS='--scale 0.02' for a quick run, '--keep' to reuse the dataset, '--only pages'.
bench: install
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tools var
