.PHONY: run test lint stack

# Set everything up, load the demo data when the database is empty, serve on http://127.0.0.1:8000
run:
	@scripts/dev.sh run

# Same set-up (no serving), then the whole test suite against throw-away databases
test:
	@scripts/dev.sh test $(ARGS)

# The disaster-day topology on loopback (issue 14): `make stack ARGS="--reports 1000000"`; `.venv/bin/mapapp stack down`
stack:
	@scripts/dev.sh stack $(ARGS)

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
