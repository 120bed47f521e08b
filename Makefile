# chainstore tasks. The README names `make demo` and `make test`.
PORT ?= 8000
HOST ?= 127.0.0.1
PG_URL ?= postgres://postgres@127.0.0.1:5432/chainstore

.PHONY: install demo serve test test-pg lint format bench verify openapi

install:
	./scripts/bootstrap.sh

demo: install  ## install, build the demo chain on SQLite, serve it
	uv run chainstore migrate --no-input -v 0
	uv run chainstore demo --if-empty
	uv run chainstore serve --host $(HOST) --port $(PORT)

serve:
	uv run chainstore serve --host $(HOST) --port $(PORT)

lint:
	uv run ruff check src bench
	uv run ruff format --check src bench
	uv run mypy src/chainstore --exclude '/tests/'
	env -u DATABASE_URL uv run chainstore makemigrations --check --dry-run -v 0

format:
	uv run ruff format src bench
	uv run ruff check --fix src bench

test: install-test lint  ## install everything and run the whole suite (SQLite by default)
	uv run pytest -n 2 -p no:cacheprovider

install-test:
	./scripts/bootstrap.sh --browser

test-pg:  ## the suite on PostgreSQL
	DATABASE_URL=$(PG_URL) $(MAKE) test

verify:
	uv run chainstore verify

bench:
	uv run python -m bench.run

openapi:  ## refresh the committed OpenAPI document
	uv run chainstore openapi -o docs/openapi.json
