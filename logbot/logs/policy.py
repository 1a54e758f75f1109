"""What a channel's log options let through: filters, ``[nolog]``, opt-outs.

One function, :func:`apply_policy`, runs for every record before the writer.
It returns the record, ``None`` (not logged), or an ``opted_out`` marker that
takes the place of a line by someone on the opt-out list: the log shows that
something was said, never who said it or what.  A channel rename by someone on the list
is kept without their name: it says where the channel's log goes on.

The opt-out list holds nicks and account names, compared case-folded with the
network's CASEMAPPING; the folded set is cached per (options, casemapping).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from logbot.config.settings import LogOptions
from logbot.logs.record import MARKERS, RENAMES, LogRecord

__all__ = ["OPTED_OUT_TEXT", "apply_policy"]

OPTED_OUT_TEXT = "a line from a user who opted out of logging was not logged"

_FILTER = {  # record type -> EventFilter flag
    "join": "joins",
    "part": "parts",
    "quit": "quits",
    "kick": "kicks",
    "nick": "nicks",
    "mode": "modes",
    "topic": "topics",
    "topic_info": "topics",
    "chghost": "hosts",
    "setname": "hosts",
    "away": "away",
    "back": "away",
    "netsplit": "quits",  # the summary of a netsplit's QUITs
    "netjoin": "joins",  # and of a netjoin's JOINs
}
_SPOKEN = frozenset({"message", "action", "notice"})
_folded_cache: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}


def _opt_out_set(
    options: LogOptions, fold: Callable[[str], str], casemapping: str
) -> frozenset[str]:
    key = (options.opt_out, casemapping)
    folded = _folded_cache.get(key)
    if folded is None:
        folded = frozenset(fold(name) for name in options.opt_out)
        if len(_folded_cache) > 256:
            _folded_cache.clear()
        _folded_cache[key] = folded
    return folded


def apply_policy(
    record: LogRecord,
    options: LogOptions,
    private: bool,
    fold: Callable[[str], str],
    casemapping: str = "rfc1459",
) -> LogRecord | None:
    """The record to write for ``record`` in a log with ``options``, or None.

    ``private``: the record is a private conversation (logged only with
    ``options.private``)."""
    if not options.enabled:
        return None
    kind = record.type
    if kind in _SPOKEN:
        if private and not options.private:
            return None
        prefix = options.nolog_prefix
        if prefix and record.text and record.text.startswith(prefix):
            return None
    elif kind in MARKERS:
        return record
    else:
        flag = _FILTER.get(kind)
        if flag is not None and not getattr(options.events, flag):
            return None
    if options.opt_out:
        hidden = _opt_out_set(options, fold, casemapping)
        if (record.nick is not None and fold(record.nick) in hidden) or (
            record.account is not None and fold(record.account) in hidden
        ):
            if kind in RENAMES:  # where the log goes on matters more than who: unnamed
                return replace(record, nick=None, user=None, host=None, account=None,
                               msgid=None, tags={})  # fmt: skip
            return LogRecord(
                record.time,
                record.time_source,
                "opted_out",
                record.network,
                record.channel,
                text=OPTED_OUT_TEXT,
            )
    return record
