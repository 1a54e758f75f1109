"""The STS persistence policies servers gave, per host, in ``<data_dir>/sts.json``.

The spec (ircv3.net/specs/extensions/sts) makes a policy outlive the process: for its
``duration`` the client connects to that host with TLS only, restarts included, so it
is kept in a file, and read back at the first connection after a start.

What a server can make us write is bounded: the host names are those of the config
(never one a server sends), a port is 1-65535, a duration is capped at
:data:`MAX_STS_DURATION`, and at most :data:`MAX_STS_POLICIES` are kept (those that
expire first are dropped first).  The file is written whole to a temporary file and
renamed over the old one (a crash leaves the old or the new, never half), in the data
folder only, without following a symbolic link (:mod:`logbot.logs.safe_open`), and
read only up to :data:`MAX_STS_FILE_BYTES`.

A file that cannot be read or makes no sense (hand-edited, truncated by a full disk)
is said once and treated as empty: the next policy rewrites it.  That forgets the
policies it held, which the spec's own remedy covers: the next plain connection is
told to upgrade again.  A write that fails is said once too; the policies stay in
memory for this process.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logbot.logs.safe_open import open_dir, open_in, put_file

__all__ = [
    "MAX_STS_DURATION",
    "MAX_STS_FILE_BYTES",
    "MAX_STS_POLICIES",
    "STS_FILE",
    "StsPolicy",
    "StsStore",
]

log = logging.getLogger(__name__)

STS_FILE = "sts.json"
#: Hosts with a policy kept at most (the config names far fewer; past it the policies
#: that expire first are dropped).
MAX_STS_POLICIES = 1000
#: The longest policy kept, in seconds (two years): a server's duration is capped to
#: it, so that no number it sends makes a date we cannot write, and a policy ends at
#: most two years after the last connection that renewed it.
MAX_STS_DURATION = 2 * 365 * 86400
#: The largest policy file read (1000 policies take about 100 KB).
MAX_STS_FILE_BYTES = 1 << 20
#: The policy file's own format version (a later format is not misread).
FILE_VERSION = 1
FILE_MODE = 0o600  # which hosts the bot uses is nobody else's business
_MAX_HOST = 255  # characters of a host name in the file
_MAX_PORT = 65535


@dataclass(frozen=True)
class StsPolicy:
    port: int  # the TLS port the policy was received on, and to connect to
    duration: int  # seconds, as last advertised (a disconnect reschedules with it)
    expires: float  # wall time (seconds since the epoch)


class StsStore:
    """The policies by host (the config's host name, lower-cased).

    ``data_dir``: the folder of ``sts.json``; None keeps the policies in memory only
    (tests, ``logbot demo``).  ``wall``: the wall clock (expiry is a date, so that it
    survives a restart).
    """

    def __init__(
        self, data_dir: str | os.PathLike[str] | None, wall: Callable[[], float] = time.time
    ) -> None:
        self.folder = None if data_dir is None else Path(data_dir)
        self.wall = wall
        self._policies: dict[str, StsPolicy] | None = None  # read at the first use
        self._said: set[str] = set()  # problems said once ("read", "write")

    @property
    def path(self) -> Path | None:
        return None if self.folder is None else self.folder / STS_FILE

    # -- the policies -----------------------------------------------------------------

    def policy(self, host: str) -> StsPolicy | None:
        """The policy of ``host`` if one is in force now."""
        found = self._all().get(host_key(host))
        if found is None or found.expires <= self.wall():
            return None
        return found

    def put(self, host: str, port: int, duration: int) -> StsPolicy | None:
        """Store (or renew) ``host``'s policy: TLS on ``port`` for ``duration`` seconds
        from now (capped); ``duration`` 0 removes it.  The policy that was in force
        before, if any."""
        before = self.policy(host)
        policies = self._all()
        key = host_key(host)
        if duration <= 0:
            if policies.pop(key, None) is not None:
                self._save()
            return before
        if not 1 <= port <= _MAX_PORT:
            raise ValueError(f"bad port {port}")
        duration = min(duration, MAX_STS_DURATION)
        policies[key] = StsPolicy(port, duration, self.wall() + duration)
        self._save()
        return before

    def reschedule(self, host: str) -> None:
        """The spec's rescheduling on disconnect: the policy in force expires its last
        advertised duration from now."""
        found = self.policy(host)
        if found is not None:
            self._all()[host_key(host)] = StsPolicy(
                found.port, found.duration, self.wall() + found.duration
            )
            self._save()

    # -- the file ---------------------------------------------------------------------

    def _all(self) -> dict[str, StsPolicy]:
        if self._policies is None:
            self._policies = self._load()
        return self._policies

    def _once(self, what: str, message: str, *args: Any) -> None:
        if what not in self._said:
            self._said.add(what)
            log.warning(message, *args)

    def _load(self) -> dict[str, StsPolicy]:
        if self.folder is None:
            return {}
        try:
            dir_fd = open_dir(self.folder, self.folder)
        except FileNotFoundError:
            return {}
        except OSError as e:
            self._once("read", "cannot read the STS policies (%s): %s", self.path, e)
            return {}
        try:
            fd = open_in(dir_fd, STS_FILE, os.O_RDONLY, path=self.folder / STS_FILE)
        except FileNotFoundError:
            return {}
        except OSError as e:
            self._once("read", "cannot read the STS policies (%s): %s", self.path, e)
            return {}
        finally:
            os.close(dir_fd)
        try:
            data = _read_at_most(fd, MAX_STS_FILE_BYTES + 1)
        except OSError as e:
            self._once("read", "cannot read the STS policies (%s): %s", self.path, e)
            return {}
        finally:
            os.close(fd)
        try:
            if len(data) > MAX_STS_FILE_BYTES:
                raise ValueError(f"larger than {MAX_STS_FILE_BYTES} bytes")
            return _parse(json.loads(data))
        except (ValueError, TypeError, KeyError) as e:  # (json's errors are ValueErrors)
            self._once(
                "read",
                "the STS policy file %s makes no sense (%s): it is ignored, and rewritten"
                " at the next policy",
                self.path,
                e,
            )
            return {}

    def _save(self) -> None:
        policies = self._all()
        now = self.wall()
        for key in [k for k, p in policies.items() if p.expires <= now]:
            del policies[key]
        if len(policies) > MAX_STS_POLICIES:
            keep = sorted(policies, key=lambda k: policies[k].expires)[-MAX_STS_POLICIES:]
            kept = {k: policies[k] for k in keep}
            policies.clear()
            policies.update(kept)
        if self.folder is None:
            return
        document = {
            "version": FILE_VERSION,
            "policies": {
                host: {"port": p.port, "duration": p.duration, "expires": p.expires}
                for host, p in sorted(policies.items())
            },
        }
        data = (json.dumps(document, indent=1) + "\n").encode()
        try:
            _write_atomically(self.folder, data)
        except OSError as e:
            self._once("write", "cannot write the STS policies (%s): %s", self.path, e)


def host_key(host: str) -> str:
    """The key of a host's policy: the config's host name, lower-cased."""
    return host.lower()


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _parse(document: Any) -> dict[str, StsPolicy]:
    """The policies of a loaded file; ``ValueError`` for anything out of shape."""
    if not isinstance(document, dict) or document.get("version") != FILE_VERSION:
        raise ValueError(f"not a version {FILE_VERSION} policy file")
    entries = document["policies"]
    if not isinstance(entries, dict) or len(entries) > MAX_STS_POLICIES:
        raise ValueError("bad policies")
    out: dict[str, StsPolicy] = {}
    for host, entry in entries.items():
        port, duration, expires = entry["port"], entry["duration"], entry["expires"]
        if (
            not isinstance(host, str)
            or not 0 < len(host) <= _MAX_HOST
            or host != host_key(host)
            or type(port) is not int
            or not 1 <= port <= _MAX_PORT
            or type(duration) is not int
            or not 0 < duration <= MAX_STS_DURATION
            or type(expires) not in (int, float)
            or not math.isfinite(expires)
        ):
            raise ValueError(f"bad policy for {str(host)[:_MAX_HOST]!r}")
        out[host] = StsPolicy(port, duration, float(expires))
    return out


def _write_atomically(folder: Path, data: bytes) -> None:
    """``folder/sts.json`` replaced by ``data``: a new temporary file, synced, renamed
    over it (nothing below ``folder`` is followed if it is a link)."""
    dir_fd = open_dir(folder, folder, create=True)
    try:
        put_file(dir_fd, STS_FILE, data, mode=FILE_MODE, sync=True)
        try:
            os.fsync(dir_fd)  # the rename itself, once the folder is synced
        except OSError:
            pass
    finally:
        os.close(dir_fd)
