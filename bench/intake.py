"""Channel intake benchmark: messages classified, located and routed per second, against POST /api/reports.

    .venv/bin/python -m bench.intake [--seconds 8] [--rounds 3] [--clients 2] [--batch 50]

Makes and drops its own database with the demo city, the demo gazetteer and both disaster layers on.
`mapapp serve --workers 2` answers three paths, run interleaved round after round, each for `--seconds`
by `--clients` threads: POST /api/intake/messages with `--batch` messages per request, the same with one
message per request, and POST /api/reports (JSON, a pin and a category already chosen: the baseline,
the work intake adds is the classifying and locating). The messages are the labelled set's texts.
It also prints the accuracy figures of the test part (mapapp.intake.evaluate) and the in-process cost
of classifying and locating alone.
"""

import argparse
import itertools
import threading
import time
from typing import Any

import httpx

from bench.common import bench_database, load_average, serving


def prepare() -> str:
    """The demo city, its gazetteer, disaster layers on, and a channel; returns the channel's key."""
    from sqlalchemy import text

    from bench.common import PROJECT
    from mapapp import demo
    from mapapp.core.db import transaction
    from mapapp.intake import gazetteer, service
    from mapapp.intake.cli import DEMO_GAZETTEER
    from mapapp.layers import service as layers

    with transaction() as session:
        demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=0)
        gazetteer.import_gazetteer(session, gazetteer.read_csv(DEMO_GAZETTEER))
        session.execute(text("UPDATE layers SET state = 'active' WHERE kind = 'disaster'"))
        return service.create_channel(session, name="bench", kind="social")


def drive(url: str, seconds: float, clients: int, request: Any) -> tuple[int, int, list[float]]:
    """(items, requests, latencies) of `clients` threads calling request(client) for `seconds`."""
    stop = time.perf_counter() + seconds
    items = requests = 0
    latencies: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        nonlocal items, requests
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                done = request(http)
                with lock:
                    items += done
                    requests += 1
                    latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return items, requests, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    with bench_database("bench_intake") as url:
        key = prepare()
        from sqlalchemy import text

        from mapapp.core.db import transaction
        from mapapp.intake import classify, evaluate, locate, service

        rows = evaluate.labelled()
        texts = [r["text"] for r in rows]
        with transaction() as session:
            figures = evaluate.evaluate(session, evaluate.labelled("test"))
            vocabulary, places, model = service.vocabulary(session), locate.gazetteer(session), service.model()
            # The baseline's pins: a point inside each dong, as a citizen's pin would be.
            points = [
                (float(x), float(y))
                for x, y in session.execute(
                    text(
                        "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM jurisdictions "
                        "WHERE level = 'dong' ORDER BY code"
                    )
                )
            ]
        started = time.perf_counter()
        for body in texts * 4:
            classify.classify(body, vocabulary, model)
            locate.locate_text(body, places)
        in_process = len(texts) * 4 / (time.perf_counter() - started)
        print(f"accuracy on the test part: {figures.as_dict()}")
        print(f"classify + locate in process (no database): {in_process:,.0f} messages/s")
        counter = itertools.count()
        headers = {"Authorization": f"Bearer {key}"}

        def message() -> dict[str, Any]:
            n = next(counter)
            return {
                "channel": "bench",
                "external_id": f"b{n}",
                "text": texts[n % len(texts)],
                "posted_at": "2026-11-25T09:00:00+09:00",
            }

        def batch(http: httpx.Client) -> int:
            body = {"messages": [message() for _ in range(args.batch)]}
            response = http.post("/api/intake/messages", json=body, headers=headers)
            assert response.status_code == 201, response.text
            return args.batch

        def single(http: httpx.Client) -> int:
            response = http.post("/api/intake/messages", json=message(), headers=headers)
            assert response.status_code == 201, response.text
            return 1

        def report(http: httpx.Client) -> int:
            n = next(counter)
            lon, lat = points[n % len(points)]
            body = {
                "layer": "facilities",
                "category": "streetlight-out",
                "lat": lat,
                "lon": lon,
                "description": texts[n % len(texts)],
            }
            response = http.post("/api/reports", json=body)
            assert response.status_code == 201, response.text
            return 1

        paths = {
            f"POST /api/intake/messages, {args.batch} per request": batch,
            "POST /api/intake/messages, 1 per request": single,
            "POST /api/reports (baseline)": report,
        }
        results: dict[str, list[str]] = {name: [] for name in paths}
        print(f"load average before: {load_average()}")
        with serving(url, workers=2) as port:
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):  # on a busy shared machine the server may take longer than serving() waits
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            for _ in range(args.rounds):
                for name, request in paths.items():
                    items, _requests, latencies = drive(base, args.seconds, args.clients, request)
                    latencies.sort()
                    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
                    results[name].append(f"{items / args.seconds:,.0f}/s (p50 {p50:.0f} ms)")
        print(f"load average after: {load_average()}")
        for name, rounds in results.items():
            print(f"| {name} | {', '.join(rounds)} |")


if __name__ == "__main__":
    main()
