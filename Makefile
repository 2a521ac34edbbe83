# leadrouter: make run | make test | make protos | make lint | make widget
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTOS := $(shell find proto -name '*.proto')

.PHONY: run test protos lint install clean schema messages widget widget-tour bench bench-quick bench-soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/leadrouter up

# Two workers, a test file each at a time: most tests wait on processes, the
# database or the browser, so two cores run the suite in about two thirds of
# the time. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --ignore=tests/ui $(PYTEST_ARGS)

# Every screen of the amoCRM widget in Chromium, in ru and en, checked with
# axe-core; screenshots in test-results/screens/. `make screens` also copies
# them to docs/screens/ (commit them when a screen changes).
test-ui: $(STAMP)
	$(BIN)/python -m pytest -q -n 0 tests/ui $(PYTEST_ARGS)

screens: test-ui
	cp test-results/screens/*.png docs/screens/

protos: $(STAMP)
	$(BIN)/python -m leadrouter.protogen

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy leadrouter services gateway
	$(BIN)/lint-imports --no-logo

clean:
	rm -rf var $(VENV)

schema: $(STAMP)
	$(BIN)/python -m gateway.export_schema

# The message catalogue: every _() of the code into the Russian .po, new ones
# untranslated, for a translator (tests/test_catalogue.py fails until they are).
messages: $(STAMP)
	mkdir -p var
	$(BIN)/pybabel --quiet extract --no-location --sort-output --no-wrap \
	  --project=leadrouter -k _ -k ngettext:1,2 -o var/leadrouter.pot \
	  leadrouter services gateway
	$(BIN)/pybabel --quiet update --no-wrap --no-fuzzy-matching --ignore-obsolete \
	  -i var/leadrouter.pot -d leadrouter/locale -D leadrouter

# An emulated amoCRM account on port 8765: it prints the lines that point
# `make run` at it, and curl lines to add, move and delete a lead in it.
emulator: $(STAMP)
	$(BIN)/python -m services.crm.amocrm.emulator

# The amoCRM widget archive, dist/widget.zip (the standard library is enough).
widget:
	$(PYTHON) widget/build.py --out dist/widget.zip

# The widget's tour images (widget/images/tour_N_LANG.png) from the running UI.
widget-tour: $(STAMP)
	$(BIN)/python widget/tour.py

# Benchmarks against PostgreSQL at 127.0.0.1:5432 (see README, Benchmarks).
bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

# One long claim burst on the full account, checked for duplicates.
PRESSES ?= 102000
bench-soak: $(STAMP)
	$(BIN)/python -m bench.run --soak $(PRESSES)
