"""A real PostgreSQL server from Debian's packages, for the tests: started in a
temporary folder, on a free port of 127.0.0.1, trusted local logins, gone at the end.

Why a server of our own and not the machine's: nothing outside the suite is touched or
needed (a fresh machine with the ``postgresql`` package installed is enough; the
package's own cluster need not run), and each test session gets an empty server.

PostgreSQL refuses to run as root (``initdb`` and ``postgres`` both check), so when the
suite runs as root (CI in a container) the data folder is handed to ``nobody`` and the
programs run as that user through ``setpriv`` (util-linux, always on Debian), which also
gives the server SIGKILL if the test process dies.  The server listens on TCP only (no
Unix socket: the folder may sit in a path too long for one), ``fsync`` off (a test
database never needs to survive a power cut; the suite runs faster).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from tests.ircd.servers import HOST, free_ports

__all__ = ["PG_PACKAGE", "PgMissing", "PgServer", "find_pg_bin"]

#: The Debian package that has ``initdb``, ``pg_ctl`` and ``postgres``.
PG_PACKAGE = "postgresql"
START_TIMEOUT = 30.0  # seconds: pg_ctl -w waits this long for the server to accept logins


class PgMissing(RuntimeError):
    """PostgreSQL's server programs are not installed (the message names the package)."""


def find_pg_bin() -> str | None:
    """The folder of ``initdb``/``pg_ctl``: Debian keeps them in
    /usr/lib/postgresql/<version>/bin, off the PATH; the newest version wins."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return os.path.dirname(os.path.realpath(found))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    return os.path.dirname(versions[-1]) if versions else None


def _as_user() -> tuple[list[str], int | None, int | None]:
    """The argv prefix that runs a program as an unprivileged user when we are root,
    and that user's uid and gid (None when we are not root)."""
    setpriv = shutil.which("setpriv") or "setpriv"
    if os.geteuid() != 0:
        return [setpriv, "--pdeathsig", "KILL", "--"], None, None
    user = pwd.getpwnam("nobody")
    prefix = [setpriv, "--reuid", str(user.pw_uid), "--regid", str(user.pw_gid)]
    return [*prefix, "--clear-groups", "--pdeathsig", "KILL", "--"], user.pw_uid, user.pw_gid


@dataclass
class PgServer:
    """One running server; ``dsn(db)`` is a libpq connection string for database ``db``
    as the superuser ``postgres`` (trusted: no password)."""

    folder: str
    port: int
    bindir: str

    @classmethod
    def start(cls) -> PgServer:
        bindir = find_pg_bin()
        if bindir is None:
            raise PgMissing(f"PostgreSQL is not installed (Debian package {PG_PACKAGE})")
        prefix, uid, gid = _as_user()
        folder = tempfile.mkdtemp(prefix="logbot-pg-")
        data = os.path.join(folder, "data")
        os.mkdir(data, 0o700)
        if uid is not None and gid is not None:
            os.chown(folder, uid, gid)
            os.chown(data, uid, gid)
        env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
        subprocess.run(
            [
                *prefix,
                os.path.join(bindir, "initdb"),
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        (port,) = free_ports(1)
        server = cls(folder, port, bindir)
        try:
            server.resume()
        except RuntimeError:
            server.stop()
            raise
        return server

    def _pg_ctl(self, *args: str) -> None:
        prefix, _, _ = _as_user()
        data = os.path.join(self.folder, "data")
        env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
        subprocess.run(
            [*prefix, os.path.join(self.bindir, "pg_ctl"), "-D", data, *args],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def resume(self) -> None:
        """Start the server (again, after :meth:`pause`), and wait until it takes logins."""
        options = (
            f"-c listen_addresses={HOST} -c port={self.port} -c unix_socket_directories=''"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=50 -c shared_buffers=32MB"
        )
        log = os.path.join(self.folder, "server.log")
        try:
            self._pg_ctl("-l", log, "-o", options, "-w", "-t", str(int(START_TIMEOUT)), "start")
        except subprocess.CalledProcessError as e:
            raise RuntimeError(
                f"PostgreSQL did not start: {e.stderr!r}\n{self.log_tail()}"
            ) from None

    def pause(self) -> None:
        """Stop the server, keeping its data (a database outage); :meth:`resume` ends it."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def dsn(self, db: str = "postgres") -> str:
        return f"host={HOST} port={self.port} user=postgres dbname={db} connect_timeout=10"

    def create_database(self, name: str) -> str:
        """A new empty database ``name``; its DSN."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(os.path.join(self.folder, "server.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        prefix, _, _ = _as_user()
        data = os.path.join(self.folder, "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(
                [
                    *prefix,
                    os.path.join(self.bindir, "pg_ctl"),
                    "-D",
                    data,
                    "-m",
                    "immediate",
                    "stop",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        deadline = time.monotonic() + 10
        while os.path.exists(os.path.join(data, "postmaster.pid")) and time.monotonic() < deadline:
            time.sleep(0.05)  # only at teardown: pg_ctl stop already waited
        shutil.rmtree(self.folder, ignore_errors=True)
