# Two commands on a fresh machine with Python 3.11: `make run` starts the service, `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ENGINES_STAMP := $(VENV)/.installed-torch-engines
CODE := app tests benchmarks

.PHONY: install run test lint clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt 'whisperx==3.8.6'  # carries the speaker segmentation checkpoint; never imported (it pins torch)
	@touch $(STAMP)

install: $(STAMP)

# The tests also run the optional XTTS and pyannote engines' real code paths (on tiny random models), so they need
# their extras.
$(ENGINES_STAMP): $(STAMP) scripts/install-torch-engines.sh
	scripts/install-torch-engines.sh $(VENV)
	@touch $(ENGINES_STAMP)

run: $(STAMP)
	$(BIN)/audio-api run

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy $(CODE)

test: lint $(ENGINES_STAMP)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
