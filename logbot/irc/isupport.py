"""RPL_ISUPPORT (005): what this server supports, with typed accessors.

Servers send several 005 lines; each token is ``NAME``, ``NAME=value`` or
``-NAME`` (withdraw a token sent earlier).  Values may escape bytes as
``\\xHH`` (modern.ircdocs.horse, "RPL_ISUPPORT").  Until a token arrives the
accessors return the documented RFC 1459 era defaults, because some servers
(ngircd, for ``LINELEN``) never send them.

At most ``max_tokens`` tokens are kept (:data:`~logbot.irc.limits.MAX_ISUPPORT_TOKENS`):
servers send a few dozen, and each 005 line adds up to a dozen more, so a server
repeating 005 with new names could otherwise fill memory.  Past the limit a new name
is dropped (said once per connection); a token already kept is still updated or
withdrawn.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from logbot.irc.casemap import DEFAULT_CASEMAPPING, MAPPINGS, FoldCache
from logbot.irc.diagnostics import Diagnostics
from logbot.irc.limits import MAX_ISUPPORT_TOKENS

__all__ = ["ChanModes", "ISupport", "unescape_isupport_value"]

log = logging.getLogger(__name__)

_HEX_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")


def unescape_isupport_value(value: str) -> str:
    r"""Decode ``\xHH`` escapes (``\x20`` is a space, ``\x5C`` a backslash)."""
    return _HEX_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), value)


@dataclass(frozen=True)
class ChanModes:
    """The four CHANMODES groups.

    ``list_modes`` (A) always take a parameter and name a list (bans);
    ``always_param`` (B) always take one (key); ``set_param`` (C) take one only
    when set (limit); ``no_param`` (D) never take one.
    """

    list_modes: str = "b"
    always_param: str = "k"
    set_param: str = "l"
    no_param: str = "imnpst"


class ISupport:
    """The ISUPPORT tokens of one connection (mutable: 005 lines accumulate).

    ``casemapping``, ``fold_table``, ``folded``, ``chantypes``, ``channel_starts``,
    ``status_starts`` and ``prefix`` are read for every line, so they are computed once
    per :meth:`apply` (change ``tokens`` only through it).
    """

    def __init__(
        self, max_tokens: int = MAX_ISUPPORT_TOKENS, diagnostics: Diagnostics | None = None
    ) -> None:
        self.tokens: dict[str, str | None] = {}
        self.max_tokens = max_tokens
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self._derive()

    def _derive(self) -> None:
        self.casemapping: str = (self.get("CASEMAPPING") or DEFAULT_CASEMAPPING).lower()
        #: The ``str.translate`` table of ``casemapping`` (see :mod:`logbot.irc.casemap`).
        self.fold_table = MAPPINGS.get(self.casemapping, MAPPINGS[DEFAULT_CASEMAPPING])
        #: ``folded[name]``: ``name`` folded with ``fold_table``, cached.
        self.folded = FoldCache(self.fold_table)
        # "CHANTYPES=" (empty) means the server has no channels at all.
        self.chantypes: str = (
            (self.tokens["CHANTYPES"] or "") if "CHANTYPES" in self.tokens else "#&"
        )
        # STATUSMSG ("@#chan": to #chan's ops) only where the server says so: ngircd
        # has "&" and "+" in both PREFIX and CHANTYPES and no STATUSMSG, so taking the
        # PREFIX symbols for these would turn "&local" into a nick.
        self.statusmsg: str = self.get("STATUSMSG") or ""
        #: The first characters of a channel name, and of a STATUSMSG target, as sets:
        #: ``target[:1] in ...`` is false for "" (``"" in "#&"`` is true).
        self.channel_starts: frozenset[str] = frozenset(self.chantypes)
        self.status_starts: frozenset[str] = frozenset(self.statusmsg)
        #: ``(modes, symbols)`` in rank order, e.g. ``("ov", "@+")``.
        self.prefix: tuple[str, str] = self._prefix()

    def apply(self, params: tuple[str, ...] | list[str]) -> None:
        """Apply the tokens of one 005 message.

        ``params`` are the message parameters: our nick first and the
        ``are supported by this server`` text last are skipped.
        """
        tokens = self.tokens
        for token in params[1:-1]:
            if token.startswith("-"):
                tokens.pop(token[1:].upper(), None)
                continue
            name, sep, value = token.partition("=")
            name = name.upper()
            if name not in tokens and len(tokens) >= self.max_tokens:
                self.diagnostics.once(
                    "isupport tokens",
                    log,
                    "the server sent more than %d ISUPPORT tokens: %.60r and any further "
                    "new ones are ignored",
                    self.max_tokens,
                    name,
                )
                continue
            tokens[name] = unescape_isupport_value(value) if sep else None
        self._derive()

    def __contains__(self, name: str) -> bool:
        return name.upper() in self.tokens

    def get(self, name: str, default: str | None = None) -> str | None:
        """The raw (unescaped) value of a token, ``default`` when absent or empty."""
        value = self.tokens.get(name.upper())
        return default if value is None else value

    def _int(self, name: str, default: int | None) -> int | None:
        try:
            return int(self.get(name) or "")
        except ValueError:
            return default

    def _prefix(self) -> tuple[str, str]:
        value = self.get("PREFIX", "(ov)@+") or ""
        match = re.fullmatch(r"\((.*)\)(.*)", value)
        if not match or len(match.group(1)) != len(match.group(2)):
            return ("", "")  # "PREFIX=" or malformed: no prefix modes
        return (match.group(1), match.group(2))

    @property
    def nicklen(self) -> int | None:
        return self._int("NICKLEN", None)

    @property
    def chanlimit(self) -> dict[str, int | None]:
        """How many channels one connection may be in, by group of channel prefixes:
        ``CHANLIMIT=#:250`` is ``{"#": 250}``, ``#&:100`` one limit for both prefixes
        together, ``#:`` (no number) no limit.  Without CHANLIMIT, the older
        ``MAXCHANNELS=N`` limits all CHANTYPES together; without either, ``{}`` (no
        limit known: a 405 refusal tells).  Malformed entries are skipped."""
        value = self.get("CHANLIMIT")
        if value is None:
            most = self._int("MAXCHANNELS", None)
            return {} if most is None or not self.chantypes else {self.chantypes: most}
        limits: dict[str, int | None] = {}
        for item in value.split(","):
            prefixes, sep, limit = item.partition(":")
            if not prefixes or not sep or not (limit == "" or limit.isdecimal()):
                continue
            limits[prefixes] = int(limit) if limit else None
        return limits

    @property
    def chanmodes(self) -> ChanModes:
        value = self.get("CHANMODES")
        if value is None:
            return ChanModes()
        groups = (value.split(",") + ["", "", "", ""])[:4]
        return ChanModes(*groups)

    @property
    def linelen(self) -> int:
        return self._int("LINELEN", 512) or 512

    @property
    def network(self) -> str | None:
        return self.get("NETWORK")

    @property
    def bot_mode(self) -> str | None:
        """The user mode that marks a bot (``BOT=B``), if the server has one."""
        return self.get("BOT")

    @property
    def monitor(self) -> int | None:
        """``None`` without MONITOR; else the target limit (0 = no limit given)."""
        if "MONITOR" not in self.tokens:
            return None
        return self._int("MONITOR", 0)

    def targmax(self, command: str) -> int | None:
        """The most targets one ``command`` may name (``TARGMAX=JOIN:4``), or None."""
        for item in (self.get("TARGMAX") or "").split(","):
            name, _, limit = item.partition(":")
            if name.upper() == command.upper() and limit.isdecimal():
                return int(limit)
        return None

    def is_channel(self, name: str) -> bool:
        """True when ``name`` starts with one of the CHANTYPES (a channel *name*: no
        STATUSMSG prefix; for a message target see :meth:`channel_of`)."""
        return bool(name) and name[0] in self.chantypes

    def channel_of(self, target: str) -> str | None:
        """The channel a PRIVMSG/NOTICE ``target`` is in, or None for a nick.

        A target is a channel when it starts with a CHANTYPES character once the
        server's STATUSMSG prefixes are removed, and nothing else (``@#chan`` is a
        message to #chan's ops: it is #chan's).  No nick starts with either kind of
        character, so a target is never both.  Where a character is in both sets
        (no known server), a target starting with it is taken as the channel itself.
        """
        channel_starts, status_starts = self.channel_starts, self.status_starts
        for i, char in enumerate(target):
            if char in channel_starts:
                return target[i:] if i else target
            if char not in status_starts:
                return None
        return None
