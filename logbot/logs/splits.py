"""The text log's summary lines of a netsplit or netjoin, as plain data.

Why here and not in :mod:`logbot.bot.netsplits`, which decides *when* to write them:
the archive's export (:mod:`logbot.archive.handover`) rebuilds a text log from the
jsonl, where a netsplit is its QUITs (each with a ``netsplit`` key) and the summary is
not; it must word the summary exactly as the bot does, and ``archive`` never imports
``bot``.  So the wording lives with the records, and both use it.
"""

from __future__ import annotations

from datetime import datetime

from logbot.logs.record import LogRecord

__all__ = ["NICKS_PER_LINE", "summaries"]

#: Nicks named in one summary line; more make more lines (irssi cuts the list short,
#: which a log must not).  About 1.5 KB of nicks: a line a reader can still take.
NICKS_PER_LINE = 50


def summaries(
    kind: str,
    servers: str,
    network: str,
    channel: str,
    nicks: list[str],
    time: datetime,
    time_source: str,
) -> list[LogRecord]:
    """The text-only summary lines of a ``kind`` batch (``netsplit``, ``netjoin``)
    between ``servers`` (``"a b"``) in ``channel``: :data:`NICKS_PER_LINE` nicks each."""
    return [
        LogRecord(
            time,
            time_source,
            kind,
            network,
            channel,
            text=", ".join(nicks[i : i + NICKS_PER_LINE]),
            target=servers,
            only="text",
        )
        for i in range(0, len(nicks), NICKS_PER_LINE)
    ]
