# The two Quick start commands: `make demo` (main job) and `make test` (whole suite).
export NO_MKDOCS_2_WARNING := 1
# Both create .venv and install the project on first use.
# TORCH_INDEX=https://download.pytorch.org/whl/cpu installs PyTorch's CPU build first (no CUDA
# libraries, ~4 GB less).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs lint clean

$(STAMP): setup.cfg setup.py pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install torch torchvision --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -e ".[dev,ray,rl]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/commsldr run scenarios/quickstart.yaml

# The suite runs twice, as a machine other than ours would run it: with 1 and 2 torch threads,
# two test orders (pytest-random-order) and two seeds of the suite's trained test models (a
# trained model is one realisation; no test may depend on which). TEST_ARGS adds pytest options.
test: $(STAMP)
	$(BIN)/ruff check commsldr channels setup.py tests examples benchmarks scripts
	COMMSLDR_TEST_TORCH_THREADS=1 COMMSLDR_TEST_MODEL_SEED=0 $(BIN)/python -m pytest -n 2 -q \
		--random-order-bucket=global --random-order-seed=1 $(TEST_ARGS)
	COMMSLDR_TEST_TORCH_THREADS=2 COMMSLDR_TEST_MODEL_SEED=1 $(BIN)/python -m pytest -n 2 -q \
		--random-order-bucket=global --random-order-seed=2 $(TEST_ARGS)
	$(BIN)/python -m mkdocs build --strict -q

docs: $(STAMP)
	$(BIN)/python -m mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check commsldr channels setup.py tests examples benchmarks scripts

clean:
	rm -rf $(VENV) site runs .pytest_cache
