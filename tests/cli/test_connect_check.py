"""``logbot check --connect``: each server tried step by step, as a child process.

Against the test IRC server (plain, and behind a TLS port with a trustme certificate,
with and without ``ca_file``), a closed port, the plain port given as TLS, a wrong
server password, and InspIRCd with Anope for SASL.  What is checked: each step's line
(OK/FAILED, what to do), the certificate's fields and fingerprint even when it is not
trusted, the exit status, that no channel is joined and no log written, and that no
secret reaches the output.
"""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from logbot.bot.der import subject_public_key_info
from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer, _ServerFactory
from tests.cli.logbot_child import Child, run_logbot
from tests.integration.recording_bot import unique

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
PASSWORD = "server-Pass-1234"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write(tmp_path: Path, networks: list[dict[str, Any]]) -> Path:
    path = tmp_path / "bot.yaml"
    config = {"logging": {"root": str(tmp_path / "logs")}, "networks": networks}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _steps(child: Child) -> list[str]:
    """The report's lines with runs of spaces squeezed and times blanked."""
    lines = [re.sub(r" +", " ", line.strip()) for line in child.out.splitlines()]
    return [re.sub(r" \d+(\.\d+)? (ms|s) ", " T ", line) for line in lines]


def _section(steps: list[str], header: str) -> list[str]:
    """The lines of one server's check (from its header to the next header)."""
    start = steps.index(header)
    end = next(
        (i for i in range(start + 1, len(steps)) if re.match(r"^[\w.-]+: ", steps[i])),
        len(steps),
    )
    return steps[start:end]


class TLSTestServer:
    """The test IRC server, also behind a TLS port (a trustme certificate for localhost)."""

    def __init__(self, reactor: Any, tmp_path: Path, password: str | None = None) -> None:
        self.ircd = TestIRCServer(reactor, password=password)
        self.port = self.ircd.start()
        self.ca = trustme.CA()
        leaf = self.ca.issue_cert("localhost")
        self.der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
        self.spki = subject_public_key_info(self.der)
        self.ca_file = tmp_path / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        leaf.configure_cert(context)
        self.tls = reactor.listenSSL(0, _ServerFactory(self.ircd), context, interface="127.0.0.1")
        self.tls_port = self.tls.getHost().port

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.der).hexdigest().upper()
        return ":".join(digest[i : i + 2] for i in range(0, 64, 2))

    @property
    def key_fingerprint(self) -> str:
        digest = hashlib.sha256(self.spki).hexdigest().upper()
        return ":".join(digest[i : i + 2] for i in range(0, 64, 2))

    def stop(self, run_until: Any) -> None:
        self.tls.stopListening()
        run_until(self.ircd.stop())


@ONE_REACTOR
def test_every_network_reaches_a_server_exit_0(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = TLSTestServer(reactor, tmp_path)
    closed = _closed_port()
    config = _write(
        tmp_path,
        [
            {
                "name": "plain",
                "nick": "checker",
                "servers": [f"127.0.0.1:{closed}", f"127.0.0.1:{server.port}"],
                "channels": ["#never"],
            },
            {
                "name": "secure",
                "nick": "checker2",
                "servers": [
                    {
                        "host": "localhost",
                        "port": server.tls_port,
                        "tls": True,
                        "ca_file": str(server.ca_file),
                    }
                ],
                "channels": ["#never"],
            },
            {
                "name": "loose",
                "nick": "checker3",
                "servers": [
                    {"host": "localhost", "port": server.tls_port, "tls": True, "verify": False}
                ],
            },
        ],
    )
    try:
        child = run_logbot(reactor, run_until, tmp_path / "c", ["check", "--connect", str(config)])
    finally:
        server.stop(run_until)
    assert child.proc.returncode == 0, child.out + child.err
    steps = _steps(child)
    assert _section(steps, f"plain: 127.0.0.1:{closed}") == [
        f"plain: 127.0.0.1:{closed}",
        "name lookup OK T 127.0.0.1 is an address",
        f"TCP FAILED T 127.0.0.1:{closed} refused the connection (nothing listens there?)",
    ]
    assert _section(steps, f"plain: 127.0.0.1:{server.port}") == [
        f"plain: 127.0.0.1:{server.port}",
        "name lookup OK T 127.0.0.1 is an address",
        f"TCP OK T connected to 127.0.0.1:{server.port}",
        "registration OK T registered as checker on irc.demo.test",
    ]
    assert "plain: OK: 1 of 2 servers registered" in steps
    secure = _section(steps, f"secure: localhost:{server.tls_port} (tls)")
    assert secure[1] == "name lookup OK T localhost: 127.0.0.1"
    assert secure[2] == f"TCP OK T connected to 127.0.0.1:{server.tls_port}"
    assert secure[3] == "TLS OK T handshake done; the certificate is verified"
    assert secure[4].startswith("subject O=trustme")
    assert secure[5].startswith("issuer O=trustme") and "Testing CA" in secure[5]
    assert secure[6] == "names localhost"
    assert re.fullmatch(r"expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in \d+ days\)", secure[7])
    assert secure[8] == f"SHA-256 {server.fingerprint}"
    assert secure[9] == f"to pin fingerprint: sha256:{server.fingerprint}"  # the line to paste
    assert secure[10] == f"to pin fingerprint: spki-sha256:{server.key_fingerprint}"
    assert secure[11] == "registration OK T registered as checker2 on irc.demo.test"
    assert "secure: OK: 1 of 1 server registered" in steps
    loose = _section(steps, f"loose: localhost:{server.tls_port} (tls)")
    assert loose[3] == "TLS OK T handshake done; the certificate is NOT verified (verify: false)"
    assert loose[8] == f"SHA-256 {server.fingerprint}"  # shown all the same
    assert loose[11] == "registration OK T registered as checker3 on irc.demo.test"
    assert steps[-1] == "loose: OK: 1 of 1 server registered"
    # never a JOIN, never a log, and each connection QUIT
    said = [line for way, _, line in server.ircd.log if way == "in"]
    assert not any(line.startswith("JOIN") for line in said)
    assert said.count("QUIT :logbot check --connect") == 3
    assert not (tmp_path / "logs").exists()


@ONE_REACTOR
def test_what_goes_wrong_is_said_and_the_exit_status_is_1(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = TLSTestServer(reactor, tmp_path, password=PASSWORD)
    config = _write(
        tmp_path,
        [
            {
                "name": "untrusted",
                "nick": "checker",
                "password": PASSWORD,
                "servers": [{"host": "localhost", "port": server.tls_port, "tls": True}],
            },
            {
                "name": "notls",
                "nick": "checker",
                "servers": [{"host": "127.0.0.1", "port": server.port, "tls": True}],
            },
            {"name": "noname", "nick": "checker", "servers": ["irc..example:6667"]},
            {
                "name": "badpass",
                "nick": "checker",
                "password": "not-" + PASSWORD,
                "servers": [f"127.0.0.1:{server.port}"],
            },
        ],
    )
    try:
        child = run_logbot(
            reactor,
            run_until,
            tmp_path / "c",
            ["check", "--connect", str(config)],
            env={"LOGBOT_LOG_LEVEL": "debug"},
        )
    finally:
        server.stop(run_until)
    assert child.proc.returncode == 1, child.out + child.err
    steps = _steps(child)
    untrusted = _section(steps, f"untrusted: localhost:{server.tls_port} (tls)")
    assert untrusted[3] == (
        f"TLS FAILED T localhost:{server.tls_port}: the server's TLS certificate is not trusted"
        " (unable to get local issuer certificate): if it is self-signed or from a private"
        " CA, set ca_file: to that certificate or CA (a PEM file), or verify: false to"
        " accept any certificate"
    )
    assert untrusted[4] == "the certificate it showed:"  # fetched again, unverified
    assert untrusted[5].startswith("subject O=trustme")
    assert f"SHA-256 {server.fingerprint}" in untrusted
    assert f"to pin fingerprint: sha256:{server.fingerprint}" in untrusted
    assert untrusted[-1] == "registration skipped not tried (the bot would stop before)"
    notls = _section(steps, f"notls: 127.0.0.1:{server.port} (tls)")
    assert notls[3].startswith(
        f"TLS FAILED T 127.0.0.1:{server.port}: the TLS handshake failed: is {server.port} a"
        " TLS port? (tls: true is set"
    )
    noname = _section(steps, "noname: irc..example:6667")
    assert noname[1].startswith("name lookup FAILED T cannot look up irc..example: ")
    assert noname[1].endswith("(is the name right?)") and len(noname) == 2
    badpass = _section(steps, f"badpass: 127.0.0.1:{server.port}")
    assert badpass[3] == (
        "registration FAILED T 464 Password incorrect; server sent ERROR: Closing Link:"
        " 127.0.0.1 (Bad password)"
    )
    assert steps[-1] == "badpass: FAILED: 0 of 1 server registered"
    # the password went to the server only, and only where it was trusted
    said = [line for way, _, line in server.ircd.log if way == "in"]
    assert f"PASS not-{PASSWORD}" in said and f"PASS {PASSWORD}" not in said
    assert PASSWORD not in child.out + child.err
    assert "DEBUG logbot.traffic: badpass >> PASS ***" in child.err


@ONE_REACTOR
def test_sasl_login_and_a_refused_one(
    reactor: Any, run_until: Any, tmp_path: Path, inspircd_anope: Any
) -> None:
    server = inspircd_anope
    password = server.accounts["testbot"]
    tls = {
        "host": "localhost",
        "port": server.tls_port,
        "tls": True,
        "ca_file": str(server.ca_path),
    }

    def network(name: str, secret: str) -> dict[str, Any]:
        sasl = {"username": "testbot", "password": secret, "mechanisms": ["PLAIN"]}
        return {"name": name, "nick": unique("chk"), "servers": [tls], "sasl": sasl}

    config = _write(tmp_path, [network("good", password), network("wrong", password + "x")])
    child = run_logbot(
        reactor,
        run_until,
        tmp_path / "c",
        ["check", "--connect", str(config), "--log-level", "debug"],
        timeout=30,
    )
    assert child.proc.returncode == 1, child.out + child.err
    steps = _steps(child)
    good = _section(steps, f"good: localhost:{server.tls_port} (tls)")
    assert "TLS OK T handshake done; the certificate is verified" in good
    assert "SASL OK T PLAIN login as testbot" in good
    assert good[-1].startswith("registration OK T registered as chk")
    assert "good: OK: 1 of 1 server registered" in steps
    wrong = _section(steps, f"wrong: localhost:{server.tls_port} (tls)")
    (sasl,) = [line for line in wrong if line.startswith("SASL ")]
    assert sasl.startswith("SASL FAILED T PLAIN: 904 ")
    assert sasl.endswith("(sasl.required is false: the bot would log without it)")
    assert wrong[-1].startswith("registration OK")  # registered, without the login
    assert "wrong: FAILED: 0 of 1 server registered" in steps
    assert password not in child.out + child.err
    assert "DEBUG logbot.traffic: good >> AUTHENTICATE PLAIN" in child.err
    assert "DEBUG logbot.traffic: good >> AUTHENTICATE ***" in child.err


@ONE_REACTOR
def test_a_pinned_server_is_checked_against_its_pins(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    """No ca_file: the certificate is trusted because it matches a pin (the key's here),
    and a server whose certificate matches none fails the fingerprint step, with the
    certificate shown and the line to pin it, and is not registered with."""
    server = TLSTestServer(reactor, tmp_path, password=PASSWORD)
    wrong = "sha256:" + "ab" * 32

    def network(name: str, fingerprint: Any) -> dict[str, Any]:
        tls = {"host": "localhost", "port": server.tls_port, "tls": True}
        return {
            "name": name,
            "nick": name,
            "password": PASSWORD,
            "servers": [{**tls, "fingerprint": fingerprint}],
        }

    config = _write(
        tmp_path,
        [
            network("pinned", [wrong, f"spki-sha256:{server.key_fingerprint}"]),
            network("mismatch", wrong),
        ],
    )
    try:
        child = run_logbot(reactor, run_until, tmp_path / "c", ["check", "--connect", str(config)])
    finally:
        server.stop(run_until)
    assert child.proc.returncode == 1, child.out + child.err
    steps = _steps(child)
    pinned = _section(steps, f"pinned: localhost:{server.tls_port} (tls)")
    assert pinned[3] == (
        "TLS OK T handshake done; the certificate is pinned (fingerprint: the CA, name and"
        " dates are not checked)"
    )
    assert pinned[9] == f"to pin fingerprint: sha256:{server.fingerprint}"
    assert pinned[11] == (
        f"fingerprint OK the certificate matches the pinned spki-sha256:{server.key_fingerprint}"
    )
    assert pinned[12] == "registration OK T registered as pinned on irc.demo.test"
    mismatch = _section(steps, f"mismatch: localhost:{server.tls_port} (tls)")
    assert mismatch[3].startswith("TLS OK T handshake done; the certificate is pinned")
    assert mismatch[9] == f"to pin fingerprint: sha256:{server.fingerprint}"
    shown = "sha256:" + ":".join(["AB"] * 32)
    assert mismatch[11] == (
        f"fingerprint FAILED localhost:{server.tls_port}: the server's TLS certificate matches"
        f" no pinned fingerprint (pinned: {shown}); refused. It has fingerprint:"
        f" sha256:{server.fingerprint} (its public key: fingerprint:"
        f" spki-sha256:{server.key_fingerprint}): if that is the right certificate (its"
        " operators replaced the old one), pin it"
    )
    assert mismatch[12] == "registration skipped not tried (the bot would stop before)"
    assert steps[-1] == "mismatch: FAILED: 0 of 1 server registered"
    # the password went only to the server whose certificate matched
    said = [line for way, _, line in server.ircd.log if way == "in"]
    assert said.count(f"PASS {PASSWORD}") == 1
    assert said.count("NICK pinned") == 1 and "NICK mismatch" not in said
