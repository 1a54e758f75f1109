"""One warning when ``logbot run`` runs as root outside a container.

Why: the bot parses what strangers send over the network and runs plugins; as root a
bug in either owns the machine.  Inside a container root is usual and confined (and
our image runs as uid 10001 anyway), so the warning would only be noise there.  It is
a warning, not a refusal: some set-ups (a throwaway VM) are root on purpose.

How a container is recognised, cheaply and without extra privileges: a marker file
its engine leaves (``/.dockerenv`` from Docker, ``/run/.containerenv`` from Podman),
or a ``container=`` variable in PID 1's environment (systemd-nspawn, LXC, Podman;
readable by root, which is the only case that matters) or in ours, or
``KUBERNETES_SERVICE_HOST`` (set in every Kubernetes pod, whatever its runtime).
cgroup paths are not used: under cgroup v2 they no longer tell.

``$LOGBOT_CONTAINER`` (``yes`` or ``no``) overrides the guess, for an engine it gets
wrong; the tests use it to see the warning on a machine that is a container.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence

__all__ = ["MARKERS", "in_container", "root_warning", "warn_if_root"]

MARKERS = ("/.dockerenv", "/run/.containerenv")
INIT_ENVIRON = "/proc/1/environ"


def in_container(
    environ: Mapping[str, str],
    markers: Sequence[str] = MARKERS,
    init_environ: str = INIT_ENVIRON,
) -> bool:
    """Whether this process looks like it runs in a container (see the module's doc)."""
    override = environ.get("LOGBOT_CONTAINER", "").strip().lower()
    if override in ("yes", "no"):
        return override == "yes"
    if "container" in environ or "KUBERNETES_SERVICE_HOST" in environ:
        return True
    if any(os.path.exists(marker) for marker in markers):
        return True
    try:
        with open(init_environ, "rb") as f:
            return any(v.startswith(b"container=") for v in f.read().split(b"\0"))
    except OSError:  # not root, no /proc: no answer from there
        return False


def root_warning(
    euid: int,
    environ: Mapping[str, str],
    markers: Sequence[str] = MARKERS,
    init_environ: str = INIT_ENVIRON,
) -> str | None:
    """The warning to log, or None."""
    if euid != 0 or in_container(environ, markers, init_environ):
        return None
    return (
        "running as root outside a container: better as an unprivileged user, as the "
        "container image (uid 10001) and the README's systemd unit run it"
    )


def warn_if_root() -> None:
    """Log the warning on ``logbot``, if this process deserves it."""
    warning = root_warning(os.geteuid(), os.environ)
    if warning is not None:
        logging.getLogger("logbot").warning("%s", warning)
