"""``logbot run`` with a ``web:`` section: the archive children, end to end.

A real ngircd, the bot as a child process with a config that publishes its network;
``logbot run`` starts ``logbot index --follow`` (under SCHED_IDLE) and ``logbot web
--no-follow`` itself.  A line said in the channel reaches the log, then the index, then
the day page and the search page served by the web child; a SIGHUP with the web
section removed stops the web child, SIGTERM stops everything (exit 0, no child left).
"""

from __future__ import annotations

import os
import re
import signal
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect
from tests.ircd.servers import free_ports

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(port: int, path: str) -> tuple[int | None, str]:
    try:
        with _OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid``: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def test_run_serves_the_logs_it_writes(
    fresh_ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = fresh_ngircd
    chan, nick, alice = f"#w{unique('')}", unique("lb"), unique("alice")
    (port,) = free_ports(1)
    bot = BotProcess(tmp_path, server, nick, [chan])
    bot.config["plugins"] = {"data_dir": str(tmp_path / "data"), "enabled": []}
    bot.config["index"] = {"interval": 0.2}
    bot.config["web"] = {"port": port, "publish": {"local": "*"}}
    peer = run_until(connect(reactor, server, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])
        assert bot.proc is not None
        kids = run_until(
            wait_for_log(
                reactor,
                lambda: children(bot.proc.pid),
                lambda k: len(k) == 2,
                what="the two archive children",
            )
        )
        commands = sorted(kids.values())
        assert "index --follow" in commands[0] and "web --no-follow" in commands[1], commands
        by_command = {("web" if "web --no" in c else "index"): p for p, c in kids.items()}
        assert os.sched_getscheduler(by_command["index"]) == os.SCHED_IDLE
        assert os.getpriority(os.PRIO_PROCESS, by_command["web"]) == 10
        # In the bot's session: a session of their own would be a scheduling autogroup
        # of its own, which SCHED_IDLE does not hold back against the bot's.
        assert {os.getsid(pid) for pid in kids} == {os.getsid(bot.proc.pid)}

        peer.send(f"PRIVMSG {chan} :the archive keeps <b>this</b> line")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "<b>this</b>" in t))
        key = urllib.parse.quote(chan.lower(), safe="")
        status, body = run_until(
            wait_for_log(
                reactor,
                lambda: get(port, "/search?q=archive+keeps"),
                lambda r: r[0] == 200 and "&lt;b&gt;this&lt;/b&gt;" in r[1],
                what="the line in the web view's search",
            )
        )
        link = re.search(rf'href="(/local/{re.escape(key)}/\d{{4}}-\d\d-\d\d)#L(\d+)"', body)
        assert link, body
        status, day = get(port, link.group(1))
        assert status == 200
        assert f'id="L{link.group(2)}"' in day and "&lt;b&gt;this&lt;/b&gt;" in day
        assert "<b>this</b>" not in day

        # A reload without the web section stops the web child, keeps the follower.
        del bot.config["web"]
        bot.config["index"]["enabled"] = True
        bot.write_config()
        bot.signal(signal.SIGHUP)
        left = run_until(
            wait_for_log(
                reactor,
                lambda: sorted(children(bot.proc.pid).values()),
                lambda k: len(k) == 1 and "index --follow" in k[0],
                what="only the follower after the reload",
            )
        )
        assert left
        assert get(port, "/")[0] is None  # nothing listens there any more
        follower = by_command["index"]
        assert bot.terminate(15) == 0
        assert not Path(f"/proc/{follower}").exists()  # stopped with the bot, not orphaned
        assert not Path(f"/proc/{by_command['web']}").exists()
        assert "Traceback" not in bot.stderr()
    finally:
        bot.stop_quietly()
        peer.abort()
