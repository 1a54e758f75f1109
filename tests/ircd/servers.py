"""Real IRC servers from Debian, started on 127.0.0.1 with our own configs.

``IRCServer("ngircd" | "inspircd" | "inspircd-anope", workdir)`` renders the config
templates next to this file into ``workdir``, makes fresh TLS material (a trustme CA
and a server certificate for 127.0.0.1/localhost), starts the server with
``subprocess.Popen`` and returns from ``start()`` only when it is ready to use:

* the TLS port accepts a connection and the plain port answers an IRC ``PING``
  (InspIRCd opens its listeners before loading modules and may still exit on a
  config error, so an open port alone is not enough);
* for ``inspircd-anope``: the services are linked, seen as ``sasl`` in ``CAP LS``
  (InspIRCd offers that capability only while services are linked), and the
  accounts exist (registered through NickServ, each with a client certificate
  fingerprint for SASL EXTERNAL).

Every wait is a poll with short socket timeouts under one deadline
(``start_timeout``); nothing sleeps for a fixed time.  Servers still running when the
test process exits are killed (atexit); if that process is killed with SIGKILL,
InspIRCd and Anope die with it (``setpriv --pdeathsig``), ngIRCd does not (see below).
No server writes core files.

Facts about the servers that shaped this module (Debian bookworm: ngIRCd 26.1,
InspIRCd 3.15, Anope 2.0.12):

* InspIRCd refuses to run as root without ``--runasroot`` (CI runs as root), and it
  segfaults on its way out after SIGTERM, so it is stopped with SIGKILL; it keeps no
  state we need.
* ngIRCd started as root switches to "nobody" (and refuses ``ServerUID = 0``), after
  reading its config and key; the credential change clears the parent-death signal.
* InspIRCd completes a client's registration (001) in its housekeeping, which runs
  when its event loop has waited 1 s without events: registering takes 1 s after
  the client's last line.  Connect several peers in parallel.
* Anope sleeps 3 s at start-up when its real uid *and* gid are both 0 (a warning about
  running as root).  As root we start it with gid ``nogroup``: uid 0 still owns and
  writes the work directory, and the sleep is gone.
* Anope is started only after InspIRCd is ready, so its first uplink attempt works
  (it would otherwise retry after ``retrywait``).
* InspIRCd's ``ircv3_sts`` (``sts_duration=``) advertises ``sts=port=<TLS port>`` on the
  plain port to everyone, but ``sts=duration=N`` on the TLS port only to a client whose
  TLS server name (SNI) matches ``<sts host>``: Python sends no SNI for an IP address,
  so a client that wants the persistence policy connects to ``STS_HOST`` (localhost),
  which the certificate names too.  The module refuses to load unless ``<sts port>`` is
  a TLS listener.
* ngIRCd (DHFile) and InspIRCd (dhfile) take DH parameters from a file; both get the
  fixed RFC 7919 ffdhe2048 group (``ffdhe2048.pem``, the output of
  ``openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048``), so nothing
  is generated at start.
* InspIRCd reads ``netbuffersize`` bytes from a client at a time and, after two full
  reads in a row, reads that client again only in its housekeeping (up to 1 s
  later): with the usual 10240 a 30 KB burst takes 2 s to get through.  Flood mode
  "off" raises it to 65000 (the maximum is 65534; larger values are ignored).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import hashlib
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import IO, Any, Self

import trustme

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"  # never another address
#: The name an STS client connects to (it resolves to HOST): see the module docstring.
STS_HOST = "localhost"
NAMES = ("ngircd", "inspircd", "inspircd-anope")

#: binary -> Debian package that provides it
PACKAGES = {"ngircd": "ngircd", "inspircd": "inspircd", "anope": "anope"}
_BINARIES = {
    "ngircd": ("ngircd",),
    "inspircd": ("inspircd",),
    "inspircd-anope": ("inspircd", "anope"),
}

# Credentials are made afresh for every test run, never committed: the servers are
# throwaway, but a password in a config file in the repository is a habit we keep out.
OPER = ("oper", secrets.token_urlsafe(12))
DEFAULT_ACCOUNTS = {"testbot": secrets.token_urlsafe(12)}
LINK_PASSWORD = secrets.token_urlsafe(12)

# Flood settings per mode (see the comments in the templates).
_FLOOD = {
    "off": {
        "PENALTY": "0",
        "RECVQ": "1M",
        "THRESHOLD": "1000000",
        "COMMANDRATE": "1000000",
        "FAKELAG": "no",
        "NETBUFFERSIZE": "65000",
    },
    "default": {
        "PENALTY": "-1",
        "RECVQ": "10K",
        "THRESHOLD": "10",
        "COMMANDRATE": "1000",
        "FAKELAG": "yes",
        "NETBUFFERSIZE": "10240",
    },
}

#: Flood mode "scaled" (InspIRCd only) is mode "default" with the command rate this many
#: times higher: 10 lines a second instead of 1.  The threshold (a burst of 10), the fake
#: lag, the 10 KB receive queue and its "RecvQ exceeded" kill stay as they are.  Our
#: default bucket made this many times faster meets these limits in a tenth of the time
#: (tests/irc/test_flood_inspircd.py says why that run stands for the default bucket
#: against the default limits).  10 is also the most it can be: the threshold lets at
#: most 10 commands run between two of InspIRCd's once-a-second penalty reductions, so a
#: higher command rate would not make the server faster than 10 lines a second.
FLOOD_SPEEDUP = 10
_FLOOD["scaled"] = {**_FLOOD["default"], "COMMANDRATE": str(1000 * FLOOD_SPEEDUP)}


def flood_settings(flood: str) -> dict[str, str]:
    """The values a flood mode renders into the config templates (a copy)."""
    return dict(_FLOOD[flood])


_running: set[IRCServer] = set()  # killed at interpreter exit, whatever the tests did


@atexit.register
def _kill_leftovers() -> None:
    for server in list(_running):
        server.kill()


class ServerMissing(RuntimeError):
    """A server binary is not installed; the message names the Debian package."""


class ServerStartError(RuntimeError):
    """The server did not become ready; the message ends with its log tail."""


def find_binary(name: str) -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/sbin"
    return shutil.which(name, path=path)


def missing_packages(name: str) -> list[str]:
    """The Debian packages to install before server ``name`` can run."""
    return [PACKAGES[b] for b in _BINARIES[name] if find_binary(b) is None]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (all bound at once, then freed)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _render(template: str, values: dict[str, str]) -> str:
    text = (HERE / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    left = sorted(set(re.findall(r"@[A-Z_]+@", text)))
    if left:
        raise ValueError(f"{template}: placeholders not rendered: {', '.join(left)}")
    return text


def _die_with_us(argv: list[str]) -> list[str]:
    """``argv`` run through ``setpriv --pdeathsig KILL`` (util-linux, always on Debian),
    so the server gets SIGKILL if the test process dies.  (Popen's ``preexec_fn``
    could do it too, but is unsafe in a process with threads, as ours may have.)"""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *argv] if setpriv else argv


class _LineClient:
    """A blocking IRC connection for start-up checks (not for tests: see peer.py)."""

    def __init__(self, port: int, deadline: float, tls: ssl.SSLContext | None = None) -> None:
        self.deadline = deadline
        self.sock = socket.create_connection((HOST, port), timeout=self._left())
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=HOST)
        self.buf = b""
        self.seen: list[str] = []

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def readline(self) -> str:
        while b"\n" not in self.buf:
            self.sock.settimeout(min(self._left(), 1.0))
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionError(
                    "server closed the connection; last lines: " + " | ".join(self.seen[-5:])
                )
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        text = line.rstrip(b"\r").decode("utf-8", "replace")
        self.seen.append(text)
        if text.startswith("PING "):
            self.send("PONG " + text[5:])
        return text

    def wait_for(self, predicate: Any) -> str:
        while True:
            line = self.readline()
            if predicate(line):
                return line

    def close(self) -> None:
        try:
            self.send("QUIT :check done")
        except OSError:
            pass
        self.sock.close()


def _command(line: str) -> str:
    """The command (or numeric) of a raw line, after optional tags and prefix."""
    parts = line.split()
    if parts and parts[0].startswith("@"):
        parts = parts[1:]
    if parts and parts[0].startswith(":"):
        parts = parts[1:]
    return parts[0] if parts else ""


class IRCServer:
    """One IRC server (and its services) on 127.0.0.1, owned by this object.

    ``name``: ``ngircd``, ``inspircd`` or ``inspircd-anope``.  ``flood``: ``"off"``
    (no throttling: bursts of thousands of lines arrive intact), ``"default"`` (the
    server's usual limits; InspIRCd kills a client whose receive queue passes 10 KB) or,
    for InspIRCd only, ``"scaled"`` (those limits with a command rate ``FLOOD_SPEEDUP``
    times higher).
    ``accounts``: NickServ accounts ``{user: password}`` created at start
    (inspircd-anope only; default ``testbot`` with a password made for this run).
    ``sts_duration`` (InspIRCd only): load ``ircv3_sts`` with that policy duration in
    seconds (``0`` revokes a policy) for the TLS port, host ``STS_HOST``; None: no STS.
    It may be changed between ``stop()`` and ``start()`` (the config is rendered anew).
    ``max_channels`` (InspIRCd only): the channels one client may join (405 past it);
    ``chanlimit``: the limit ISUPPORT says (None: ``max_channels``; another number makes
    the server refuse JOINs its CHANLIMIT allows).

    Ports and the CA are chosen once: a server started again after ``stop()`` or
    ``kill()`` listens on the same ports with the same certificate, so a client can
    reconnect to it.  Accounts are registered again on each start (fresh database).
    """

    host = HOST

    def __init__(
        self,
        name: str,
        workdir: str | os.PathLike[str],
        flood: str = "off",
        accounts: dict[str, str] | None = None,
        start_timeout: float = 30.0,
        sts_duration: int | None = None,
        max_channels: int = 100,
        chanlimit: int | None = None,
    ) -> None:
        if name not in NAMES:
            raise ValueError(f"unknown server {name!r}; one of {', '.join(NAMES)}")
        if sts_duration is not None and name == "ngircd":
            raise ValueError("sts_duration loads InspIRCd's ircv3_sts: not for ngircd")
        if flood not in _FLOOD:
            raise ValueError(f"flood must be one of {', '.join(_FLOOD)}, not {flood!r}")
        if flood == "scaled" and name == "ngircd":
            raise ValueError("flood mode 'scaled' scales InspIRCd's commandrate: not for ngircd")
        self.name = name
        self.flood = flood
        self.services = name == "inspircd-anope"
        if accounts is None:
            accounts = dict(DEFAULT_ACCOUNTS) if self.services else {}
        if accounts and not self.services:
            raise ValueError(f"{name} has no services: accounts need inspircd-anope")
        self.accounts = dict(accounts)
        self.sts_duration = sts_duration
        # InspIRCd only: the channels a client may join, and the CHANLIMIT it says
        # (None: the same)
        self.max_channels = max_channels
        self.chanlimit = max_channels if chanlimit is None else chanlimit
        self.workdir = Path(workdir)
        self.start_timeout = start_timeout
        self.port, self.tls_port, self.link_port = free_ports(3)
        self.ca = trustme.CA()
        self.ca_path = self.workdir / "tls" / "ca.pem"
        self.oper = OPER
        self.shared = False  # set by the session fixtures: stop/pause/kill refused
        self.start_seconds: float | None = None
        self._ircd: subprocess.Popen[bytes] | None = None
        self._services: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []
        self._client_certs: dict[str, trustme.LeafCert] = {}
        self._paused = False

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"<IRCServer {self.name} {self.host}:{self.port} tls:{self.tls_port} "
            f"flood={self.flood} {state}>"
        )

    # -- files ------------------------------------------------------------------------

    @property
    def ircd_log(self) -> Path:
        return self.workdir / f"{self.name.split('-')[0]}.out"

    @property
    def services_log(self) -> Path:
        return self.workdir / "anope.out"

    def _write_tls(self) -> dict[str, str]:
        tls = self.workdir / "tls"
        tls.mkdir(parents=True, exist_ok=True)
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        cert_path, key_path = tls / "server.pem", tls / "server.key"
        # the chain (leaf first) so that a client that trusts only the CA verifies it
        cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(key_path))
        key_path.chmod(0o600)
        dh = tls / "ffdhe2048.pem"
        shutil.copyfile(HERE / "ffdhe2048.pem", dh)
        return {"CERT": str(cert_path), "KEY": str(key_path), "DHPARAMS": str(dh)}

    def client_cert(self, account: str) -> Path:
        """A PEM file (certificate + key) for ``account``, issued by this server's CA.

        For inspircd-anope its SHA-256 fingerprint is added to the account with
        ``NickServ CERT ADD`` at start, so SASL EXTERNAL works with it.
        """
        if account not in self._client_certs:
            self._client_certs[account] = self.ca.issue_cert(f"{account}@logbot.test")
        path = self.workdir / "tls" / f"client-{account}.pem"
        if not path.exists():
            leaf = self._client_certs[account]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(
                leaf.private_key_pem.bytes() + b"".join(b.bytes() for b in leaf.cert_chain_pems)
            )
            path.chmod(0o600)
        return path

    def client_cert_fingerprint(self, account: str) -> str:
        """The SHA-256 fingerprint (lower-case hex) InspIRCd reports for that cert."""
        self.client_cert(account)
        pem = self._client_certs[account].cert_chain_pems[0].bytes().decode()
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()

    def client_context(self, cert_account: str | None = None) -> ssl.SSLContext:
        """A client TLS context that trusts only this server's CA (and checks the host
        name); with ``cert_account`` it also presents that account's certificate."""
        ctx = ssl.create_default_context(cafile=str(self.ca_path))  # no system CAs
        if cert_account is not None:
            ctx.load_cert_chain(str(self.client_cert(cert_account)))
        return ctx

    def _render_all(self) -> None:
        values = {
            "HOST": HOST,
            "PORT": str(self.port),
            "TLS_PORT": str(self.tls_port),
            "LINK_PORT": str(self.link_port),
            "LINK_PASSWORD": LINK_PASSWORD,
            "OPER_NAME": self.oper[0],
            "OPER_PASSWORD": self.oper[1],
            "WORKDIR": str(self.workdir),
            "MOTD": str(self.workdir / "motd.txt"),
        }
        values.update(_FLOOD[self.flood])
        values.update(self._write_tls())
        shutil.copyfile(HERE / "motd.txt", self.workdir / "motd.txt")
        if self.name == "ngircd":
            (self.workdir / "ngircd.conf").write_text(_render("ngircd.conf.in", values))
            return
        values["SERVICES"] = ""
        values["STS"] = self._sts_tags()
        values["MAXCHANS"] = str(self.max_channels)
        values["CHANLIMIT"] = str(self.chanlimit)
        if self.services:
            values["SERVICES"] = _render("inspircd-services.conf.in", values)
            (self.workdir / "anope.conf").write_text(_render("anope.conf.in", values))
            for old in ("anope.db", "anope.pid"):
                (self.workdir / old).unlink(missing_ok=True)
        (self.workdir / "inspircd.conf").write_text(_render("inspircd.conf.in", values))

    def _sts_tags(self) -> str:
        """InspIRCd's STS module and policy (nothing when ``sts_duration`` is None)."""
        if self.sts_duration is None:
            return ""
        return (
            '<module name="ircv3_sts">\n'
            f'<sts host="{STS_HOST}" port="{self.tls_port}" duration="{self.sts_duration}">\n'
        )

    # -- processes ------------------------------------------------------------------

    def _popen(self, argv: list[str], log: Path, **kw: Any) -> subprocess.Popen[bytes]:
        out = open(log, "ab")  # noqa: SIM115 - the server writes it until stop()
        self._logs.append(out)
        proc = subprocess.Popen(
            _die_with_us(argv),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kw,
        )
        # No core files (a crash is reported through the log tail, not a 1 MB core).
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_CORE, (0, 0))
        except (OSError, ValueError):
            pass  # it exited already: _check_alive reports that
        return proc

    def _ircd_argv(self) -> list[str]:
        if self.name == "ngircd":
            return [
                find_binary("ngircd") or "ngircd",
                "--nodaemon",
                "--passive",
                "--config",
                str(self.workdir / "ngircd.conf"),
            ]
        argv = [
            find_binary("inspircd") or "inspircd",
            "--config",
            str(self.workdir / "inspircd.conf"),
            "--nofork",
            "--nopid",
        ]
        if os.geteuid() == 0:
            argv.append("--runasroot")
        return argv

    def _services_argv(self) -> list[str]:
        return [
            find_binary("anope") or "anope",
            "--nofork",
            f"--confdir={self.workdir}",
            f"--dbdir={self.workdir}",
            f"--logdir={self.workdir}",
            "--modulesdir=/usr/lib/anope",
            "--config=anope.conf",
        ]

    @property
    def running(self) -> bool:
        procs = [p for p in (self._ircd, self._services) if p is not None]
        return bool(procs) and all(p.poll() is None for p in procs)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def pid(self) -> int | None:
        return self._ircd.pid if self._ircd is not None else None

    def start(self) -> IRCServer:
        """Start and wait until ready (see the module docstring); returns self."""
        if self._ircd is not None and self._ircd.poll() is None:
            raise RuntimeError(f"{self!r} is already running")
        missing = missing_packages(self.name)
        if missing:
            raise ServerMissing(
                f"{self.name} cannot start: not installed; install the Debian "
                f"package(s): apt-get install -y --no-install-recommends {' '.join(missing)}"
            )
        t0 = time.monotonic()
        deadline = t0 + self.start_timeout
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._render_all()
        self._ircd = self._services = None  # a restart forgets the old processes
        try:
            _running.add(self)
            self._ircd = self._popen(self._ircd_argv(), self.ircd_log)
            self._wait_tls_accepts(deadline)
            self._wait_ping_answered(deadline)
            if self.services:
                kw: dict[str, Any] = {}
                if os.getuid() == 0 and os.getgid() == 0:
                    kw["group"] = _nogroup()  # skips Anope's 3 s "running as root" sleep
                self._services = self._popen(self._services_argv(), self.services_log, **kw)
                self._wait_services_linked(deadline)
                self._register_accounts(deadline)
        except BaseException as e:
            tail = self.log_tail()
            self.kill()
            if isinstance(e, (ServerStartError, KeyboardInterrupt)):
                raise
            raise ServerStartError(f"{self.name} did not become ready: {e}\n{tail}") from e
        self.start_seconds = time.monotonic() - t0
        return self

    def _check_alive(self, what: str) -> None:
        for proc, label in ((self._ircd, self.name), (self._services, "anope")):
            if proc is not None and proc.poll() is not None:
                raise ServerStartError(
                    f"{label} exited with status {proc.returncode} while waiting for "
                    f"{what}\n{self.log_tail()}"
                )

    def _poll(self, what: str, deadline: float, attempt: Any) -> Any:
        """Call ``attempt()`` until it returns a true value; between tries wait on the
        process (which also notices an early exit), never past ``deadline``."""
        last: BaseException | None = None
        while True:
            self._check_alive(what)
            try:
                result = attempt()
                if result:
                    return result
            except (OSError, TimeoutError) as e:
                last = e
            if time.monotonic() >= deadline:
                raise ServerStartError(
                    f"{self.name}: no {what} within {self.start_timeout:.0f} s "
                    f"(last error: {last})\n{self.log_tail()}"
                )
            proc = self._services if what.startswith("services") else self._ircd
            try:
                assert proc is not None
                proc.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                pass

    def _wait_tls_accepts(self, deadline: float) -> None:
        def attempt() -> bool:
            with socket.create_connection((HOST, self.tls_port), timeout=0.5):
                return True

        self._poll("TLS port accepting", deadline, attempt)

    def _wait_ping_answered(self, deadline: float) -> None:
        def attempt() -> bool:
            c = _LineClient(self.port, min(deadline, time.monotonic() + 2.0))
            try:
                c.send("PING :ready")
                return bool(c.readline())
            finally:
                c.sock.close()

        self._poll("answer to PING on the plain port", deadline, attempt)

    def _wait_services_linked(self, deadline: float) -> None:
        # One connection: CAP LS 302 implies cap-notify, so when services link later,
        # InspIRCd sends "CAP * NEW :sasl" on it.  No reconnect loop needed.
        def attempt() -> bool:
            c = _LineClient(self.port, deadline)
            try:
                c.send("CAP LS 302")
                while True:
                    self._check_alive("services link")
                    try:
                        c.deadline = min(deadline, time.monotonic() + 0.2)
                        line = c.readline()
                    except TimeoutError:
                        if time.monotonic() >= deadline:
                            raise
                        continue
                    parts = line.split()
                    offered = line.split(" :", 1)[-1].split()
                    if (
                        len(parts) > 3
                        and parts[1] == "CAP"
                        and parts[3] in ("LS", "NEW")
                        and "sasl" in [cap.split("=")[0] for cap in offered]
                    ):
                        return True
            finally:
                c.sock.close()

        self._poll("services link (sasl in CAP LS)", deadline, attempt)

    def _register_accounts(self, deadline: float) -> None:
        """Register each account with NickServ, over TLS with that account's client
        certificate, and add the certificate's fingerprint (``CERT ADD`` adds only
        the fingerprint of the connection it comes from).  One connection per
        account, in parallel: InspIRCd takes up to 1 s to register each."""
        if not self.accounts:
            return
        with concurrent.futures.ThreadPoolExecutor(len(self.accounts)) as pool:
            futures = [
                pool.submit(self._register_account, user, password, deadline)
                for user, password in self.accounts.items()
            ]
            for f in futures:
                f.result()

    def _register_account(self, user: str, password: str, deadline: float) -> None:
        c = _LineClient(self.tls_port, deadline, self.client_context(user))
        try:
            c.send(f"NICK {user}")
            c.send(f"USER {user[:10]} 0 * :account setup")
            reply = c.wait_for(lambda line: _command(line) in ("001", "432", "433"))
            if _command(reply) != "001":
                raise ServerStartError(f"could not register as {user}: {reply}")
            c.send(f"PRIVMSG NickServ :REGISTER {password}")
            reply = c.wait_for(_from_nickserv)
            if "registered" not in reply:
                raise ServerStartError(f"NickServ REGISTER {user}: {reply}")
            c.send("PRIVMSG NickServ :CERT ADD")
            reply = c.wait_for(_from_nickserv)
            if self.client_cert_fingerprint(user) not in reply:
                raise ServerStartError(f"NickServ CERT ADD for {user}: {reply}")
        finally:
            c.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (and services); waits at most ``timeout``, then SIGKILL."""
        self._refuse_if_shared("stop")
        self._end(graceful=True, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the server and services at once (a crash, as the client sees it)."""
        self._end(graceful=False, timeout=5.0)

    def _end(self, graceful: bool, timeout: float) -> None:
        procs = [
            (p, name)
            for p, name in ((self._services, "anope"), (self._ircd, self.name))
            if p is not None
        ]
        for proc, name in procs:
            if proc.poll() is not None:
                continue
            if self._paused:
                proc.send_signal(signal.SIGCONT)
            # InspIRCd 3.15 segfaults while exiting on SIGTERM: it gets SIGKILL.
            sig = signal.SIGKILL
            if graceful and not name.startswith("inspircd"):
                sig = signal.SIGTERM
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
        end = time.monotonic() + timeout
        for proc, _ in procs:
            try:
                proc.wait(timeout=max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._paused = False
        _running.discard(self)
        for f in self._logs:
            f.close()
        self._logs = []

    def pause(self) -> None:
        """SIGSTOP the IRC server: connections stay open but nothing is answered."""
        self._refuse_if_shared("pause")
        assert self._ircd is not None and self._ircd.poll() is None, "not running"
        self._ircd.send_signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """SIGCONT after ``pause()``."""
        assert self._ircd is not None
        self._ircd.send_signal(signal.SIGCONT)
        self._paused = False

    def _refuse_if_shared(self, what: str) -> None:
        if self.shared:
            fresh = "fresh_" + self.name.replace("-", "_")
            raise RuntimeError(
                f"{what}() on the session-wide {self.name} server would break the tests "
                f"that share it; use the function-scoped fixture {fresh} instead"
            )

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of each log the server(s) wrote, for failure messages."""
        out = []
        for path in (
            self.ircd_log,
            self.workdir / "inspircd.log",
            self.services_log,
            self.workdir / "services.log",
        ):
            text = _tail(path, lines)
            if text:
                out.append(f"--- {path} (last {lines} lines)\n{text}")
        return "\n".join(out) or f"(no logs in {self.workdir})"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shared = False
        self.stop()


def _from_nickserv(line: str) -> bool:
    return line.startswith(":NickServ!") and " NOTICE " in line


def _nogroup() -> int:
    import grp

    for name in ("nogroup", "nobody"):
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            pass
    return 65534


def _tail(path: Path, lines: int) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
