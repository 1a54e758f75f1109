"""The archive children die with the bot: ``PR_SET_PDEATHSIG`` when ``logbot run``
started them.

Why: ``logbot run`` stops its children itself (SIGTERM, then SIGKILL), but a bot killed
with ``kill -9`` (or the OOM killer) cannot.  Its children would live on as orphans:
the web view holding the port that the restarted bot's web view then cannot have, a
second follower of the same files, a feed writing the status of a bot that is gone.
So ``logbot run`` names itself in :data:`PARENT_ENV`, and each child asks the kernel
for SIGTERM when its parent dies (Linux's ``prctl``, through ctypes; elsewhere nothing
is done), then checks that the parent is still the one named: one that died before
the request was made is not waited for.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys

__all__ = ["PARENT_ENV", "die_with_parent"]

#: The environment variable ``logbot run`` sets for its children: its pid.
PARENT_ENV = "LOGBOT_PARENT_PID"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

log = logging.getLogger("logbot")


def die_with_parent(environ: dict[str, str] | None = None) -> None:
    """Ask for SIGTERM at the parent's death when :data:`PARENT_ENV` names it; exit
    at once when that parent is already gone."""
    value = (os.environ if environ is None else environ).get(PARENT_ENV)
    if not value or not value.isdigit():
        return
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
                log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        except (OSError, AttributeError) as e:
            log.debug("prctl(PR_SET_PDEATHSIG) unavailable: %s", e)
    if os.getppid() != int(value):
        log.info("the bot that started this process (pid %s) is gone: stopping", value)
        sys.exit(0)
