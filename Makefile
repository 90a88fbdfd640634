# Two commands do everything: `make run` (install, migrate, seed a demo, serve) and `make test`.
# Needs only Python 3.11+, make, and the system packages listed in README.md.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
UV := .tools/bin/uv
export DJANGO_SETTINGS_MODULE := iea.settings

.PHONY: install run test stack-test screens readme-screens lint messages totp backup restore bench clean

# Each step says what it does: the first install is silent for about a minute otherwise.
$(UV):
	@echo "Installing the package manager (uv)…"
	@$(PYTHON) -m venv .tools
	@.tools/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5,<1'

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@echo "Installing dependencies (first time: about a minute)…"
	@$(UV) sync --frozen --all-extras --quiet
	@touch $@

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(VENV)/.installed
	@echo "Compiling translations…"
	@$(PY) manage.py compilemessages --ignore=.venv --ignore=.tools --verbosity 0

install: $(VENV)/.installed locale/fr/LC_MESSAGES/django.mo locale/fr/LC_MESSAGES/djangojs.mo

# The web server plus a Celery worker and beat (Procfile.dev) on a broker that needs no server: the
# reminders and notifications really go through Celery, to the console. Ctrl-C stops everything.
run: install
	@mkdir -p var
	@echo "Migrating the database…"
	@$(PY) manage.py migrate --noinput --verbosity 0
	@echo "Seeding the demo…"
	@SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} PORT=$(PORT) $(PY) manage.py seed_demo
	@echo "Starting the web server and the mail worker on http://127.0.0.1:$(PORT)/ (Ctrl-C stops both)…"
	@SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} IEA_PORT=$(PORT) CELERY_BROKER_URL=filesystem:// NOTIFICATIONS_TICK=$${NOTIFICATIONS_TICK:-30} \
	  $(VENV)/bin/honcho --procfile Procfile.dev start

# The whole suite, browser tests included. DATABASE_URL picks the database (SQLite when unset).
test: install
	$(PY) manage.py makemigrations --check --dry-run --verbosity 0
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} -p no:cacheprovider $(PYTEST_ARGS)

# The production stack of docker-compose.yml, each service's own command run as a local process (no Docker
# engine needed): PostgreSQL and Redis of its own, nginx with its workers as another user, an SMTP server;
# a PI's submission, a killed worker and a restarted Redis, a backup and its restore (tests/stack). As root.
stack-test: install
	$(PY) -m pytest -p no:cacheprovider -p no:xdist --stack tests/stack $(PYTEST_ARGS)

# Every page of every demo role in Chromium, French and English, desktop and phone, on the demo `make run` serves
# (run it in another terminal first): full-page screenshots and an index in var/screens/index.html, and the list
# of what a person would stumble on (tests/crawl). CRAWL_CONCURRENCY pages at a time (default 4); a part with
# e.g. SCREENS_ARGS="--roles officer --languages fr --sizes phone".
screens: install
	$(PY) -m tests.crawl --base-url http://127.0.0.1:$(PORT) --out var/screens $(SCREENS_ARGS)

# The README's screenshots of the back office (docs/screens/, committed), from the demo `make run` serves.
readme-screens: install
	$(PY) -m tests.crawl.readme_screens --base-url http://127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

messages: install
	$(PY) manage.py makemessages -l fr --ignore=.venv --ignore=.tools --ignore=var --ignore=tests --no-obsolete
	$(PY) manage.py makemessages -l fr -d djangojs --ignore=.venv --ignore=.tools --ignore=var --ignore=static/vendor --no-obsolete

# The current two-factor code of the demo's reviewer, officer and staff.
totp: install
	@$(PY) manage.py demo_totp

# Backups (README, "Backups"): one archive in $BACKUP_DIR (default var/backups) with the database, the
# uploaded files and a manifest. `make restore BACKUP=<archive>` puts them back into the configured
# database and files folder and checks them against the manifest; FORCE=1 replaces a non-empty database.
# On a host that runs the compose stack (its web service is up here), both run inside the web container, on
# the stack's PostgreSQL and volumes, not on this host's own settings (SQLite in var/): the archives live in
# the stack's backups volume, BACKUP_DIR=<host folder> copies the new one out too, and a host archive is
# copied into the volume to be restored. Without docker, or with the stack down: this host's database, except
# on a host whose .env is the stack's (POSTGRES_PASSWORD): there a stopped stack stops the command rather than
# back up the host's SQLite in its place (LOCAL=1 to mean this host's database).
# The virtualenv must exist, but a cron job never re-syncs it (order-only prerequisite).
STACK_BACKUPS := /data/backups
STACK_ENV_FILE ?= .env
ifneq ($(filter backup restore,$(MAKECMDGOALS)),)
STACK_WEB := $(firstword $(shell command -v docker >/dev/null 2>&1 && docker compose ps --status running --quiet web 2>/dev/null))
STACK_DOWN := $(if $(STACK_WEB)$(filter 1,$(LOCAL)),,$(shell grep -qs '^POSTGRES_PASSWORD=' "$(STACK_ENV_FILE)" && echo yes))
endif
RESTORE_USAGE := usage: make restore BACKUP=var/backups/iea-<time>.tar.gz [FORCE=1]

ifneq ($(STACK_WEB),)
backup:
	@echo "The compose stack runs on this host (web container $(STACK_WEB)): backing up the stack's database and files, inside it, into its backups volume ($(STACK_BACKUPS))."
	@out=$$(docker compose exec -T web python manage.py backup) || exit $$?; echo "$$out"$(if $(BACKUP_DIR),; \
	  archive=$$(echo "$$out" | tail -n 1); mkdir -p "$(BACKUP_DIR)" \
	  && docker compose cp "web:$$archive" "$(BACKUP_DIR)/" && echo "Copied to $(BACKUP_DIR)/$${archive##*/}")

# An archive already in the volume is restored from there; a host archive is copied in first (and given to
# the container's user: docker compose cp creates it as root, and archives are readable by their owner only).
restore:
	@test -n "$(BACKUP)" || { echo "$(RESTORE_USAGE)" >&2; exit 2; }
	@name=$$(basename "$(BACKUP)"); \
	if docker compose exec -T web test -f "$(STACK_BACKUPS)/$$name"; then \
	  echo "$$name is in the stack's backups volume: restoring it into the stack's database and files (web container $(STACK_WEB))."; \
	elif test -f "$(BACKUP)"; then \
	  echo "Copying $(BACKUP) into the stack's backups volume, then restoring it into the stack's database and files (web container $(STACK_WEB))."; \
	  docker compose cp "$(BACKUP)" "web:$(STACK_BACKUPS)/$$name" \
	    && docker compose exec -T --user root web chown iea "$(STACK_BACKUPS)/$$name" || exit 1; \
	else \
	  echo "No archive $(BACKUP) on this host, nor $(STACK_BACKUPS)/$$name in the stack's backups volume." >&2; exit 2; \
	fi; \
	docker compose exec -T web python manage.py restore "$(STACK_BACKUPS)/$$name" $(if $(filter 1,$(FORCE)),--force)
else ifneq ($(STACK_DOWN),)
backup restore:
	@echo "$(STACK_ENV_FILE) is the compose stack's, but its web service is not running on this host: start it (docker compose up -d) to $@ the stack's database, or add LOCAL=1 for this host's own settings." >&2; exit 2
else
backup: | $(VENV)/.installed
	@echo "No compose stack runs on this host: backing up the database of this host's settings (DATABASE_URL, else SQLite in var/)."
	$(PY) manage.py backup $(if $(BACKUP_DIR),--dir "$(BACKUP_DIR)")

restore: | $(VENV)/.installed
	@test -n "$(BACKUP)" || { echo "$(RESTORE_USAGE)" >&2; exit 2; }
	@echo "No compose stack runs on this host: restoring into the database of this host's settings (DATABASE_URL, else SQLite in var/)."
	$(PY) manage.py restore "$(BACKUP)" $(if $(filter 1,$(FORCE)),--force)
endif

# Benchmarks (docs/benchmarks.md): builds the dataset on PostgreSQL (BENCH_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/iea_bench, dropped and created), runs each benchmarks/<name>.py and writes
# docs/benchmarks.md. BENCH_ARGS='--scale 0.02' for a quick run, '--keep' to reuse the dataset, '--only pages'.
bench: install
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tools var
