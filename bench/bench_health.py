"""What the health endpoint costs, and whether it survives slow and idle clients.

One process: the test IRC server (``logbot.testing.ircd``) and a ``LogService`` with
``--networks`` networks, each registered and in two channels, on one reactor in the
main thread; a client thread drives the measurement over 127.0.0.1.  Two modes:

rate (the default)
    ``--requests`` sequential HTTP requests to ``/metrics`` then ``/healthz`` (a new
    connection each, as a Prometheus scrape does): requests per second, and the size
    of a ``/metrics`` answer.
attack
    A child process (``attacker``, so it takes none of the bot's CPU or GIL) keeps
    ``--slowloris`` connections from ``--slow-from`` (each sends its request line,
    then one header line every ``--drip`` seconds, never the blank line that ends the
    head) and ``--idle`` connections from ``--idle-from`` (which send nothing) open:
    every one the server closes is opened again ``--reconnect`` seconds later, as a
    slowloris tool does.  ``--idle-from`` may be a network (``127.1.0.0/21``): the
    connections then come from its addresses in turn, as from many hosts.  After
    ``--settle`` seconds of that, ``--probes`` sequential ``GET /healthz`` from
    ``--probe-from`` (another loopback address: 127.0.0.0/8 is all loopback on Linux),
    ``--probe-interval`` apart, each given ``--probe-timeout``; then ``--cli-probes``
    runs of ``logbot health`` (the container's HEALTHCHECK).  Printed: probes answered
    200 within 1 s, answered otherwise, not answered, latency median / 99th percentile /
    max, the exit statuses of ``logbot health``, and what the attacker saw.

Run by hand (not in the tests); ``--tree`` runs another checkout's logbot (e.g. the
commit before a change, for a before/after on the same machine):

    python3 bench/bench_health.py --networks 10 --requests 2000
    python3 bench/bench_health.py attack --slowloris 300 --idle 2000
    python3 bench/bench_health.py attack --slowloris 300 --idle 2000 --idle-from 127.1.0.0/21
    python3 bench/bench_health.py attack --tree /tmp/before
"""

from __future__ import annotations

import argparse
import collections
import errno
import ipaddress
import itertools
import json
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _probe(port: int, source: str, timeout: float) -> tuple[int | None, float]:
    """(status or None, seconds) of one ``GET /healthz`` from ``source``."""
    begin = time.perf_counter()
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
        ) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
                s.settimeout(max(0.001, timeout - (time.perf_counter() - begin)))
        status: int | None = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
    except OSError:
        status = None
    return status, time.perf_counter() - begin


# -- the attacker (a child process) -----------------------------------------------------


class _Conn:
    __slots__ = ("connected", "kind", "sock")

    def __init__(self, kind: str, sock: socket.socket) -> None:
        self.kind = kind
        self.sock = sock
        self.connected = False


def _sources(spec: str) -> Any:
    if "/" in spec:
        hosts = [str(h) for h in ipaddress.ip_network(spec).hosts()]
        return itertools.cycle(hosts)
    return itertools.repeat(spec)


def attacker(args: argparse.Namespace) -> None:
    """Keep the connections open; on SIGTERM print what happened as one JSON line."""
    sel = selectors.DefaultSelector()
    sources = {"slow": _sources(args.slow_from), "idle": _sources(args.idle_from)}
    stats: collections.Counter[str] = collections.Counter()
    reopen: collections.deque[tuple[float, str]] = collections.deque()
    drips: collections.deque[tuple[float, _Conn]] = collections.deque()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))

    def open_one(kind: str) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((next(sources[kind]), 0))
            err = sock.connect_ex(("127.0.0.1", args.port))
        except OSError as e:
            err = e.errno or -1
        if err not in (0, errno.EINPROGRESS):
            stats[f"{kind}_connect_failed"] += 1
            sock.close()
            reopen.append((time.monotonic() + args.reconnect, kind))
            return
        stats[f"{kind}_connects"] += 1
        conn = _Conn(kind, sock)
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)

    def close(conn: _Conn, why: str) -> None:
        stats[f"{conn.kind}_{why}"] += 1
        sel.unregister(conn.sock)
        conn.sock.close()
        conn.connected = False
        reopen.append((time.monotonic() + args.reconnect, conn.kind))

    for _ in range(args.slowloris):
        open_one("slow")
    for _ in range(args.idle):
        open_one("idle")
    print("READY", flush=True)
    while not stopping:
        now = time.monotonic()
        while reopen and reopen[0][0] <= now:
            open_one(reopen.popleft()[1])
        while drips and drips[0][0] <= now:
            _, conn = drips.popleft()
            if conn.connected:
                try:
                    conn.sock.send(b"X-Slow: y\r\n")
                    drips.append((now + args.drip, conn))
                except OSError:
                    close(conn, "send_failed")
        for key, mask in sel.select(timeout=0.01):
            conn = key.data
            if not conn.connected and mask & selectors.EVENT_WRITE:
                if conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    close(conn, "connect_refused")
                    continue
                conn.connected = True
                sel.modify(conn.sock, selectors.EVENT_READ, conn)
                if conn.kind == "slow":
                    try:
                        conn.sock.send(b"GET /healthz HTTP/1.1\r\n")
                        drips.append((time.monotonic() + args.drip, conn))
                    except OSError:
                        close(conn, "send_failed")
                continue
            if mask & selectors.EVENT_READ:
                try:
                    data = conn.sock.recv(65536)
                except OSError:
                    data = b""
                    stats[f"{conn.kind}_reset"] += 1
                if data.startswith(b"HTTP/1.1 "):
                    stats[f"{conn.kind}_answered_{data[9:12].decode()}"] += 1
                if not data:
                    close(conn, "closed_by_server")
    stats["open_at_end"] = sum(1 for k in sel.get_map().values() if k.data.connected)
    print(json.dumps(dict(sorted(stats.items()))), flush=True)


# -- the bot, and the two measurements ------------------------------------------------------


def _service(args: argparse.Namespace, health_port: int, folder: Path) -> tuple[Any, Any]:
    from logbot.bot.service import LogService
    from logbot.config.loader import load_config
    from logbot.reactor.loop import Reactor
    from logbot.testing.ircd import TestIRCServer

    reactor = Reactor()
    server = TestIRCServer(reactor)
    irc_port = server.start()
    nets = "".join(
        f"  - name: net{i}\n    servers: ['127.0.0.1:{irc_port}']\n    nick: bot{i}\n"
        f"    channels: ['#a{i}', '#b{i}']\n    line_rate: 0\n"
        for i in range(args.networks)
    )
    (folder / "config.yaml").write_text(
        f"logging: {{root: {folder / 'logs'}}}\nplugins: {{data_dir: {folder / 'data'}}}\n"
        f"health: {{port: {health_port}}}\nnetworks:\n{nets}"
    )
    return LogService(load_config(str(folder / "config.yaml")), reactor), reactor


def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 30
    while _get(port, "/healthz")[0] != 200:
        if time.monotonic() > deadline:
            raise SystemExit("the bot did not register")
        time.sleep(0.05)  # (a benchmark's client thread, not a test)


def rate(args: argparse.Namespace, port: int, results: dict[str, Any]) -> None:
    _wait_healthy(port)
    results["metrics_bytes"] = len(_get(port, "/metrics")[1])
    for path in ("/metrics", "/healthz"):
        begin = time.perf_counter()
        for _ in range(args.requests):
            status, _body = _get(port, path)
            assert status == 200, status
        results[path] = args.requests / (time.perf_counter() - begin)


def attack(args: argparse.Namespace, port: int, results: dict[str, Any]) -> None:
    _wait_healthy(port)
    child = subprocess.Popen(
        [sys.executable, str(HERE), "attacker", f"--port={port}", *_attacker_args(args)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "READY":
            raise SystemExit("the attacker did not start")
        time.sleep(args.settle)
        probes = []
        for _ in range(args.probes):
            probes.append(_probe(port, args.probe_from, args.probe_timeout))
            time.sleep(args.probe_interval)
        results["probes"] = probes
        env = dict(os.environ, PYTHONPATH=str(args.tree))
        cli = []
        for _ in range(args.cli_probes):
            begin = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "logbot", "health", f"--port={port}", "--timeout=5"],
                env=env,
                capture_output=True,
                check=False,
            )
            cli.append((done.returncode, time.perf_counter() - begin))
        results["cli"] = cli
    finally:
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=30)
        results["attacker"] = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


def _attacker_args(args: argparse.Namespace) -> list[str]:
    return [
        f"--slowloris={args.slowloris}",
        f"--slow-from={args.slow_from}",
        f"--idle={args.idle}",
        f"--idle-from={args.idle_from}",
        f"--drip={args.drip}",
        f"--reconnect={args.reconnect}",
    ]


def report_attack(args: argparse.Namespace, results: dict[str, Any], factory: Any) -> None:
    probes = results.get("probes", [])
    times = sorted(t for _, t in probes)
    fast = sum(1 for status, t in probes if status == 200 and t <= 1.0)
    answered = collections.Counter(str(status) for status, _ in probes if status is not None)
    lost = sum(1 for status, _ in probes if status is None)
    print(
        f"attack: {args.slowloris} slowloris from {args.slow_from}, {args.idle} idle from "
        f"{args.idle_from}, probes from {args.probe_from}, logbot from {args.tree}"
    )
    if times:
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"  /healthz probes: {fast}/{len(probes)} answered 200 within 1 s; "
            f"statuses {dict(answered)}, not answered {lost}; latency median "
            f"{statistics.median(times) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {times[-1] * 1000:.1f} ms"
        )
    cli = results.get("cli", [])
    if cli:
        print(
            f"  logbot health: exit statuses {[code for code, _ in cli]}, "
            f"{', '.join(f'{t:.2f}' for _, t in cli)} s"
        )
    print(f"  attacker: {results.get('attacker')}")
    print(
        f"  server: refused {getattr(factory, 'refused', 'n/a')}, "
        f"evicted {getattr(factory, 'evicted', 'n/a')} (connections)"
    )


def run(args: argparse.Namespace, health_port: int, folder: Path) -> None:
    service, reactor = _service(args, health_port, folder)
    results: dict[str, Any] = {}
    measure = rate if args.mode == "rate" else attack

    def client() -> None:
        try:
            measure(args, health_port, results)
        finally:
            factory = service.health.factory  # (gone once the reactor stops)
            results["factory"] = factory
            reactor.callFromThread(reactor.stop)

    reactor.callWhenRunning(service.start, signals=False)
    threading.Thread(target=client, daemon=True).start()
    reactor.run()
    if args.mode == "attack":
        report_attack(args, results, results["factory"])
        return
    print(
        f"{args.networks} networks: /metrics {results.get('/metrics', 0):,.0f} requests/s "
        f"({results.get('metrics_bytes', 0):,.0f} bytes), "
        f"/healthz {results.get('/healthz', 0):,.0f} requests/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="rate", choices=["rate", "attack", "attacker"])
    parser.add_argument("--tree", type=Path, default=HERE.parents[1], help="logbot checkout")
    parser.add_argument("--networks", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--port", type=int, help="attacker: the health port")
    parser.add_argument("--slowloris", type=int, default=300)
    parser.add_argument("--slow-from", default="127.0.0.2")
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--idle-from", default="127.0.0.3")
    parser.add_argument("--drip", type=float, default=1.0, help="s between a slow one's lines")
    parser.add_argument("--reconnect", type=float, default=0.5, help="s before reopening one")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--probe-from", default="127.0.0.1")
    parser.add_argument("--probe-interval", type=float, default=0.1)
    parser.add_argument("--probe-timeout", type=float, default=5.0)
    parser.add_argument("--cli-probes", type=int, default=5)
    args = parser.parse_args()
    args.tree = args.tree.resolve()
    if args.mode == "attacker":
        attacker(args)
        return
    if not (args.tree / "logbot" / "health" / "http.py").is_file():
        raise SystemExit(f"no logbot checkout at {args.tree}")  # (not the installed one)
    sys.path.insert(0, str(args.tree))
    health_port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="bench-health-"))
    try:
        run(args, health_port, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
