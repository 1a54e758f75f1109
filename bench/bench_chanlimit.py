"""More channels than one connection may join: 1,000 channels on an InspIRCd that lets a
connection be in 250 (``CHANLIMIT=#:250``, the connect class's ``maxchans`` 250).

``logbot run`` (a real process) is given the 1,000 channels of one network.  Four
peers (plain sockets, each in 250 of the channels: the server's limit holds for them
too) wait in the channels; once the bot has joined, each peer says one line in each of
its channels.  Measured: the connections the bot opened (its nicks seen joining), the
channels joined (each by exactly one connection: a channel joined twice would log its
lines twice), the seconds from the bot's start to the last JOIN, the lines logged
(each channel's text file must hold its line exactly once) and the bot's RSS.

Run::

    .venv/bin/python bench/bench_chanlimit.py                 # 1,000 channels, limit 250
    .venv/bin/python bench/bench_chanlimit.py --channels 400 --limit 100
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from tests.ircd.servers import IRCServer

JOIN_BATCH = 20  # channels per JOIN line of a peer


class Peer:
    """A blocking IRC client that records every line it reads."""

    def __init__(self, port: int, nick: str) -> None:
        self.nick = nick
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        self.lines: list[str] = []
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick}")
        self.until(lambda line: f" 001 {nick} " in line)

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def read(self) -> str:
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"{self.nick}: the server closed the connection")
            self.buf += data
        raw, self.buf = self.buf.split(b"\r\n", 1)
        line = raw.decode(errors="replace")
        if line.startswith("PING "):
            self.send("PONG " + line[5:])
        self.lines.append(line)
        return line

    def until(self, done: object) -> str:
        while True:
            line = self.read()
            if done(line):  # type: ignore[operator]
                return line


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=250)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-chanlimit-"))
    server = IRCServer("inspircd", work / "ircd", max_channels=args.limit)
    server.start()
    chans = [f"#c{i:04d}" for i in range(args.channels)]
    groups = [chans[i : i + args.limit] for i in range(0, len(chans), args.limit)]
    peers = [Peer(server.port, f"peer{i}") for i in range(len(groups))]
    for peer, mine in zip(peers, groups, strict=True):
        for i in range(0, len(mine), JOIN_BATCH):
            peer.send("JOIN " + ",".join(mine[i : i + JOIN_BATCH]))
        done = f"366 {peer.nick} {mine[-1]} "
        peer.until(lambda line, done=done: done in line)
    config = {
        "logging": {"root": str(work / "logs"), "formats": ["text"]},
        "plugins": {"data_dir": str(work / "data"), "enabled": []},
        "networks": [
            {
                "name": "bench",
                "servers": [f"127.0.0.1:{server.port}"],
                "nick": "lbot",
                "channels": chans,
                "line_rate": 0,
            }
        ],
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    started = time.monotonic()
    bot = subprocess.Popen(
        [sys.executable, "-m", "logbot", "run", "-c", str(work / "config.yaml")],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "bot.stderr", "wb"),  # noqa: SIM115 (the child keeps it)
    )
    joins: dict[str, list[str]] = {}
    pattern = re.compile(r"^:(lbot\d*)!\S+ JOIN :?(#c\d{4})$")
    try:
        for peer, mine in zip(peers, groups, strict=True):
            want = set(mine)
            while want:
                match = pattern.match(peer.read())
                if match:
                    joins.setdefault(match.group(2), []).append(match.group(1))
                    want.discard(match.group(2))
        joined_after = time.monotonic() - started
        for peer, mine in zip(peers, groups, strict=True):
            for chan in mine:
                peer.send(f"PRIVMSG {chan} :the line of {chan}")
        deadline = time.monotonic() + 60
        logged = 0
        while time.monotonic() < deadline:
            logged = 0
            for chan in chans:
                folder = work / "logs" / "bench" / chan
                files = sorted(folder.glob("*.log")) if folder.is_dir() else []
                text = "".join(p.read_text() for p in files)
                logged += text.count(f"the line of {chan}")
            if logged >= len(chans):
                break
            time.sleep(0.2)
        rss = rss_kib(bot.pid)
    finally:
        bot.terminate()
        bot.wait(30)
        server.stop()
    nicks = sorted({n for holders in joins.values() for n in holders})
    twice = [c for c, holders in joins.items() if len(holders) > 1]
    figures = {
        "channels": args.channels,
        "chanlimit": args.limit,
        "connections": len(nicks),
        "nicks": nicks,
        "channels_joined": len(joins),
        "joined_twice": len(twice),
        "seconds_to_last_join": round(joined_after, 2),
        "lines_said": len(chans),
        "lines_logged": logged,
        "bot_rss_mib": round(rss / 1024, 1),
    }
    for key, value in figures.items():
        print(f"{key:22} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
