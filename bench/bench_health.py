"""What the health endpoint costs: ``/metrics`` and ``/healthz`` requests per second
served by a running bot, and the size of a ``/metrics`` answer.

One process: the test IRC server (``logbot.testing.ircd``) and a ``LogService`` with
``--networks`` networks, each registered and in two channels, on one reactor in the
main thread; a client thread makes ``--requests`` sequential HTTP requests over
127.0.0.1 (a new connection each, as a Prometheus scrape does).  Run by hand:

    python3 bench/bench_health.py --networks 10 --requests 2000
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logbot.bot.service import LogService
from logbot.config.loader import load_config
from logbot.reactor.loop import Reactor
from logbot.testing.ircd import TestIRCServer


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-health-"))
    reactor = Reactor()
    server = TestIRCServer(reactor)
    irc_port = server.start()
    health_port = _free_port()
    nets = "".join(
        f"  - name: net{i}\n    servers: ['127.0.0.1:{irc_port}']\n    nick: bot{i}\n"
        f"    channels: ['#a{i}', '#b{i}']\n    line_rate: 0\n"
        for i in range(args.networks)
    )
    (folder / "config.yaml").write_text(
        f"logging: {{root: {folder / 'logs'}}}\nplugins: {{data_dir: {folder / 'data'}}}\n"
        f"health: {{port: {health_port}}}\nnetworks:\n{nets}"
    )
    service = LogService(load_config(str(folder / "config.yaml")), reactor)
    results: dict[str, float] = {}

    def get(path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", health_port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def client() -> None:
        try:
            deadline = time.monotonic() + 30
            while get("/healthz")[0] != 200:
                if time.monotonic() > deadline:
                    raise SystemExit("the bot did not register")
                time.sleep(0.05)
            results["metrics_bytes"] = len(get("/metrics")[1])
            for path in ("/metrics", "/healthz"):
                begin = time.perf_counter()
                for _ in range(args.requests):
                    status, _body = get(path)
                    assert status == 200, status
                results[path] = args.requests / (time.perf_counter() - begin)
        finally:
            reactor.callFromThread(reactor.stop)

    reactor.callWhenRunning(service.start, signals=False)
    threading.Thread(target=client, daemon=True).start()
    reactor.run()
    print(
        f"{args.networks} networks: /metrics {results.get('/metrics', 0):,.0f} requests/s "
        f"({results.get('metrics_bytes', 0):,.0f} bytes), "
        f"/healthz {results.get('/healthz', 0):,.0f} requests/s"
    )


if __name__ == "__main__":
    main()
