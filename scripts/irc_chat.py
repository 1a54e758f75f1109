#!/usr/bin/env python3
"""Scripted IRC users for scripts/container-smoke.sh (standard library only).

    irc_chat.py chat  --port P [--host 127.0.0.1] [--channel '#logbot'] [--bot logbot]
    irc_chat.py watch --port P [--host ...] [--channel ...] [--bot ...] [--ready FILE]

``chat``: alice joins the channel and waits until the bot is in it, then bob joins
and the two talk: messages, an action, a line with the "[nolog]" prefix, ``!ping``
(which the bot must answer), a nick change (bob -> bobby), a part and a quit.  Each
line is sent only once the other user has seen the one before, so the bot receives
them in this order.  Exit 0 when all of it happened, 1 otherwise.

``watch``: carol joins the channel, waits until the bot is in it (then touches
``--ready``), and stays until the bot QUITs; prints that QUIT line and exits 0, or
exits 1 after ``--timeout`` seconds.

Every line sent (``>>``) and every line of interest received (``<<``) is printed with
the time since the start and the user's nick.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

START = time.monotonic()


def say(who: str, arrow: str, line: str) -> None:
    shown = line.replace("\x01", "\\x01")  # CTCP delimiters, made visible
    print(f"{time.monotonic() - START:7.3f}s {who:>6} {arrow} {shown}", flush=True)


def parse(line: str) -> tuple[str, str, list[str]]:
    """(source nick, command, params) of one IRC line, tags dropped."""
    if line.startswith("@"):
        line = line.split(" ", 1)[1] if " " in line else ""
    source = ""
    if line.startswith(":"):
        source, _, line = line[1:].partition(" ")
    trailing = None
    if " :" in line:
        line, trailing = line.split(" :", 1)
    params = line.split()
    command = params.pop(0).upper() if params else ""
    if trailing is not None:
        params.append(trailing)
    return source.split("!", 1)[0], command, params


class Client:
    """One registered IRC user on a plain TCP connection."""

    def __init__(self, host: str, port: int, nick: str, deadline: float) -> None:
        self.nick = nick
        self.deadline = deadline
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick} (container smoke test)")
        self.expect(lambda src, cmd, params: cmd == "001", "registration")

    def send(self, line: str, show: bool = True) -> None:
        if show:
            say(self.nick, ">>", line)
        self.sock.sendall(line.encode() + b"\r\n")

    def readline(self) -> str:
        while b"\n" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError(f"{self.nick}: the server closed the connection")
            self.buf += data
        raw, self.buf = self.buf.split(b"\n", 1)
        return raw.rstrip(b"\r").decode("utf-8", "replace")

    def expect(self, match: Callable[[str, str, list[str]], bool], what: str) -> str:
        """Read until a line matches (answering PINGs); print and return it."""
        try:
            while True:
                line = self.readline()
                src, cmd, params = parse(line)
                if cmd == "PING":
                    self.send("PONG :" + (params[-1] if params else ""), show=False)
                    continue
                if match(src, cmd, params):
                    say(self.nick, "<<", line)
                    return line
        except TimeoutError:
            raise SystemExit(f"{self.nick}: timed out waiting for {what}") from None

    def join_and_wait_for(self, channel: str, bot: str) -> None:
        """Join; return once the bot is in the channel (NAMES or its JOIN)."""
        self.send(f"JOIN {channel}")
        fold = str.lower

        def bot_there(src: str, cmd: str, params: list[str]) -> bool:
            if cmd == "353" and fold(params[-2]) == fold(channel):
                return any(fold(n.lstrip("~&@%+")) == fold(bot) for n in params[-1].split())
            return cmd == "JOIN" and fold(src) == fold(bot) and fold(params[0]) == fold(channel)

        self.expect(bot_there, f"{bot} in {channel}")

    def close(self) -> None:
        self.sock.close()


def chat(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    ch, bot = args.channel, args.bot
    alice = Client(args.host, args.port, "alice", deadline)
    alice.join_and_wait_for(ch, bot)
    bob = Client(args.host, args.port, "bob", deadline)
    bob.send(f"JOIN {ch}")
    bob.expect(lambda s, c, p: c == "366", "end of NAMES")
    alice.expect(lambda s, c, p: c == "JOIN" and s == "bob", "bob's join")

    def line(sender: Client, other: Client, text: str) -> None:
        sender.send(f"PRIVMSG {ch} :{text}")
        other.expect(
            lambda s, c, p: c == "PRIVMSG" and s == sender.nick and p[-1] == text,
            f"{sender.nick}'s line",
        )

    line(alice, bob, "hello bob, this goes into the log")
    line(bob, alice, "hi alice! logging from a container now?")
    line(alice, bob, "\x01ACTION waves from outside the container\x01")
    line(alice, bob, "[nolog] this line is not logged")
    line(bob, alice, "!ping")
    reply = f"{bob.nick}: pong"
    alice.expect(
        lambda s, c, p: c == "PRIVMSG" and s.lower() == bot.lower() and p[-1] == reply,
        f"the bot's {reply!r}",
    )
    bob.send("NICK bobby")
    alice.expect(lambda s, c, p: c == "NICK" and s == "bob", "bob's nick change")
    bob.nick = "bobby"
    line(bob, alice, "I am bobby now")
    bob.send(f"PART {ch} :see you")
    alice.expect(lambda s, c, p: c == "PART" and s == "bobby", "bobby's part")
    bob.send("QUIT :bye")
    bob.close()
    alice.send("QUIT :done")
    alice.close()
    print("chat: done", flush=True)
    return 0


def watch(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    carol = Client(args.host, args.port, "carol", deadline)
    carol.join_and_wait_for(args.channel, args.bot)
    if args.ready:
        Path(args.ready).touch()
    carol.expect(lambda s, c, p: c == "QUIT" and s.lower() == args.bot.lower(), "the bot's QUIT")
    carol.send("QUIT :seen it")
    carol.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["chat", "watch"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--channel", default="#logbot")
    parser.add_argument("--bot", default="logbot")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for the whole run")
    parser.add_argument("--ready", help="watch: a file to create once the bot is seen")
    args = parser.parse_args()
    return chat(args) if args.mode == "chat" else watch(args)


if __name__ == "__main__":
    sys.exit(main())
