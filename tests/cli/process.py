"""Run ``logbot`` as a process the way a user does, in a controlled environment.

The environment is built, not inherited: a ``$LOGBOT_CONFIG`` or ``$LOGBOT_HEALTH_PORT``
of whoever runs the tests must not change what the command sees.  ``COLUMNS`` fixes
the help's width.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def environment(**extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
        "COLUMNS": "80",
        # the root warning's guess, fixed: most tests are not about it
        "LOGBOT_CONTAINER": "yes",
    }
    env.update(extra)
    return env


def logbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """``python -m logbot ARGS`` in ``cwd``; stdin is empty unless ``kwargs`` say."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [sys.executable, "-m", "logbot", *args],
        cwd=cwd,
        env=environment() if env is None else env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )
