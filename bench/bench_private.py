"""Memory of private logs: ``logbot run`` with ``private: true`` and N correspondents.

Issue 14: every nick that ever wrote to the bot kept state in the log writer for the
life of the process (50,000 nicks: 217 MiB against 30 MiB without private logs).
This runs a real ``python -m logbot run -c config.yaml`` (bot on CPU 0) against a small
server in this process (a thread, CPU 1 when ``taskset`` exists): it registers the bot,
answers its JOIN of ``#bench``, then sends ``--nicks`` private messages to the bot,
each from another nick (``:p00000!~p@host PRIVMSG benchbot :hello 0``) and a
``PING :priv-done``.  The bot answers the PING after it logged the lines before it
(each private log's two files: text and jsonl), so at the PONG every line is on disk:
they are counted (all must be there once, else the run is FAILED), and after 1 s
``VmRSS``, ``VmHWM`` and the open descriptors are read from ``/proc/PID/status``.
Then SIGTERM: the bot must exit 0.

Rows: ``private: false`` (the lines are not logged: the baseline), and ``private:
true``.  ``--tree DIR`` runs another checkout's logbot (``git archive <rev> | tar -x
-C DIR``), for a before and after in one session.

Run::

    python bench/bench_private.py --nicks 50000
    python bench/bench_private.py --nicks 50000 --tree /tmp/lb-before --plugins none
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchproc import child
from irc_blaster import Registration, _lines

REPO = HERE.parent


def nick(i: int) -> str:
    return f"p{i:05d}"


class Server(threading.Thread):
    """Registers one client, answers its JOINs, then sends it ``count`` private lines."""

    def __init__(self, count: int) -> None:
        super().__init__(daemon=True)
        self.count = count
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(60)
        self.port = self.listener.getsockname()[1]
        self.events: dict[str, float] = {}
        self.done = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        try:
            self._serve()
        except Exception as e:  # reported as FAILED by the caller
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.done.set()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(600)
        send = conn.sendall
        reg = Registration(send)
        sent = False
        for line in _lines(conn, bytearray()):
            words = line.split(" ")
            command = words[0].upper()
            if reg.handle(words):
                pass
            elif command == "JOIN" and reg.registered and not sent:
                sent = True
                send(f":{reg.me} JOIN {words[1]}\r\n".encode())
                self.events["joined"] = time.time()
                lines = (
                    f":{nick(i)}!~p@host-{i}.example.net PRIVMSG {reg.nick} :hello {i}\r\n"
                    for i in range(self.count)
                )
                send("".join(lines).encode() + b"PING :priv-done\r\n")
            elif command == "PONG" and "priv-done" in line:
                self.events["done"] = time.time()
                self.done.set()
            elif command == "QUIT":
                send(b"ERROR :Closing link (quit)\r\n")
                break
            reg.welcome_if_ready()
        conn.close()
        self.listener.close()


def proc_status(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def run_case(tree: Path, nicks: int, private: bool, plugins: str, tmp: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="priv-", dir=tmp))
    root = work / "logs"
    server = Server(nicks)
    server.start()
    config: dict[str, Any] = {
        "logging": {"root": str(root), "formats": ["text", "jsonl"], "private": private},
        "networks": [
            {
                "name": "bench",
                "servers": [f"127.0.0.1:{server.port}"],
                "nick": "benchbot",
                "channels": ["#bench"],
                "line_rate": 0,
            }
        ],
        "plugins": {"data_dir": str(work / "data")},
    }
    if plugins == "none":
        config["plugins"]["enabled"] = []
    (work / "config.yaml").write_text(json.dumps(config, indent=1))  # JSON is YAML
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("LOGBOT_CONFIG", None)
    result: dict[str, Any] = {"private": private, "nicks": nicks, "tree": str(tree)}
    started = time.time()
    with open(work / "bot.stderr", "wb") as err:
        bot = subprocess.Popen(
            child(["-m", "logbot", "run", "-c", str(work / "config.yaml")], 0),
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
        )
    try:
        if not server.done.wait(600) or "done" not in server.events:
            raise RuntimeError(server.error or "no PONG within 600 s")
        result["logged_after"] = server.events["done"] - started
        if private:
            got = 0
            pattern = re.compile(r"^\S+ <(p\d{5})> hello (\d+)$")
            for i in range(nicks):
                path = root / "bench" / nick(i)
                texts = [p.read_text() for p in path.glob("*.log")] if path.is_dir() else []
                lines = [m for t in texts for m in map(pattern.match, t.splitlines()) if m]
                got += len(lines) == 1 and lines[0].group(2) == str(i)
            result["logged"] = got
        time.sleep(1.0)
        result["status"] = proc_status(bot.pid)
        bot.send_signal(signal.SIGTERM)
        result["exit"] = bot.wait(30)
    except Exception as e:
        result["failed"] = f"{type(e).__name__}: {e}"
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    if private and result.get("logged") != nicks and "failed" not in result:
        result["failed"] = f"{result.get('logged')} of {nicks} private logs hold their line"
    if result.get("exit") not in (0, None) and "failed" not in result:
        result["failed"] = f"exit status {result['exit']}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nicks", type=int, default=50_000)
    parser.add_argument("--tree", type=Path, default=REPO, help="the logbot checkout to run")
    parser.add_argument("--plugins", choices=["default", "none"], default="default")
    parser.add_argument("--only", choices=["private", "baseline", "both"], default="both")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    cases = {"baseline": [False], "private": [True], "both": [False, True]}[args.only]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-private-") as tmp:
        for private in cases:
            r = run_case(args.tree.resolve(), args.nicks, private, args.plugins, Path(tmp))
            results.append(r)
            s = r.get("status", {})
            print(
                f"private={str(private).lower():5} nicks={args.nicks} tree={args.tree} "
                f"plugins={args.plugins}: "
                + (
                    f"FAILED ({r['failed']})"
                    if r.get("failed")
                    else f"VmRSS {s['VmRSS'] / 1024:.1f} MiB, VmHWM {s['VmHWM'] / 1024:.1f} MiB, "
                    f"{s['fds']} fds, all logged after {r['logged_after']:.1f} s"
                ),
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
