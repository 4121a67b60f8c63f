# Every target creates its own virtual environment first; only Python 3.11+ is needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest check examples bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "agentrun needs Python 3.11 or newer; run: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: run every example paradigm offline (network providers swapped for the mock)
run: $(STAMP)
	@mkdir -p reports
	@for file in paradigms/*.yaml; do \
		name=$$(basename $$file .yaml); \
		echo "== $$file"; \
		$(BIN)/agentrun run $$file --mock --display plain --report reports/$$name.json \
			|| { echo "$$file failed (exit $$?)" >&2; exit 1; }; \
	done

examples: run

## test: lint, type-check and the whole test suite
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check agentrun tests bench
	$(BIN)/ruff format --check agentrun tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict agentrun

pytest: $(STAMP)
	$(BIN)/python -m pytest

check: test

## bench: the core benchmark (1,000 and 10,000 mock agents against a bare TaskGroup)
bench: $(STAMP)
	$(BIN)/python bench/bench_core.py

clean:
	rm -rf $(VENV) reports .mypy_cache .ruff_cache .pytest_cache
