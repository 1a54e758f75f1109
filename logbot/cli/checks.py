"""``logbot check``'s work (which ``logbot init`` repeats on the file it wrote).

The config loads, the enabled plugins load, and the log root and the data folder can
be written to; a summary is printed.  Apart from :mod:`logbot.cli` so that ``init``
can call it without importing the command group that imports ``init``.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

import click

from logbot.cli.options import load_or_exit

if TYPE_CHECKING:
    from logbot.config.settings import Config

__all__ = ["check_config", "probe_writable"]


def probe_writable(folder: str | os.PathLike[str]) -> str | None:
    """None if files can be created in ``folder``, else why not.

    A probe file with a random name is created with ``O_EXCL`` (never someone else's
    file) and removed.  A folder not there yet is fine if it can be created: the bot
    makes missing folders itself, so the probe goes to the nearest existing parent and
    ``check`` creates nothing.  Permission bits are not trusted (root ignores them, an
    immutable attribute or a read-only mount does not show in them): only a real
    create says it."""
    path = os.path.abspath(folder)
    missing = False
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path, missing = parent, True
    if not os.path.isdir(path):
        return f"{path} is not a folder" if missing else "not a folder"
    probe = os.path.join(path, f".logbot-check-{secrets.token_hex(8)}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        error = e.strerror or str(e)
        return f"cannot create it in {path}: {error}" if missing else f"cannot write: {error}"
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError as e:  # created but not removable: still unusable for rotation
        return f"cannot remove {probe}: {e.strerror or e}"
    return None


def _folder_problems(config: Config) -> list[str]:
    folders = [("log root", config.log.root), ("data folder", config.plugins.data_dir)]
    problems = []
    for what, folder in folders:
        problem = probe_writable(folder)
        if problem is not None:
            problems.append(f"{what} {folder}: {problem}")
    return problems


def check_config(config_path: str) -> bool:
    """``check``'s work, which ``init`` does too: True if it all passed (exits 2 if the
    config is invalid)."""
    from logbot.config.loader import summary
    from logbot.logs.fdlimit import describe_plan
    from logbot.plugins.manager import check_plugins

    config = load_or_exit(config_path)
    problems = check_plugins(config.plugins)
    folders = _folder_problems(config)
    if folders:
        verdict = "OK, but folders cannot be written to" + (
            " and plugins would fail" if problems else ""
        )
    else:
        verdict = "OK" if not problems else "OK, but plugins would fail"
    problems = folders + problems
    click.echo(f"{config_path}: {verdict}")
    click.echo(summary(config))
    click.echo(describe_plan(config.log.max_open_files))
    for problem in problems:
        click.echo(f"logbot: {problem}", err=True)
    return not problems
