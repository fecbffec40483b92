"""A longer fuzz run than the suite's: schemathesis over the whole OpenAPI schema of a real server.

    .venv/bin/python -m bench.fuzz [--max-examples 200] [--seed N] [--max-time 600]

Makes and drops its own database with the demo city, serves it with `mapapp serve` (rate limits raised
so that the run tests input, not throttling; a 429 would not be a failure anyway) and runs
`schemathesis run` with positive and negative data. Failing checks: a 5xx, a Content-Type or a body that
contradicts the schema. Prints schemathesis' own report, then a one-line summary; exit status 1 on a failure.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import bench_database, serving
from mapapp import demo
from mapapp.core.db import transaction
from mapapp.layers import service as layers

CHECKS = "not_a_server_error,content_type_conformance,response_schema_conformance"
LIMITS = ("SUBMIT", "OPEN311", "SUPPORT", "LOGIN", "REOPEN", "EMAIL")


def main() -> int:
    """Run the fuzzer against a fresh demo city and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200, help="examples per operation")
    parser.add_argument("--seed", type=int, default=None, help="repeat an earlier run")
    parser.add_argument("--max-time", type=int, default=900, help="stop after this many seconds")
    args = parser.parse_args()
    for limit in LIMITS:
        os.environ[f"MAPAPP_RATELIMIT_{limit}_PER_HOUR"] = "1000000"
        os.environ[f"MAPAPP_RATELIMIT_{limit}_BURST"] = "100000"
    with bench_database("mapapp_bench_fuzz") as url:
        with transaction() as session:
            demo.load_demo(session, definitions=layers.load_layer_files(Path("layers")), reports=200, seed=3)
        with serving(url, workers=2) as port:
            command = [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                str(args.max_examples),
                "--mode",
                "all",
                "--generation-allow-x00",
                "true",
                "--max-time",
                str(args.max_time),
            ]
            if args.seed is not None:
                command += ["--seed", str(args.seed)]
            start = time.monotonic()
            result = subprocess.run(command, check=False)
            seconds = time.monotonic() - start
    verdict = "no failure" if result.returncode == 0 else "FAILURES (see above)"
    print(f"\nfuzz: {args.max_examples} examples per operation, {seconds:.0f} s: {verdict}")
    return 0 if result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
