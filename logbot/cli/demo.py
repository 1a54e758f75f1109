"""``logbot demo``: the whole bot working within a minute, with no IRC network in reach.

A newcomer has just installed logbot and has no server to point it at.  So the demo
starts our small test server (:mod:`logbot.testing.ircd`, on 127.0.0.1, not a real
ircd) and the real bot (:class:`~logbot.bot.service.LogService`, over real TCP, with
the bundled plugins) on one reactor, plays a script of simulated users who join,
talk, use plugins, change nicks, set a topic, part and quit, printing each step as it
happens, then stops the bot the way SIGTERM does (QUIT, flush) and prints where the
logs are and their last lines.  Everything it writes stays in one folder: the config
it used (so ``logbot check`` and ``logbot run`` can be tried on it), ``logs/`` and
``data/``.

The script is paced to last ``--seconds``; 0 runs it as fast as the bot answers (the
test does that).  A step that expects a reply waits for it (bounded), so a slow
machine changes the timing, never the outcome; a missing reply is reported and the
demo exits 1.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = ["SCRIPT", "Step", "demo_command"]

NICK = "logbot"
NETWORK = "demo"
REPLY_WAIT = 10.0  # seconds a step waits for the bot's reply
START_WAIT = 15.0  # seconds to wait for the bot to register and join
POLL = 0.02  # how often a wait looks again (the reactor stays responsive meanwhile)
SETTLE = 0.1  # seconds for a reply's last line to reach the server
TAIL = 6  # last lines shown per log file


@dataclass(frozen=True)
class Step:
    """One thing a simulated user does; ``reply``: the bot must answer it."""

    who: str
    do: str  # a LocalUser method: join, say, action, part, nick, topic, mode, quit
    args: tuple[str, ...]
    reply: bool = False

    @property
    def nick_change(self) -> bool:
        return self.do == "nick"


SCRIPT: tuple[Step, ...] = (
    Step("bob", "join", ("#demo",)),
    Step("alice", "say", ("#demo", "hi everyone, this channel is logged")),
    Step("bob", "say", ("#demo", "hello alice!")),
    Step("alice", "say", ("#demo", "!ping"), reply=True),
    Step("carol", "join", ("#demo",)),
    Step("carol", "action", ("#demo", "waves")),
    Step("alice", "topic", ("#demo", "logbot demo: every event here is logged")),
    Step("alice", "mode", ("#demo", "+v", "carol")),
    Step("carol", "say", ("#demo", "logbot: hello"), reply=True),
    Step("bob", "nick", ("bobby",)),
    Step("bobby", "say", ("#demo", "!seen alice"), reply=True),
    Step("alice", "say", ("#demo", "[nolog] this line stays out of the log")),
    Step("carol", "say", ("#demo", "!last 2"), reply=True),
    Step("carol", "part", ("#demo", "off to lunch")),
    Step("alice", "join", ("#random",)),
    Step("alice", "say", ("#random", "quiet in here")),
    Step("bobby", "quit", ("see you",)),
    Step("alice", "say", ("#demo", "!help"), reply=True),
)

CONFIG = """\
# The config \"logbot demo\" ran with: a test server on 127.0.0.1 (gone now).
# Try:  logbot check -c {config}
logging:
  root: {logs}
  formats: [text, jsonl]
networks:
  - name: {network}
    servers: ["127.0.0.1:{port}"]
    nick: {nick}
    channels: ["#demo", "#random"]
    reconnect:
      initial_delay: 0.2
    # The test server has no flood limit: 20 lines/s, evenly spaced.  On a real
    # network leave this out (a burst of 4, then 1 line/s).
    line_rate: 20
plugins:
  data_dir: {data}
# The archive's web view of these logs: `logbot web -c {config}` indexes them
# (into {data}/index.sqlite3) and serves them on http://127.0.0.1:8080/.
web:
  port: 8080
  publish:
    {network}: "*"
"""


class Demo:
    """The run: server, bot and script on one reactor; ``failures`` says what went wrong."""

    def __init__(
        self, reactor: Any, folder: Path, seconds: float, echo: Callable[[str], None]
    ) -> None:
        self.reactor = reactor
        self.folder = folder
        self.pace = max(0.0, seconds) / len(SCRIPT)
        self.echo = echo
        self.failures: list[str] = []
        self.users: dict[str, Any] = {}
        self.replies = 0  # messages the bot has sent
        self.server: Any = None
        self.service: Any = None
        self.began = reactor.seconds()

    # -- setup ------------------------------------------------------------------------

    def start(self) -> None:
        from logbot.bot.service import LogService
        from logbot.config.loader import load_config
        from logbot.testing.ircd import TestIRCServer

        self.server = TestIRCServer(self.reactor, network=NETWORK)
        self.server.on_line = self._bot_line
        port = self.server.start()
        config_path = self.folder / "config.yaml"
        config_path.write_text(
            CONFIG.format(
                config=config_path,
                logs=self.folder / "logs",
                data=self.folder / "data",
                network=NETWORK,
                port=port,
                nick=NICK,
            )
        )
        self.echo(f"test IRC server (not a real network) on 127.0.0.1:{port}")
        self.echo(f"bot config: {config_path}")
        # alice opened #demo before the bot came: she is its operator (topic, modes)
        self._user("alice").join("#demo")
        self.service = LogService(load_config(str(config_path)), self.reactor, archive=False)
        self.service.start(signals=False)
        self.reactor.addSystemEventTrigger("during", "shutdown", self.server.stop)
        self._wait(self._bot_ready, START_WAIT, self._ready, "the bot did not join #demo")

    def _bot_ready(self) -> bool:
        bot = self.service.networks[NETWORK]
        return bot.stats.registered and {"#demo", "#random"} <= set(bot.joined)

    def _ready(self) -> None:
        self._say("logbot connected and joined #demo (alice's channel) and #random")
        self._step(0)

    # -- the script -------------------------------------------------------------------

    def _step(self, index: int) -> None:
        if index == len(SCRIPT):
            self._wait(self._bot_idle, REPLY_WAIT, self._finish, self._finish)
            return
        step = SCRIPT[index]
        user = self._user(step.who)
        replies = self.replies
        self._say(_describe(step))
        getattr(user, step.do)(*step.args)
        if step.nick_change:
            self.users[step.args[0]] = self.users.pop(step.who)

        def after() -> None:
            self.reactor.callLater(self.pace, self._step, index + 1)

        if not step.reply:
            after()
            return

        def missing() -> None:
            self.failures.append(f"no reply from the bot to {step.who}'s {step.args[-1]!r}")
            self._say("(no reply from the bot)", indent=True)
            after()

        # a reply of several lines is paced by flood control: show all of it first
        def answered() -> bool:
            return self.replies > replies and self._bot_idle()

        self._wait(
            answered,
            REPLY_WAIT,
            lambda: self.reactor.callLater(max(self.pace, SETTLE), self._step, index + 1),
            missing,
        )

    def _user(self, nick: str) -> Any:
        user = self.users.get(nick)
        if user is None:
            user = self.users[nick] = self.server.add_user(
                nick, user=nick, host="demo.test", realname=nick.title()
            )
        return user

    def _bot_line(self, user: Any, line: str) -> None:
        """Every line the server got from the bot: show what it said, as it said it."""
        if user.nickname != NICK:
            return
        text = _said(line)
        if text is not None:
            self.replies += 1
            self._say(f"<{NICK}> {text}", indent=True)

    def _bot_idle(self) -> bool:
        """Nothing left in the bot's send queue (a long reply is paced by flood control)."""
        client = self.service.networks[NETWORK].client
        return client is None or client.core.queue_length == 0

    def _finish(self) -> None:
        self._say("the script is over: stopping the bot (it sends QUIT and flushes its logs)")
        self.reactor.stop()

    # -- helpers ----------------------------------------------------------------------

    def _wait(
        self,
        ready: Callable[[], bool],
        limit: float,
        then: Callable[[], None],
        otherwise: str | Callable[[], None],
    ) -> None:
        """Call ``then`` once ``ready()``; after ``limit`` seconds give up: a message
        stops the demo, a callable carries on."""
        deadline = self.reactor.seconds() + limit

        def look() -> None:
            if ready():
                then()
            elif self.reactor.seconds() < deadline:
                self.reactor.callLater(POLL, look)
            elif callable(otherwise):
                otherwise()
            else:
                self.failures.append(otherwise)
                self.echo(f"logbot demo: {otherwise}; stopping")
                self.reactor.stop()

        look()

    def _say(self, text: str, indent: bool = False) -> None:
        stamp = "" if indent else f"{self.reactor.seconds() - self.began:5.1f}s"
        self.echo(f"  {stamp:>6}  {text}")


def _describe(step: Step) -> str:
    args = step.args
    return {
        "join": lambda: f"{step.who} joins {args[0]}",
        "say": lambda: (
            f"<{step.who}> {args[1]}" + ("" if args[0] == "#demo" else f"   (in {args[0]})")
        ),
        "action": lambda: f"* {step.who} {args[1]}",
        "part": lambda: f"{step.who} leaves {args[0]} ({args[1]})",
        "nick": lambda: f"{step.who} is now known as {args[0]}",
        "topic": lambda: f"{step.who} sets the topic of {args[0]}: {args[1]}",
        "quit": lambda: f"{step.who} quits ({args[0]})",
        "mode": lambda: f"{step.who} sets mode {' '.join(args[1:])} on {args[0]}",
    }[step.do]()


def _said(line: str) -> str | None:
    """The text of a PRIVMSG or NOTICE, from a raw line (None for other commands)."""
    from logbot.irc.message import ParseError, parse

    try:
        msg = parse(line)
    except ParseError:
        return None
    if msg.command not in ("PRIVMSG", "NOTICE") or len(msg.params) < 2:
        return None
    return str(msg.params[-1])


def _report(folder: Path, echo: Callable[[str], None]) -> int:
    """List the log files and show the last lines of the text ones; the line count."""
    logs = folder / "logs"
    files = sorted(p for p in logs.rglob("*") if p.is_file())
    echo("")
    echo(f"logs are under {logs}:")
    total = 0
    for path in files:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        total += len(lines) if path.suffix == ".log" else 0
        echo(f"  {path.relative_to(folder)}  ({len(lines)} lines)")
    for path in files:
        if path.suffix != ".log":
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        echo("")
        echo(f"last lines of {path.relative_to(folder)}:")
        for line in lines[-TAIL:]:
            echo(f"  {line}")
    return total


def _echo(text: str) -> None:
    """click.echo, but a reader that went away (``logbot demo | head``) ends the demo
    quietly instead of with a traceback from inside the reactor."""
    try:
        click.echo(text)
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        raise SystemExit(0) from None


@click.command("demo")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to put the config, logs and data "
    "(default: a new folder under the system's temporary folder).",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0),
    default=8.0,
    show_default=True,
    help="How long the script takes; 0 runs it as fast as the bot answers.",
)
@click.option(
    "--reactor",
    "backend",
    type=click.Choice(["auto", "epoll", "poll", "select"]),
    default="auto",
    show_default=True,
    help="The event loop backend.",
)
@click.option("--verbose", is_flag=True, help="Show the bot's own diagnostics too.")
def demo_command(folder: Path | None, seconds: float, backend: str, verbose: bool) -> None:
    """Show logbot working with no network: a local test server, simulated users, the
    real bot logging them; then where the logs are and their last lines."""
    from logbot.reactor.loop import Reactor

    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="logbot-demo-"))
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if not verbose:
        logging.getLogger("logbot").setLevel(logging.WARNING)
    echo = _echo
    echo(f"logbot demo: simulated users on a local test server, logged into {folder}")
    reactor = Reactor(None if backend == "auto" else backend)
    demo = Demo(reactor, folder, seconds, echo)
    reactor.callWhenRunning(demo.start)
    reactor.run()
    if demo.service is None:
        echo("logbot demo: could not start (see above)")
        sys.exit(1)
    lines = _report(folder, echo)
    bot = demo.service.networks[NETWORK]
    echo("")
    echo(
        f"logbot demo: the bot logged {bot.stats.lines_logged} events "
        f"({lines} text lines) in {reactor.seconds() - demo.began:.1f} s."
    )
    echo(
        f"Read them in a browser: `logbot web -c {folder / 'config.yaml'}`, then open "
        "http://127.0.0.1:8080/ (search them: `logbot search -c "
        f"{folder / 'config.yaml'} <words>`)."
    )
    echo(
        f"Run it for real: edit a copy of {folder / 'config.yaml'} and `logbot run -c <your copy>`."
    )
    for failure in demo.failures:
        echo(f"logbot demo: problem: {failure}")
    sys.exit(1 if demo.failures or lines == 0 else 0)
