"""Where the index lives, and opening it ready to use.

Why a function: the bot's child process, ``logbot index`` and the web view must all
find the same file from the same config.
"""

from __future__ import annotations

import os
from pathlib import Path

from logbot.archive.index.database import Index
from logbot.config.settings import Config

__all__ = ["INDEX_NAME", "index_path", "open_index"]

#: The index's file name in the plugins' data folder when ``index.path`` is not set.
INDEX_NAME = "index.sqlite3"


def index_path(config: Config) -> Path:
    """``index.path`` if set, else ``<plugins.data_dir>/index.sqlite3``."""
    if config.index.path:
        return Path(config.index.path)
    return Path(config.plugins.data_dir) / INDEX_NAME


def open_index(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Index:
    """The index at ``path`` (its folder made if needed).  A new index, or one that was
    damaged or of another version (moved aside, with a warning), is filled from the
    files under ``root`` before it is returned; an existing one is returned as it is.

    :raises OSError, sqlite3.Error: it cannot be made or written.
    """
    index = Index(path)
    try:
        if index.fresh:
            index.update(root)
    except BaseException:
        index.close()
        raise
    return index
