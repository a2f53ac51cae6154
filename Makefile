# The two commands: `make run` and `make test`. Each sets up .venv when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app
CATALOGS := $(wildcard inspection/translations/*/LC_MESSAGES/messages.po)

.PHONY: run test bench lint format translations extract-messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

translations: $(CATALOGS:.po=.mo)

%.mo: %.po $(VENV)/.runtime
	$(BIN)/pybabel compile --statistics -f -i $< -o $@

# The address printed in the minutes (never taken from a request): this machine's, by default.
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
# The demo may send webhooks to a receiver on this machine (refused in production).
run: export WEBHOOK_ALLOW_PRIVATE ?= 1
run: $(VENV)/.runtime translations
	$(FLASK) init-db
	$(FLASK) make-cert --if-missing
	$(FLASK) seed-demo --if-empty
	# The job queue's worker beside the app (messages after each commit): one command.
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL names one
# (.ci/run starts the machine's PostgreSQL and sets it).
test: $(VENV)/.dev translations
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL"; \
		$(BIN)/python -m pytest -q -p no:cacheprovider; \
	fi

bench: $(VENV)/.dev translations
	$(BIN)/python -m bench

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refresh the catalogues after changing user-facing strings, then translate the new entries.
extract-messages: $(VENV)/.runtime
	# Babel skips folders whose names start with "_": name templates/_macros explicitly.
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _n:1,2 -k lazy_pgettext:1c,2 -o messages.pot --no-location --sort-output . templates/_macros
	$(BIN)/pybabel update -i messages.pot -d inspection/translations --no-fuzzy-matching
	rm messages.pot

clean:
	rm -rf $(VENV) .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
