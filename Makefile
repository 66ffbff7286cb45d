# The two commands of the README are `make run` and `make test`; the rest are helpers.
SHELL := /bin/bash
.DEFAULT_GOAL := help
KB := .venv/kb/bin/kb

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## install both runtimes and build the offline embedding model (idempotent)
	@bash scripts/setup.sh

index: setup ## (re)index data/documents incrementally
	@mkdir -p var/uploads
	@$(KB) ingest data/documents var/uploads --index var/index --sync --quiet

train: setup ## train the Rasa model if data, config or domain changed
	@bash scripts/train.sh >/dev/null

run: setup index ## set up, index, train if needed, start the servers supervised; Ctrl-C stops them
	@bash scripts/serve.sh "$$(bash scripts/train.sh)"

stop: ## stop servers started by `make run` (from another terminal)
	@bash scripts/stop.sh

user: setup ## add a console user: make user NAME=lan ROLE=editor (prompts for the password)
	@.venv/kb/bin/python -m console add-user $(NAME) --role $(or $(ROLE),viewer)

shell: ## chat with the running assistant in this terminal
	@.venv/kb/bin/python scripts/chat.py

test: setup ## run every test (unit, Rasa data validation, end to end through real servers)
	@bash scripts/test.sh

test-scale: setup ## only the scaled-out form: PostgreSQL, Redis, nginx, 2 Rasa + 2 action servers
	@bash scripts/system-packages.sh
	@.venv/kb/bin/python -m pytest -p no:cacheprovider tests/service tests/e2e/test_scale_out.py

lint: setup ## ruff
	@.venv/kb/bin/ruff check knowledge actions bot benchmarks console tests scripts deploy

.PHONY: help setup index train run stop shell test test-scale lint user
