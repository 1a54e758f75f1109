"""Secrets out of the IRC lines that the debug log of the traffic shows.

``logbot --log-level debug`` shows every line each way (:mod:`logbot.bot.wire_log`), so
that a user can see why a server does not take the bot; some of those lines carry a
secret that must never reach a terminal or a log collector:

- ``PASS`` (the server password) and ``OPER name password``;
- ``AUTHENTICATE``: a SASL payload is the password in base64 (PLAIN) or SCRAM's
  proofs; the server's challenges (salt, nonces) are masked too.  ``+`` (an empty or
  final chunk), ``*`` (abort) and the name of a mechanism are kept: they say how the
  login went and carry nothing;
- the keys of a ``JOIN`` we send (``JOIN #a,#b key1,key2``); a JOIN relayed by the
  server (it has a source) is kept whole: its other parameters are extended-join's
  account and real name, and a server never relays a key;
- a services password: ``PRIVMSG NickServ :IDENTIFY ...`` (or to ChanServ, or to a
  ``nick@server`` target, which is how QuakeNet's Q and Undernet's X are addressed),
  the servers' aliases ``NS IDENTIFY ...``, ``NICKSERV ...``, ``CS ...``, and
  ``IDENTIFY ...``.  The first word (the service's command) is kept.

The secret becomes ``***``; the rest of the line stays, so that it still says what
happened.  It works on the text, not with the IRC parser: a line the parser refuses
must be shown (and masked) all the same, and this must never raise.  Both directions
go through it: with ``echo-message`` the server sends our PRIVMSG to NickServ back.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MASK", "redact"]

MASK = "***"

#: ``AUTHENTICATE`` arguments that are not secret: the end of a payload, an abort, and
#: the mechanisms we name (a base64 payload of ours can never be one of them: PLAIN's
#: holds two NUL bytes, SCRAM's starts ``n,,`` or ``c=``, and ``-`` is not base64).
_SASL_WORDS = frozenset(
    {
        "+",
        "*",
        "PLAIN",
        "EXTERNAL",
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
        "SCRAM-SHA-512",
        "ECDSA-NIST256P-CHALLENGE",
    }
)
#: Services that take passwords in private messages (compared in lower case).
_SERVICES = frozenset({"nickserv", "chanserv"})


def _params(rest: str) -> list[int]:
    """Where each parameter of ``rest`` (the line after its command) starts; a trailing
    parameter starts after its ``:``."""
    starts = []
    i, n = 0, len(rest)
    while i < n:
        if rest[i] == " ":
            i += 1
            continue
        if rest[i] == ":":
            starts.append(i + 1)
            break
        starts.append(i)
        space = rest.find(" ", i)
        i = n if space < 0 else space
    return starts


def _mask_from(rest: str, index: int) -> str:
    """``rest`` with parameter ``index`` and everything after it masked."""
    starts = _params(rest)
    if len(starts) <= index:
        return rest
    return rest[: starts[index]] + MASK


def _keep_first_word(rest: str, index: int) -> str:
    """Parameter ``index`` onwards, read as text: its first word kept, the rest masked
    (``IDENTIFY ***``); a lone word is kept (``HELP``)."""
    starts = _params(rest)
    if len(starts) <= index:
        return rest
    start = starts[index]
    while start < len(rest) and rest[start] == " ":
        start += 1
    space = rest.find(" ", start)
    if space < 0 or not rest[space:].strip(" "):
        return rest
    return rest[: space + 1] + MASK


def _word(rest: str, index: int) -> str | None:
    starts = _params(rest)
    if len(starts) <= index:
        return None
    start = starts[index]
    space = rest.find(" ", start)
    return rest[start:] if space < 0 or (start and rest[start - 1] == ":") else rest[start:space]


def _pass(rest: str) -> str:
    return _mask_from(rest, 0)


def _oper(rest: str) -> str:
    return _mask_from(rest, 1)


def _join(rest: str) -> str:
    return _mask_from(rest, 1)


def _authenticate(rest: str) -> str:
    word = _word(rest, 0)
    if word is not None and word.strip(" ").upper() in _SASL_WORDS and len(_params(rest)) == 1:
        return rest
    return _mask_from(rest, 0)


def _message(rest: str) -> str:
    target = _word(rest, 0)
    if target is None:
        return rest
    nick, at, _server = target.partition("@")
    if at or nick.lower() in _SERVICES:
        return _keep_first_word(rest, 1)
    return rest


def _service_alias(rest: str) -> str:
    return _keep_first_word(rest, 0)


_RULES: dict[str, Callable[[str], str]] = {
    "PASS": _pass,
    "OPER": _oper,
    "JOIN": _join,
    "AUTHENTICATE": _authenticate,
    "PRIVMSG": _message,
    "NOTICE": _message,
    "SQUERY": _message,
    "NS": _service_alias,
    "NICKSERV": _service_alias,
    "CS": _service_alias,
    "CHANSERV": _service_alias,
    "IDENTIFY": _pass,
}


def redact(line: str) -> str:
    """``line`` (sent or received, without CRLF) with its secrets replaced by ``***``."""
    i, n = 0, len(line)
    sourced = False
    for lead in "@:":  # tags, then the source: kept as they are
        if line.startswith(lead, i):
            sourced = lead == ":"
            space = line.find(" ", i)
            if space < 0:
                return line
            i = space
            while i < n and line[i] == " ":
                i += 1
    space = line.find(" ", i)
    if space < 0:
        return line  # a command alone carries nothing
    command = line[i:space].upper()
    rule = _RULES.get(command)
    if rule is None or (sourced and command == "JOIN"):
        return line
    return line[:space] + rule(line[space:])
