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

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install torch torchvision --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -e ".[dev,ray,rl]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/commsldr run scenarios/quickstart.yaml

test: $(STAMP)

	$(BIN)/python -m pytest -n 2 -q
	$(BIN)/python -m mkdocs build --strict -q

docs: $(STAMP)
	$(BIN)/python -m mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check commsldr channels tests examples benchmarks

clean:
	rm -rf $(VENV) site runs .pytest_cache
