"""The archive handed over as logbot's own daily files: ``logbot archive export``.

Why: a team publishes, or hands over, one complete log in the files every tool reads.
:mod:`~logbot.archive.handover.export` reads a network's channels day by day from
either store and writes them through the importer's writer; records become their lines
in :mod:`~logbot.archive.handover.records`; :mod:`~logbot.archive.handover.out` says
which folders may be written into.
"""

from __future__ import annotations

from logbot.archive.handover.export import (
    PAGE_LINES,
    ArchiveStore,
    ExportRefused,
    Report,
    export_days,
)

__all__ = ["PAGE_LINES", "ArchiveStore", "ExportRefused", "Report", "export_days"]
