"""IRCv3 standard replies (``FAIL``, ``WARN``, ``NOTE``): said on stderr, counted.

A server says what went wrong with one of our commands, or with the session, in a
standard reply (ircv3.net/specs/extensions/standard-replies): ``FAIL CHATHISTORY
MESSAGE_ERROR #chan :Messages could not be retrieved``.  Nobody reads the bot's IRC
connection, so the operator learns of it only from stderr and the metrics:

* on stderr at the reply's level, ``FAIL`` as an error, ``WARN`` a warning, ``NOTE``
  info, with the network: ``libera: FAIL CHATHISTORY MESSAGE_ERROR (#chan): Messages
  could not be retrieved``.  What the server wrote is shown with its control
  characters escaped and cut at :data:`MAX_SHOWN` characters (it goes to a terminal),
  and a server sending many is rate-limited like the core's warnings
  (:class:`~logbot.irc.diagnostics.Diagnostics`: a few in full per minute, then a count);
* counted per type and command in ``NetworkStats.standard_replies``
  (``logbot_network_standard_replies_total``), for at most
  :data:`MAX_REPLY_COMMANDS` commands per network: the command is the server's word,
  and a label per word would grow the metrics without bound; later ones, and any
  command that is not a plain word, count as ``other``.

Some are acted on: ``FAIL JOIN CHANNEL_RENAMED #old #new`` (a channel renamed while we
were away, :mod:`logbot.bot.renames`).  ``FAIL CHATHISTORY`` ends the wait for a
history page in :mod:`logbot.bot.replay` (from the raw line, as before).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from logbot.irc import events as ev
from logbot.irc.diagnostics import Diagnostics

__all__ = ["LEVELS", "MAX_REPLY_COMMANDS", "MAX_SHOWN", "OTHER", "StandardReplies", "printable"]

log = logging.getLogger(__name__)

#: The stderr level of each type of reply.
LEVELS = {"FAIL": logging.ERROR, "WARN": logging.WARNING, "NOTE": logging.INFO}
#: Commands counted apart per network; any further one counts as :data:`OTHER`.
MAX_REPLY_COMMANDS = 32
#: The command label of replies not counted apart.
OTHER = "other"
#: Characters of a reply's description (and of its context) shown on stderr.
MAX_SHOWN = 300
#: A command worth a label: a command name (``CHATHISTORY``), ``*`` or a numeric.
_COMMAND = re.compile(r"[A-Z0-9*_-]{1,32}")
_UNPRINTABLE = re.compile(r"[^\S ]|[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` fit for one line of stderr: control characters (and any whitespace
    but the space) escaped as ``\\xHH``, at most :data:`MAX_SHOWN` characters."""
    if len(text) > MAX_SHOWN:
        text = text[:MAX_SHOWN] + "..."
    return _UNPRINTABLE.sub(_escape, text)


def _escape(m: re.Match[str]) -> str:
    code = ord(m[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class StandardReplies:
    """The standard replies of one network (see the module docstring).

    ``bot`` is the :class:`~logbot.bot.network.NetworkBot`: its ``config``, ``clock``,
    ``stats`` and ``renames`` are used."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.diagnostics = Diagnostics()

    def received(self, event: ev.StandardReply, state: Any) -> None:
        bot = self.bot
        kind = event.kind
        command = event.command.upper()
        counts: dict[tuple[str, str], int] = bot.stats.standard_replies
        label = command if _COMMAND.fullmatch(command) else OTHER
        if (kind, label) not in counts:
            known = {c for _, c in counts if c != OTHER}
            if label not in known and len(known) >= MAX_REPLY_COMMANDS:
                label = OTHER
        counts[kind, label] = counts.get((kind, label), 0) + 1
        diagnostics = self.diagnostics
        diagnostics.label = f"{bot.config.name}: "
        diagnostics.tick(bot.clock.seconds())
        context = " ".join(event.context)
        diagnostics.warning(
            f"{kind} replies",
            log,
            "%s %s %s%s: %s",
            kind,
            printable(event.command),
            printable(event.code),
            f" ({printable(context)})" if context else "",
            printable(event.description),
            level=LEVELS.get(kind, logging.WARNING),
        )
        if (
            kind == "FAIL"
            and command == "JOIN"
            and event.code.upper() == "CHANNEL_RENAMED"
            and len(event.context) >= 2
            and state is not None
        ):
            bot.renames.redirected(event.context[0], event.context[1], event.description, state)
