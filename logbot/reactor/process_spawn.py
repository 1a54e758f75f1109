"""How a child is started: checks first, then ``posix_spawn`` or fork + exec.

* Everything that can be checked is checked *before* the fork: the executable is looked
  up on the ``PATH`` of the child's environment exactly as ``os.execvpe`` does
  (``os.get_exec_path(env)``: with ``env={}`` that is ``os.defpath``, so
  ``spawnProcess(pp, "wc", ["wc"], {})`` finds ``/usr/bin/wc``); ``path`` must be a
  directory we may enter; every inherited descriptor must be open.  A failure raises
  ``OSError`` (``FileNotFoundError``, ``NotADirectoryError``, ``PermissionError``...)
  at once, naming the executable, and nothing has been created.
* With no ``path`` (nor user or terminal: see below), the child is started with
  ``os.posix_spawn`` (glibc: vfork and exec, no Python code in the child, about twice
  the rate of a fork; bench/).  Every
  source descriptor is first copied above all the targets (close-on-exec copies), so
  the ``dup2`` actions cannot clobber one another when a target such as 3 is also the
  number of one of our own pipes; every *inheritable* parent descriptor that is not a
  target gets a close action (the rest are close-on-exec, as Python makes them).  An
  exec error is raised by ``posix_spawn`` itself.
* With a ``path`` (Python 3.11's ``posix_spawn`` cannot chdir), a user or a terminal,
  or when ``USE_POSIX_SPAWN`` is False: ``os.fork`` and, in the child, only
  ``os``/``fcntl``/``signal`` calls: reset ignored signals and the signal mask,
  ``chdir(path)``, move every source above all targets, ``dup2`` each to its target,
  close every other descriptor (``closerange``: nothing leaks), take the terminal and
  switch users if asked (below), and ``execve``.
  Anything that fails there is written to a close-on-exec error pipe, which the parent
  reads until EOF -- EOF means the exec succeeded -- as ``subprocess`` does; the parent
  then reaps the failed child and raises the same ``OSError``.  Either way the loop
  is blocked for the fork-to-exec time only (well under a millisecond).
* ``setsid`` (``spawnProcess(..., newSession=True)``): the child starts a new session,
  so it leads a process group of its own that holds everything it starts (unless one
  of those starts a session itself) and that can be signalled as one: ``posix_spawn``'s
  ``setsid`` flag (glibc 2.26), or ``os.setsid()`` in the forked child before exec.
* ``childFDs`` maps the child's descriptor numbers to ``"w"`` (the parent writes),
  ``"r"`` (the parent reads) or an int (a parent descriptor the child inherits);
  default ``{0: "w", 1: "r", 2: "r"}``.  A descriptor not named is closed in the child.
* Another user (``uid``/``gid``, for a parent running as root): always fork + exec,
  because ``posix_spawn`` cannot switch users.  In the child, after the descriptors
  are in place and just before ``execve``: ``setgroups([])`` when we are root (else
  the child would keep root's supplementary groups), then ``setgid``, then
  ``setuid`` -- in that order, since after ``setuid`` the child may no longer change
  its groups.  Twisted calls ``initgroups`` (the user's groups from /etc/group);
  dropping them all needs no user database in the forked child.  A failure (EPERM
  when not root) comes back through the error pipe like an exec error.
* A terminal (``usePTY``): ``openTerminal`` makes a pty pair (``pty.openpty``); the
  slave becomes the child's 0, 1 and 2 (an inherited descriptor in the plan), and the
  child starts a new session and makes the slave its controlling terminal
  (``TIOCSCTTY``), as ``login_tty`` does, so job control, ``/dev/tty`` and SIGHUP on
  hang-up work as in a terminal.  Also always fork + exec.

``process.py`` calls these in that order: ``encodeEnv``, ``checkIds``, ``checkPath``,
``findExecutable``, ``planFDs`` (or ``openTerminal``), ``startChild``.  Nothing here is
API.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import signal
import stat
import termios
from typing import Any

DEFAULT_CHILD_FDS = {0: "w", 1: "r", 2: "r"}
#: Start children with ``os.posix_spawn`` when no working directory is asked for
#: (Python 3.11 cannot chdir there); False always forks.
USE_POSIX_SPAWN = hasattr(os, "posix_spawn") and os.path.isdir("/proc/self/fd")


# -- checks before the fork ---------------------------------------------------------------


def encodeEnv(env: Any) -> dict[bytes, bytes]:
    envb = {}
    for k, v in env.items():
        kb, vb = os.fsencode(k), os.fsencode(v)
        if not kb or b"=" in kb or b"\0" in kb or b"\0" in vb:
            raise ValueError(f"spawnProcess: illegal environment variable name {k!r}")
        envb[kb] = vb
    return envb


def checkPath(name: str, path: str | None) -> str:
    """The child's working directory, checked; the parent's when ``path`` is None."""
    if path is None:
        return os.getcwd()
    try:
        st = os.stat(path)
    except OSError as e:
        raise type(e)(
            e.errno, f"cannot spawn {name!r}: working directory {path!r}: {e.strerror}", path
        ) from None
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(
            errno.ENOTDIR,
            f"cannot spawn {name!r}: working directory {path!r} is not a directory",
            path,
        )
    if not os.access(path, os.X_OK):
        raise PermissionError(
            errno.EACCES, f"cannot spawn {name!r}: may not enter working directory {path!r}", path
        )
    return os.path.abspath(path)


def findExecutable(name: str, env: Any, cwd: str) -> bytes:
    """Absolute path of ``name``, found as ``os.execvpe`` would in the child."""
    if os.sep in name:
        candidates = [name]
        where = ""
    else:
        dirs = os.get_exec_path(env)
        candidates = [os.path.join(d, name) for d in dirs]
        where = f" on PATH {os.pathsep.join(dirs)!r}"
    denied = None
    for c in candidates:
        full = os.path.join(cwd, c)  # relative entries are relative to the child's cwd
        try:
            st = os.stat(full)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and os.access(full, os.X_OK):
            return os.fsencode(os.path.normpath(full))
        denied = denied or full
    if denied:
        raise PermissionError(
            errno.EACCES, f"cannot spawn {name!r}: {denied!r} is not an executable file", name
        )
    raise FileNotFoundError(errno.ENOENT, f"cannot spawn {name!r}: no such executable{where}", name)


def planFDs(childFDs: dict[int, Any]) -> list[tuple[int, Any]]:
    """Validate ``childFDs``; returns ``[(childFD, "r" | "w" | parentFD)]``."""
    plan = []
    for target, how in sorted(childFDs.items()):
        if not isinstance(target, int) or target < 0:
            raise ValueError(f"childFDs: child descriptor {target!r} is not an int >= 0")
        if how in ("r", "w"):
            plan.append((target, how))
        elif isinstance(how, int) and not isinstance(how, bool) and how >= 0:
            try:
                os.fstat(how)
            except OSError as e:
                raise OSError(
                    e.errno,
                    f"childFDs: parent descriptor {how} (for child "
                    f"descriptor {target}): {e.strerror}",
                ) from None
            plan.append((target, how))
        else:
            raise ValueError(f"childFDs: {target}: {how!r} is not 'r', 'w' or a descriptor")
    return plan


#: ``uid_t``/``gid_t`` are 32 bits on Linux, and the all-ones value means "no change".
ID_LIMIT = (1 << 32) - 1


def checkIds(uid: Any, gid: Any) -> None:
    """``uid`` and ``gid`` are None or user/group numbers (as in Twisted: no names)."""
    for what, value in (("uid", uid), ("gid", gid)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"spawnProcess: {what} must be an int, not {value!r}")
        if not 0 <= value < ID_LIMIT:
            raise ValueError(f"spawnProcess: {what} {value} is out of range")


def openTerminal(usePTY: Any) -> tuple[int, int, bool]:
    """``(master, slave, made)`` for ``usePTY``: a new pty (``made``), or Twisted's
    tuple ``(masterfd, slavefd, ttyname)`` of one the caller opened, which becomes
    ours only once the child is started.  The master is made non-blocking (the
    reactor reads and writes it) and close-on-exec (no other child inherits it)."""
    made = not isinstance(usePTY, (tuple, list))
    if made:
        master, slave = pty.openpty()
    else:
        master, slave = int(usePTY[0]), int(usePTY[1])
    try:
        os.set_blocking(master, False)
        os.set_inheritable(master, False)
    except OSError:
        if made:
            os.close(master)
            os.close(slave)
        raise
    return master, slave, made


# -- the fork -----------------------------------------------------------------------------


def startChild(
    program: bytes,
    argv: list[bytes],
    envb: dict[bytes, bytes],
    path: str | None,
    plan: list[tuple[int, Any]],
    name: str,
    setsid: bool = False,
    uid: int | None = None,
    gid: int | None = None,
    ctty: bool = False,
) -> tuple[int, dict[int, tuple[str, int]]]:
    """Make the pipes and start the child; returns its pid and ``{childFD: (kind, fd)}``.

    ``setsid``: the child leads a new session (and process group) of its own.
    ``uid``/``gid``: the child runs as that user and group.  ``ctty``: the child's
    descriptor 0 (a terminal) becomes its controlling terminal (needs ``setsid``).

    On any failure every descriptor made here is closed, the child (if any) reaped,
    and the error raised.
    """
    parentEnds: dict[int, tuple[str, int]] = {}
    childEnds: list[int] = []
    moves: list[tuple[int, int]] = []  # (source, child's target)
    try:
        for target, how in plan:
            if how in ("r", "w"):
                r, w = os.pipe2(os.O_CLOEXEC)  # the child's end must stay blocking
                ours, theirs = (w, r) if how == "w" else (r, w)
                os.set_blocking(ours, False)
                parentEnds[target] = (how, ours)
                childEnds.append(theirs)
                moves.append((theirs, target))
            else:
                moves.append((how, target))
        ignored: list[int] = [s for s in _CATCHABLE if signal.getsignal(s) == signal.SIG_IGN]
        forkOnly = uid is not None or gid is not None or ctty
        if path is None and USE_POSIX_SPAWN and not forkOnly:
            pid = _posixSpawn(program, argv, envb, moves, ignored, name, setsid)
        else:
            switch = _Switch(setsid, uid, gid, ctty)
            pid = _forkExec(program, argv, envb, path, moves, ignored, name, switch)
    except BaseException:
        for fd in [*childEnds, *(fd for _, fd in parentEnds.values())]:
            os.close(fd)
        raise
    for fd in childEnds:
        os.close(fd)
    return pid, parentEnds


def _posixSpawn(
    program: bytes,
    argv: list[bytes],
    envb: dict[bytes, bytes],
    moves: list[tuple[int, int]],
    ignored: list[int],
    name: str,
    setsid: bool = False,
) -> int:
    """``posix_spawn`` (vfork and exec in glibc, no Python code in the child).

    The sources are first copied above every target (close-on-exec copies), so the
    ``dup2`` actions cannot clobber each other; every *inheritable* descriptor that is
    not a target gets a close action (the others close themselves at exec).  Exec
    errors come back from ``posix_spawn`` itself.
    """
    targets = {t for _, t in moves}
    high = max([*targets, *(s for s, _ in moves), 2]) + 1
    copies: list[tuple[int, int]] = []
    try:
        for s, t in moves:
            copies.append((fcntl.fcntl(s, fcntl.F_DUPFD_CLOEXEC, high), t))
        actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_DUP2, c, t) for c, t in copies]
        for entry in os.listdir("/proc/self/fd"):
            fd = int(entry)
            if fd in targets:
                continue
            try:
                inheritable = not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
            except OSError:  # the listing's own descriptor, closed by now
                continue
            if inheritable:
                actions.append((os.POSIX_SPAWN_CLOSE, fd))
        try:
            return os.posix_spawn(
                program,
                argv,
                envb,
                file_actions=actions,
                setsigdef=ignored,
                setsigmask=(),
                setsid=setsid,
            )
        except OSError as e:
            raise OSError(e.errno, f"cannot spawn {name!r}: exec: {e.strerror}", name) from None
    finally:
        for c, _ in copies:
            os.close(c)


class _Switch:
    """What the forked child changes about itself besides its descriptors."""

    __slots__ = ("setsid", "uid", "gid", "ctty")

    def __init__(
        self, setsid: bool, uid: int | None = None, gid: int | None = None, ctty: bool = False
    ) -> None:
        self.setsid = setsid
        self.uid = uid
        self.gid = gid
        self.ctty = ctty


def _forkExec(
    program: bytes,
    argv: list[bytes],
    envb: dict[bytes, bytes],
    path: str | None,
    moves: list[tuple[int, int]],
    ignored: list[int],
    name: str,
    switch: _Switch,
) -> int:
    """``os.fork`` and ``_child``; exec errors come back through a close-on-exec pipe."""
    errRead, errWrite = os.pipe2(os.O_CLOEXEC)
    try:
        pid = os.fork()
        if pid == 0:
            _child(program, argv, envb, path, moves, errWrite, ignored, switch)  # never returns
        os.close(errWrite)
        errWrite = -1
        report = _readAll(errRead)
    finally:
        os.close(errRead)
        if errWrite >= 0:
            os.close(errWrite)
    if report:
        os.waitpid(pid, 0)  # it has exited already (it wrote the report, then _exit)
        raise _childError(report, name, path)
    return pid


def _readAll(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        data = os.read(fd, 4096)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def _childError(report: bytes, name: str, path: str | None) -> OSError:
    step, _, rest = report.decode("utf-8", "replace").partition(":")
    code, _, text = rest.partition(":")
    try:
        err = int(code)
    except ValueError:
        err = 0
    what = f"working directory {path!r}" if step == "chdir" else f"{step}"
    if err:
        return OSError(err, f"cannot spawn {name!r}: {what}: {os.strerror(err)}", name)
    return OSError(errno.EINVAL, f"cannot spawn {name!r}: {what}: {text}", name)


_CATCHABLE = [
    s
    for s in signal.valid_signals()
    if s not in (signal.SIGKILL, signal.SIGSTOP) and 0 < s < signal.NSIG
]


def _child(
    program: bytes,
    argv: list[bytes],
    envb: dict[bytes, bytes],
    path: str | None,
    moves: list[tuple[int, int]],
    errWrite: int,
    ignored: list[int],
    switch: _Switch,
) -> None:
    """In the forked child: arrange the descriptors and exec.  Never returns.

    Only ``os``, ``fcntl`` (with ``termios`` constants) and ``signal`` calls: no locks,
    no logging, no I/O objects.
    """
    step = "setup"
    try:
        targets = sorted(t for _, t in moves)
        high = max([errWrite, *targets, *(s for s, _ in moves)]) + 1
        # The error pipe and every source go above all targets first, so that no dup2
        # onto a target can close a source another target still needs.
        errWrite = fcntl.fcntl(errWrite, fcntl.F_DUPFD_CLOEXEC, high)
        moved = [(fcntl.fcntl(s, fcntl.F_DUPFD_CLOEXEC, errWrite + 1), t) for s, t in moves]
        for s in ignored:
            signal.signal(s, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        if switch.setsid:
            step = "setsid"
            os.setsid()
        if path is not None:
            step = "chdir"
            os.chdir(path)
        step = "dup2"
        for s, t in moved:
            os.dup2(s, t)  # inheritable: clears close-on-exec on the target
        step = "close"
        low = 0
        for t in targets:
            if t > low:
                os.closerange(low, t)
            low = t + 1
        os.closerange(low, errWrite)
        os.closerange(errWrite + 1, 1 << 30)
        if switch.ctty:
            step = "controlling terminal"
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        uid, gid = switch.uid, switch.gid
        if uid is not None or gid is not None:
            if os.geteuid() == 0:
                step = "setgroups"
                os.setgroups([])
            if gid is not None:
                step = f"setgid {gid}"
                os.setgid(gid)
            if uid is not None:
                step = f"setuid {uid}"
                os.setuid(uid)
        step = "exec"
        os.execve(program, argv, envb)
    except BaseException as e:  # (the child must never return)
        try:
            code = getattr(e, "errno", 0) or 0
            os.write(errWrite, f"{step}:{code}:{e}".encode("utf-8", "replace"))
        except BaseException:  # (nowhere left to report to)
            pass
    finally:
        os._exit(127)
