"""The folder an export writes into: empty, new, or a logbot log root already.

Why so strict: the export writes files named by channels and days, possibly as a user
who may write much more than that folder.  A folder that holds anything else (a home
directory, a project, the web export's pages) is refused before anything is written,
rather than filled with ``<network>/<channel>/`` folders.  A log root (of another bot,
or an earlier export) is welcome: its days are skipped, or merged with ``--merge``.
Hidden files and folders (``.git``, ``.htaccess``, our temporary files) are left alone
and do not count.  No link is followed while looking (nor, later, while writing:
:mod:`logbot.archive.imports.write`).  The config's own log root is refused too: the
bot appends to it while it runs, and the index follows it.
"""

from __future__ import annotations

import os
from pathlib import Path

from logbot.archive.web.export import overlap
from logbot.logs.rotation import is_log_file

__all__ = ["ExportRefused", "check_out"]


class ExportRefused(ValueError):
    """The export cannot start: a bad output folder, network or channel."""


def check_out(out: Path, log_root: Path) -> None:
    """Refuse ``out`` unless it is missing, empty, or holds only log files.

    :raises ExportRefused: with what is wrong."""
    clash = overlap(out, log_root)
    if clash is not None:
        raise ExportRefused(
            f"{out} and the log root {clash} overlap: export to a folder of its own"
        )
    if not os.path.lexists(out):
        return
    if not out.is_dir():
        raise ExportRefused(f"{out} is not a folder")
    problems: list[str] = []

    def unreadable(e: OSError) -> None:
        problems.append(f"{e.filename}: {e.strerror or e}")

    for folder, subfolders, names in os.walk(out, onerror=unreadable, followlinks=False):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and not is_log_file(name):
                path = Path(folder, name)
                raise ExportRefused(
                    f"{out} holds {path}, which is not a log file: export into an empty "
                    "folder or a log root"
                )
    if problems:
        raise ExportRefused(f"{out} cannot be looked through: {problems[0]}")
