# The two commands a newcomer types (README): `make check` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: venv bytecode check test lint typecheck unit bench clean

# Virtualenv with the exact locked set (requirements.lock) and this repository installed editable, so
# `infra`, `policies` and `sovereign` import the same way under the Pulumi CLI, pytest and the policy pack.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# The project's own bytecode. pip compiles what it installs, but not an editable install; with
# PYTHONDONTWRITEBYTECODE set (CI machines) every command would recompile every module it imports.
BYTECODE := $(VENV)/.bytecode
$(BYTECODE): $(STAMP) $(shell find sovereign infra policies -name '*.py' 2>/dev/null)
	$(BIN)/python -m compileall -q sovereign infra policies >/dev/null
	@touch $(BYTECODE)

bytecode: $(BYTECODE)

## The main job: validate, render and check every example stack offline; report in $(OUT)/report.md, signed
## evidence bundles in $(OUT)/evidence/<stack>/.
check: $(BYTECODE)
	$(BIN)/sovereign validate
	@# Evidence bundles of every stack (docs/evidence.md), signed with a throwaway key kept in $(OUT)/evidence-key.
	@test -f $(OUT)/evidence-key/evidence-key.pem || $(BIN)/sovereign evidence keygen --out $(OUT)/evidence-key
	$(BIN)/sovereign evidence --all --at "$${SOVEREIGN_AT:-$$(date -u +%Y-%m-%dT%H:%M:%SZ)}" --out $(OUT)/evidence --key $(OUT)/evidence-key/evidence-key.pem
	$(BIN)/sovereign check --all --out $(OUT) --format markdown --output $(OUT)/report.md

## The tests: lint, types, then the whole suite.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

bench: $(BYTECODE)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(OUT) infra/rendered .pytest_cache .mypy_cache .ruff_cache .sovereign-cache
