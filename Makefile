# Everything installs from scratch into .venv; only python3 (3.11) and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint unit browser bench readme resources package serve clean lock

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip<26.3"  # chalice 1.34 packages with pip<26.3
	$(BIN)/python -m pip install -q --require-hashes -r requirements.txt  # the Lambda runtime, as locked
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/python -m chalicelib.cli demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports  # the layer contract of pyproject.toml [tool.importlinter]

# The e2e tests start their own moto server on a free loopback port and stop it after.
test: lint browser
	$(BIN)/python -m pytest -n 2 tests

# Debian's Chromium for the browser test (Playwright drives it; it never downloads a
# browser). Installed where missing, which needs root (as in CI); otherwise the browser
# test is skipped and says why.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "make browser: /usr/bin/chromium is missing and installing it needs root" \
			"(apt-get install chromium): the browser test will be skipped"; \
	fi

unit: venv
	$(BIN)/python -m pytest tests/unit

bench: venv
	$(BIN)/python -m bench.bench_evaluate
	$(BIN)/python -m bench.bench_collect
	$(BIN)/python -m bench.bench_full_audit
	$(BIN)/python -m bench.bench_service
	$(BIN)/python -m bench.bench_requests
	$(BIN)/python -m bench.bench_event
	$(BIN)/python -m bench.bench_coldstart
	$(BIN)/python -m bench.bench_sweep
	$(BIN)/python -m bench.bench_steady
	$(BIN)/python -m bench.cost_model
	$(BIN)/python -m bench.bench_paths
	$(BIN)/python -m bench.bench_plan

# Regenerates the README's check table from the registry (a test fails when it drifts).
readme: venv
	$(BIN)/python -m vpcwatch_tools.docs --write README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# The API on localhost:8000 (chalice local) over a moto server holding the demo landscape.
serve: venv
	$(BIN)/python -m vpcwatch_tools.devserver --serve-api 8000

resources: venv
	$(BIN)/python -m vpcwatch_tools.infra --write resources.json

# requirements.txt: the runtime dependencies of pyproject.toml, pinned with hashes. Chalice
# builds the Lambda zip from it (`make package`), so two builds of one commit ship the same
# dependencies; rerun after changing [project] dependencies.
lock: venv
	$(BIN)/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements.txt pyproject.toml

# CloudFormation (SAM) template + deployment zip under build/package (STAGE=dev|prod); the
# zip holds app.py, chalicelib/ and requirements.txt's packages (no dev tool: tests/e2e/test_package.py).
STAGE ?= dev
package: venv
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(BIN)/chalice package --stage $(STAGE) \
		--merge-template resources.json build/package
	$(BIN)/python -m vpcwatch_tools.infra --retarget build/package/sam.json
	@echo "template: build/package/sam.json"
