"""A real ZNC bouncer (Debian package ``znc``) between test clients and a test server.

``ZNCBouncer(upstream, workdir)`` writes a ZNC config with one user (``bot``) and one
network (``test``) pointing at ``upstream`` (an ``IRCServer``, or anything with
``host`` and ``port``), starts ``znc --datadir DIR --foreground`` and returns from
``start()`` only when the bouncer is usable: its listener accepts a client, and ZNC has
registered on the upstream server and joined every configured channel.  A client then
logs in with ``PASS <login>`` (``user/network:password``), NICK and USER, like a bot
behind a bouncer does.  With ``CAP REQ :batch server-time`` ZNC plays a channel's
buffer back on attach as a ``znc.in/playback`` batch whose lines carry ``time`` tags.

Readiness is seen by a client, not guessed from time: ``start()`` logs in through the
bouncer and reads until the end of NAMES (366) of every channel.  ZNC sends that on
attach for a channel it is in already, and forwards the upstream's JOIN/353/366 when it
joins later, so one connection sees both cases.  The check client then sends QUIT and
waits until ZNC closes the connection: when ``start()`` returns no client is attached,
so with ``AutoClearChanBuffer`` ZNC buffers from that moment on.

Facts about ZNC 1.8.2 (Debian bookworm) that shaped this module:

* ZNC started as root asks for confirmation and then starts only after 30 s.  As root
  (CI) it runs as ``nobody``/``nogroup`` without supplementary groups, so its data dir
  must belong to that user and be reachable by it: it is made with ``mkdtemp`` in
  /tmp (pytest's temporary directories are 0700 under a root-owned parent) and handed
  over with chown.  It is removed when the bouncer stops or is killed, and made afresh
  on the next start; ZNC keeps no state we need across a restart (channel buffers live
  in memory only, the config is rendered again).  ZNC's output and a copy of the
  config go to ``workdir``, which outlives the run for failure analysis.
* ZNC's own flood protection towards the upstream (a burst of 9 lines, then one line
  every 2 s) is spent by its CAP negotiation: with it, ZNC joins its channels 4 s
  after registering.  It is off by default (``FloodRate = -1``);
  ``flood_protection=True`` keeps ZNC's defaults.
* While no client is attached, ZNC answers a CTCP PING to its nick itself.  ZNC reads
  the upstream's lines in order, so that reply is a barrier: lines sent to a channel
  before the PING are in ZNC's buffer once the reply arrives.
* ZNC does not support ``message-tags``: a ``CAP REQ`` that contains it is refused
  whole.  ``batch`` and ``server-time`` are enough for the playback.
* ``AutoClearChanBuffer = true`` buffers only while no client is attached and clears
  the buffer after playing it back; ``false`` keeps the last ``ChanBufferSize`` lines
  and plays them back on every attach.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pwd
import resource
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Protocol, Self

from tests.ircd.servers import (
    HOST,
    ServerMissing,
    ServerStartError,
    _command,
    _die_with_us,
    _LineClient,
    _nogroup,
    _tail,
    find_binary,
    free_ports,
)

#: the Debian package that provides /usr/bin/znc
PACKAGE = "znc"
#: written into the config; ZNC warns about (and upgrades) an older one, never refuses
CONFIG_VERSION = "1.8.2"
#: ZNC's own limit on ChanBufferSize (its default); raised when a test asks for more
DEFAULT_MAX_BUFFER = 500

_running: set[ZNCBouncer] = set()  # killed at interpreter exit, whatever the tests did


@atexit.register
def _kill_leftovers() -> None:
    for bouncer in list(_running):
        bouncer.kill()


class ZNCMissing(ServerMissing):
    """``znc`` is not installed; the message names the Debian package."""


class ZNCStartError(ServerStartError):
    """ZNC did not become ready; the message ends with its output."""


class Upstream(Protocol):
    """What the bouncer needs to know of the server it connects to."""

    host: str
    port: int


def missing_packages() -> list[str]:
    """The Debian packages to install before ZNC can run (``[]`` or ``["znc"]``)."""
    return [] if find_binary("znc") else [PACKAGE]


def _as_root() -> bool:
    return os.geteuid() == 0


def _nobody() -> int:
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return 65534


class ZNCBouncer:
    """One ZNC process on 127.0.0.1 with one user and network, owned by this object.

    ``channels``: joined on the upstream at start (and listed in the config, so ZNC
    rejoins them after a reconnect).  ``nick``: ZNC's nick there (``<nick>_`` if
    taken).  ``auto_clear_chan_buffer``/``chan_buffer_size``: ZNC's user settings of
    those names (see the module docstring).  ``flood_protection``: keep ZNC's own
    throttling towards the upstream (off by default: it delays the start by seconds).

    The port and the password are chosen once: a bouncer started again after
    ``stop()`` or ``kill()`` listens on the same port and takes the same ``login``, so a
    client can reconnect to it.  Its channel buffers do not survive a restart.
    """

    host = HOST
    user = "bot"
    network = "test"

    def __init__(
        self,
        upstream: Upstream,
        workdir: str | os.PathLike[str],
        *,
        channels: Iterable[str] = ("#h",),
        nick: str = "zbot",
        auto_clear_chan_buffer: bool = True,
        chan_buffer_size: int = 500,
        flood_protection: bool = False,
        start_timeout: float = 30.0,
    ) -> None:
        self.upstream = upstream
        self.workdir = Path(workdir)
        self.channels = tuple(channels)
        if not self.channels or not all(c.startswith(("#", "&")) for c in self.channels):
            raise ValueError(f"channels must be channel names, not {self.channels!r}")
        self.nick = nick
        self.auto_clear_chan_buffer = auto_clear_chan_buffer
        if chan_buffer_size < 1:
            raise ValueError(f"chan_buffer_size must be positive, not {chan_buffer_size}")
        self.chan_buffer_size = chan_buffer_size
        self.flood_protection = flood_protection
        self.start_timeout = start_timeout
        (self.port,) = free_ports(1)
        self.password = secrets.token_urlsafe(12)  # URL-safe: no ':' or spaces
        self.login = f"{self.user}/{self.network}:{self.password}"
        self.start_seconds: float | None = None
        self.datadir: Path | None = None  # while running (see the module docstring)
        self._salt = secrets.token_hex(10)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        up = f"{self.upstream.host}:{self.upstream.port}"
        return f"<ZNCBouncer {self.host}:{self.port} -> {up} {state}>"

    # -- files ----------------------------------------------------------------------

    @property
    def log(self) -> Path:
        """ZNC's stdout and stderr (all its starts, appended)."""
        return self.workdir / "znc.out"

    @property
    def config_copy(self) -> Path:
        """The config of the last start (ZNC reads its own copy in ``datadir``)."""
        return self.workdir / "znc.conf"

    def render_config(self) -> str:
        """The ``znc.conf`` for this bouncer (the password only as a salted hash)."""
        digest = hashlib.sha256((self.password + self._salt).encode()).hexdigest()
        chans = "".join(f"        <Chan {c}>\n        </Chan>\n" for c in self.channels)
        flood = "" if self.flood_protection else "        FloodRate = -1\n"
        auto_clear = "true" if self.auto_clear_chan_buffer else "false"
        return (
            f"Version = {CONFIG_VERSION}\n"
            "ConnectDelay = 0\n"
            "ServerThrottle = 0\n"
            f"MaxBufferSize = {max(DEFAULT_MAX_BUFFER, self.chan_buffer_size)}\n"
            "<Listener l>\n"
            f"    Port = {self.port}\n"
            "    IPv4 = true\n"
            "    IPv6 = false\n"
            "    SSL = false\n"
            f"    Host = {HOST}\n"
            "</Listener>\n"
            f"<User {self.user}>\n"
            "    Admin = true\n"
            f"    Nick = {self.nick}\n"
            f"    AltNick = {self.nick}_\n"
            f"    Ident = {self.nick[:10]}\n"
            f"    RealName = {self.nick}\n"
            f"    AutoClearChanBuffer = {auto_clear}\n"
            f"    ChanBufferSize = {self.chan_buffer_size}\n"
            "    <Pass password>\n"
            "        Method = SHA256\n"
            f"        Hash = {digest}\n"
            f"        Salt = {self._salt}\n"
            "    </Pass>\n"
            f"    <Network {self.network}>\n"
            f"        Server = {self.upstream.host} {self.upstream.port}\n"
            f"{flood}"
            f"{chans}"
            "    </Network>\n"
            "</User>\n"
        )

    def _make_datadir(self) -> Path:
        # As root, in /tmp itself: $TMPDIR may be a directory "nobody" cannot reach.
        datadir = Path(tempfile.mkdtemp(prefix="logbot-znc-", dir="/tmp" if _as_root() else None))
        config = self.render_config()
        self.config_copy.write_text(config)
        (datadir / "configs").mkdir()
        (datadir / "configs" / "znc.conf").write_text(config)
        if _as_root():
            uid, gid = _nobody(), _nogroup()
            for path in (datadir, datadir / "configs", datadir / "configs" / "znc.conf"):
                os.chown(path, uid, gid)
        return datadir

    def _remove_datadir(self) -> None:
        if self.datadir is not None:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.datadir = None

    # -- process ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> Self:
        """Start ZNC and wait until it is ready (see the module docstring); returns
        self.  Raises ``ZNCMissing`` if znc is not installed, ``ZNCStartError`` (with
        ZNC's output) if it does not become ready within ``start_timeout``."""
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        binary = find_binary("znc")
        if binary is None:
            raise ZNCMissing(
                "ZNC cannot start: not installed; install the Debian package: "
                f"apt-get install -y --no-install-recommends {PACKAGE}"
            )
        t0 = time.monotonic()
        deadline = t0 + self.start_timeout
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._proc = None  # a restart forgets the old process
        try:
            _running.add(self)
            self.datadir = self._make_datadir()
            self._proc = self._popen([binary, "--datadir", str(self.datadir), "--foreground"])
            self._wait_ready(deadline)
        except BaseException as e:
            self.kill()
            if isinstance(e, (ZNCStartError, KeyboardInterrupt)):
                raise
            raise ZNCStartError(f"ZNC did not become ready: {e}\n{self.log_tail()}") from e
        self.start_seconds = time.monotonic() - t0
        return self

    def _popen(self, argv: list[str]) -> subprocess.Popen[bytes]:
        assert self.datadir is not None
        self._log_file = open(self.log, "ab")  # noqa: SIM115 - ZNC writes it until stop()
        kw: dict[str, Any] = {}
        if _as_root():
            # The credentials change in the child before setpriv sets the parent-death
            # signal (a credential change would clear it), so ZNC still dies with us.
            kw = {"user": _nobody(), "group": _nogroup(), "extra_groups": []}
        proc = subprocess.Popen(
            _die_with_us(argv),
            cwd=self.datadir,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kw,
        )
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_CORE, (0, 0))  # no core files
        except (OSError, ValueError):
            pass  # it exited already: _check_alive reports that
        return proc

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise ZNCStartError(
                f"znc exited with status {self._proc.returncode} while starting\n{self.log_tail()}"
            )

    def _wait_ready(self, deadline: float) -> None:
        """Connect until the listener accepts (waiting on the process between tries,
        which also notices an early exit), then log in and wait for every channel's
        366; then QUIT and wait until ZNC has closed the connection."""
        last: BaseException | None = None
        while True:
            self._check_alive()
            try:
                client = _LineClient(self.port, deadline)
                break
            except OSError as e:  # not listening yet
                last = e
            if time.monotonic() >= deadline:
                raise ZNCStartError(
                    f"ZNC: port {self.port} not accepting within {self.start_timeout:.0f} s "
                    f"(last error: {last})\n{self.log_tail()}"
                )
            assert self._proc is not None
            try:
                self._proc.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                pass
        try:
            self._wait_joined(client, deadline)
            client.send("QUIT :ready")
            client.deadline = deadline
            try:
                while True:
                    client.readline()
            except ConnectionError:
                pass  # ZNC closed it: the check client is detached
        finally:
            client.sock.close()

    def _wait_joined(self, client: _LineClient, deadline: float) -> None:
        client.send(f"PASS {self.login}")
        client.send(f"NICK {self.nick}")
        client.send(f"USER {self.nick[:10]} 0 * :readiness check")
        waiting = {c.lower() for c in self.channels}
        while waiting:
            self._check_alive()
            client.deadline = min(deadline, time.monotonic() + 0.2)
            try:
                line = client.readline()
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise ZNCStartError(
                        f"ZNC: not in {', '.join(sorted(waiting))} within "
                        f"{self.start_timeout:.0f} s; the check client saw:\n  "
                        + "\n  ".join(_collapse(client.seen)[-15:])
                        + f"\n{self.log_tail()}"
                    ) from None
                continue
            command = _command(line)
            if command == "464" or line.startswith("ERROR "):
                raise ZNCStartError(f"ZNC refused the login: {line}\n{self.log_tail()}")
            if command == "366":
                params = _params(line)
                if len(params) > 1:
                    waiting.discard(params[1].lower())

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, and wait for ZNC to exit (SIGKILL after ``timeout``); then remove
        the data dir.  A no-op if it is not running."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL at once (a crash, as clients and the upstream see it)."""
        self._end(signal.SIGKILL, 5.0)

    def _end(self, sig: signal.Signals, timeout: float) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        _running.discard(self)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self._remove_datadir()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of ZNC's output, for failure messages."""
        text = _tail(self.log, lines)
        return (
            f"--- {self.log} (last {lines} lines)\n{text}" if text else f"(no output in {self.log})"
        )

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _params(line: str) -> list[str]:
    """The parameters of a raw line (after the command), the trailing one whole."""
    rest = line
    if rest.startswith("@"):
        rest = rest.partition(" ")[2].lstrip(" ")
    if rest.startswith(":"):
        rest = rest.partition(" ")[2].lstrip(" ")
    trailing = None
    if " :" in rest:
        rest, trailing = rest.split(" :", 1)
    words = rest.split()[1:]
    return words if trailing is None else [*words, trailing]


def _collapse(lines: list[str]) -> list[str]:
    """``lines`` with each run of equal lines shown once, with its count (ZNC repeats
    "Connection Refused.  Reconnecting..." many times a second without an upstream)."""
    out: list[str] = []
    count = 0
    for i, line in enumerate(lines):
        count += 1
        if i + 1 == len(lines) or lines[i + 1] != line:
            out.append(line if count == 1 else f"{line} (x{count})")
            count = 0
    return out
