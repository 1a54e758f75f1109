"""Exec plugins: a reply command answered by any executable, one child per use.

Each use of the command starts the executable afresh with ``reactor.spawnProcess``
and reads its answer from stdout.  Why one process per use, and not a long-lived
helper or code loaded into the bot: a crash, a memory leak or an endless loop of the
plugin ends with its process and cannot touch the bot; the deadline (``timeout``,
then ``SIGKILL``) bounds how long a use may take, and ``max_output`` how much it may
say.  Why the request goes as one JSON object on stdin: the text comes from anyone on
IRC, and on stdin it never becomes an argument, an option or shell syntax; a script
that only needs the words reads them from the environment (``LOGBOT_ARGS`` and
friends) and needs no JSON parser.

The protocol, from the plugin's side:

* stdin: one line, a JSON object with the keys ``command``, ``args`` (list of str),
  ``text`` (the whole argument text), ``nick``, ``user``, ``host``, ``account``,
  ``channel`` (null in private), ``network``, ``private`` (bool) -- those the bot
  knows -- then EOF.
* environment: only ``PATH``, ``LANG=C.UTF-8``, ``HOME``, the configured extras and
  ``LOGBOT_COMMAND``, ``LOGBOT_ARGS`` (the args joined by one space),
  ``LOGBOT_NICK``, ``LOGBOT_CHANNEL`` (empty in private), ``LOGBOT_ACCOUNT``,
  ``LOGBOT_NETWORK``.  NUL characters are dropped from every value.
* stdout: the reply, one IRC line per line (UTF-8; the manager splits and caps it).
* stderr: logged as warnings (at most ``STDERR_LINES`` lines per use).
* exit status 0: the reply stands; anything else is an error and stdout is ignored.

The Deferred of :meth:`ExecPlugin.run` fires exactly once, and only after
``processEnded``: the child has been reaped and its pipes are closed, so no zombie
and no descriptor outlives a use, whether it ended by itself, by the deadline, by
too much output or by ``cancel()``.

Nor does any process the child started: each use runs in a session and process group
of its own (``spawnProcess(..., newSession=True)``), so a script's ``sleep 1000 &``
is killed with it -- at the deadline, on too much output or ``cancel()`` (SIGKILL to
the group), when the script exits (the reactor kills what is left in its group
before reaping it), and at shutdown (TERM, then KILL, to the group).  Before, such a
grandchild ran on after the timeout and after the bot stopped, holding the output
pipe.  Only a grandchild that starts a session of its own (``setsid``, a daemon's
double fork) escapes; it is then not the plugin's doing by accident.

Discovery (:func:`find_exec_plugins`): executables in the ``*.d`` subdirectories of
the plugin directories (``plugins/exec.d/roll.sh`` is ``!roll``); optional
``# help:`` and ``# usage:`` lines near the top of a script feed ``!help``
(:func:`read_exec_header`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from logbot.reactor.defer import CancelledError, Deferred, fail
from logbot.reactor.error import ProcessDone, ProcessExitedAlready
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ProcessProtocol

__all__ = [
    "REQUEST_KEYS",
    "ExecPlugin",
    "ExecPluginError",
    "ExecPluginTimeout",
    "find_exec_plugins",
    "read_exec_header",
]

log = logging.getLogger(__name__)

#: The request keys passed to the child on stdin (those present in the request).
REQUEST_KEYS = (
    "command",
    "args",
    "text",
    "nick",
    "user",
    "host",
    "account",
    "channel",
    "network",
    "private",
)
#: Stderr lines logged per use; then one "... more stderr dropped" line.
STDERR_LINES = 100
#: A stderr line longer than this is logged in pieces of this many bytes.
STDERR_LINE_BYTES = 1000
#: How much of a script :func:`read_exec_header` reads, and how many lines it looks at.
HEADER_BYTES = 4096
HEADER_LINES = 20

_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_HEADER = re.compile(r"#+\s*(help|usage)\s*:\s*(.*?)\s*\Z", re.IGNORECASE)


class ExecPluginError(Exception):
    """An exec plugin failed: bad exit status, signal, too much output, not runnable."""


class ExecPluginTimeout(ExecPluginError):
    """An exec plugin ran past its deadline and was killed."""


def _env_value(value: Any) -> str:
    """``value`` as an environment string: None is empty, NULs dropped, valid UTF-8."""
    text = "" if value is None else str(value)
    return text.replace("\0", "").encode("utf-8", "replace").decode("utf-8")


def _check_env_name(name: str) -> str:
    if not isinstance(name, str) or not name or "=" in name or "\0" in name:
        raise ValueError(f"exec plugin: bad environment variable name {name!r}")
    return name


class ExecPlugin:
    """The command ``name`` answered by running ``argv`` (see the module docstring).

    ``timeout`` (10 s) is the deadline of one use; ``max_output`` (64 KiB) the most
    stdout it may write.  ``help``, ``usage`` and ``admin`` are for the plugin
    manager (``!help``, who may run it).  ``env`` adds to the child's environment
    (the ``LOGBOT_*`` variables of the request win over it).  ``reactor`` provides
    ``spawnProcess`` and ``callLater``.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        reactor: Any,
        *,
        timeout: float = 10.0,
        max_output: int = 65536,
        help: str = "",
        usage: str = "",
        admin: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        argv = [os.fspath(a) for a in argv]
        if not argv or any("\0" in a for a in argv):
            raise ValueError(f"exec plugin {name}: argv must be non-empty, without NUL")
        if timeout <= 0 or max_output < 0:
            raise ValueError(f"exec plugin {name}: timeout must be > 0, max_output >= 0")
        self.name = name
        self.argv = argv
        self.reactor = reactor
        self.timeout = timeout
        self.max_output = max_output
        self.help = help
        self.usage = usage
        self.admin = admin
        self.env = {_check_env_name(k): _env_value(v) for k, v in (env or {}).items()}

    def __repr__(self) -> str:
        return f"<ExecPlugin {self.name} {self.argv!r}>"

    def child_env(self, request: Mapping[str, Any]) -> dict[str, str]:
        """The child's whole environment for ``request``."""
        env = {"PATH": os.environ.get("PATH") or _DEFAULT_PATH, "LANG": "C.UTF-8"}
        if os.environ.get("HOME"):
            env["HOME"] = os.environ["HOME"]
        env.update(self.env)
        args = request.get("args") or ()
        env.update(
            {
                "LOGBOT_COMMAND": _env_value(request.get("command")),
                "LOGBOT_ARGS": _env_value(" ".join(str(a) for a in args)),
                "LOGBOT_NICK": _env_value(request.get("nick")),
                "LOGBOT_CHANNEL": _env_value(request.get("channel")),
                "LOGBOT_ACCOUNT": _env_value(request.get("account")),
                "LOGBOT_NETWORK": _env_value(request.get("network")),
            }
        )
        return env

    @staticmethod
    def stdin_payload(request: Mapping[str, Any]) -> bytes:
        """The JSON line written to the child's stdin."""
        obj = {k: request[k] for k in REQUEST_KEYS if k in request}
        if isinstance(obj.get("args"), tuple):
            obj["args"] = list(obj["args"])
        try:
            data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: \u escapes are still valid JSON
            data = json.dumps(obj).encode("ascii")
        return data + b"\n"

    def run(self, request: Mapping[str, Any]) -> Deferred[list[str]]:
        """Run one use; a Deferred of the stdout lines (see the module docstring)."""
        proto = _ExecProtocol(self, self.stdin_payload(request))
        try:
            self.reactor.spawnProcess(
                proto,
                self.argv[0],
                self.argv,
                env=self.child_env(request),
                path=None,
                newSession=True,  # the use and all it starts die together
            )
        except OSError as e:  # spawnProcess checks before it forks: nothing to reap
            proto.cancel_deadline()
            reason = os.strerror(e.errno) if e.errno else str(e)
            return fail(ExecPluginError(f"{self.name}: cannot run {self.argv[0]}: {reason}"))
        return proto.deferred


class _ExecProtocol(ProcessProtocol):
    """One use: feeds stdin, collects stdout, logs stderr, enforces the limits.

    ``_kill(error)`` records why the use failed and sends ``SIGKILL`` (to the use's
    whole process group); whatever happens, ``deferred`` fires in ``processEnded``
    and only there.
    """

    def __init__(self, plugin: ExecPlugin, payload: bytes) -> None:
        self.plugin = plugin
        self.payload = payload
        self.deferred: Deferred[list[str]] = Deferred(self._cancelled)
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.stderr_lines = 0
        self.error: BaseException | None = None  # why we killed it (None: cancelled)
        self.killed = False
        self._ended = False
        self._deadline: Any = plugin.reactor.callLater(plugin.timeout, self._timed_out)

    def cancel_deadline(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    # -- events ------------------------------------------------------------------------

    def connectionMade(self) -> None:
        self.transport.write(self.payload)
        self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        if self.killed:
            return
        room = self.plugin.max_output - len(self.stdout)
        if len(data) > room:
            self._kill(
                ExecPluginError(
                    f"{self.plugin.name} wrote more than {self.plugin.max_output} bytes"
                )
            )
            return
        self.stdout += data

    def errReceived(self, data: bytes) -> None:
        if self.stderr_lines > STDERR_LINES:
            return  # the "dropped" line was logged: keep reading, log nothing
        self.stderr += data
        while self.stderr_lines <= STDERR_LINES:
            end = self.stderr.find(b"\n")
            if end < 0:
                if len(self.stderr) < STDERR_LINE_BYTES:
                    return
                end = STDERR_LINE_BYTES  # an endless line: log it in pieces
                line, self.stderr = self.stderr[:end], self.stderr[end:]
            else:
                line, self.stderr = self.stderr[:end], self.stderr[end + 1 :]
            self._log_stderr(bytes(line))
        self.stderr.clear()

    def processEnded(self, reason: Failure) -> None:
        self._ended = True
        self.cancel_deadline()
        if self.stderr and self.stderr_lines <= STDERR_LINES:
            self._log_stderr(bytes(self.stderr))
        self.stderr.clear()
        d = self.deferred
        if d.called:  # cancelled: it holds its CancelledError, paused (see _cancelled)
            d.unpause()
        elif self.error is not None:
            d.errback(Failure(self.error))
        elif isinstance(reason.value, ProcessDone):
            d.callback(_lines(self.stdout))
        else:
            d.errback(Failure(ExecPluginError(_status_text(self.plugin.name, reason.value))))

    # -- limits ------------------------------------------------------------------------

    def _timed_out(self) -> None:
        self._deadline = None
        self._kill(
            ExecPluginTimeout(
                f"{self.plugin.name} took longer than {self.plugin.timeout:g} s and was killed"
            )
        )

    def _cancelled(self, d: Deferred[Any]) -> None:
        """``deferred.cancel()``: kill the child; the CancelledError waits for its end.

        Firing ``d`` paused makes ``cancel()`` leave it alone; ``processEnded``
        unpauses it, so its callbacks run once the child is gone.
        """
        if self._ended:
            return
        d.pause()
        d.errback(Failure(CancelledError()))
        self._kill(None)

    def _kill(self, error: BaseException | None) -> None:
        if self._ended:
            return
        if self.error is None:
            self.error = error  # the first reason stands
        if self.killed:
            return
        self.killed = True
        self.cancel_deadline()
        self.stdout.clear()
        # The transport signals the whole group.  Reaped already (ProcessExitedAlready):
        # its group was killed at the reaping; closing our ends lets processEnded come.
        with contextlib.suppress(ProcessExitedAlready):
            self.transport.signalProcess("KILL")
        self.transport.loseConnection()

    def _log_stderr(self, line: bytes) -> None:
        self.stderr_lines += 1
        if self.stderr_lines > STDERR_LINES:
            log.warning("exec plugin %s: ... more stderr dropped", self.plugin.name)
            return
        text = line.decode("utf-8", "replace").rstrip("\r")
        log.warning("exec plugin %s: %s", self.plugin.name, text)


def _lines(data: bytes | bytearray) -> list[str]:
    lines = bytes(data).decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def _status_text(name: str, reason: BaseException) -> str:
    sig = getattr(reason, "signal", None)
    code = getattr(reason, "exitCode", None)
    if sig is not None:
        try:
            signame = signal.Signals(sig).name
        except ValueError:
            signame = str(sig)
        return f"{name} was killed by signal {signame}"
    if code is not None:
        return f"{name} exited with status {code}"
    return f"{name} ended with an unknown status"


# -- discovery ----------------------------------------------------------------------------


def find_exec_plugins(dirs: Iterable[str | Path]) -> dict[str, Path]:
    """The exec plugins in the ``*.d`` subdirectories of ``dirs``: ``{name: path}``.

    An exec plugin is a regular executable file whose name does not start with ``.``
    nor end with ``~``; its command is the file name without its extension,
    lowercased (``roll.sh`` -> ``roll``).  On a duplicate name the first directory
    given wins, and within one directory the first ``*.d`` and file in sorted order.
    Returns the plugins sorted by name.
    """
    found: dict[str, Path] = {}
    for directory in dirs:
        for sub in _sorted_entries(Path(directory)):
            if not sub.name.endswith(".d") or sub.name.startswith(".") or not sub.is_dir():
                continue
            for entry in _sorted_entries(Path(sub.path)):
                if entry.name.startswith(".") or entry.name.endswith("~"):
                    continue
                try:
                    if not entry.is_file() or not os.access(entry.path, os.X_OK):
                        continue
                except OSError:
                    continue
                name = Path(entry.name).stem.lower()
                path = Path(entry.path)
                if not _NAME.match(name):
                    log.warning(
                        "exec plugin %s skipped: %r is not a command name "
                        "(letters, digits, '_', '.', '-')",
                        path,
                        name,
                    )
                elif name in found:
                    log.info("exec plugin %s skipped: %s is %s", path, name, found[name])
                else:
                    found[name] = path
    return dict(sorted(found.items()))


def _sorted_entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as e:
        log.warning("exec plugins: cannot list %s: %s", directory, e.strerror or e)
        return []


def read_exec_header(path: str | Path) -> tuple[str, str]:
    """``(help, usage)`` from ``# help: ...`` and ``# usage: ...`` near the top.

    Only the first ``HEADER_LINES`` lines within ``HEADER_BYTES`` are read; a binary
    file (a NUL in them), an unreadable file or a missing line gives ``""``.
    """
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return "", ""
            data = f.read(HEADER_BYTES)
    except OSError:
        return "", ""
    if b"\0" in data:
        return "", ""
    lines = data.split(b"\n")
    if len(data) == HEADER_BYTES and len(lines) > 1:
        lines.pop()  # cut by the read: not a whole line
    found = {"help": "", "usage": ""}
    for raw in lines[:HEADER_LINES]:
        m = _HEADER.match(raw.decode("utf-8", "replace").strip())
        if m and not found[m.group(1).lower()]:
            found[m.group(1).lower()] = m.group(2)
    return found["help"], found["usage"]
