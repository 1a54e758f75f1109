"""``logbot run`` says what to do when it cannot connect (issue 18, item 6).

Three networks fail at once, for real, on 127.0.0.1: a closed port, TLS against the
plain-text test IRC server, and a TLS server whose trustme certificate is not trusted
(no ``ca_file``).  Each is said in one sentence naming what to change, instead of the
reactor's "Connection was refused by other side: Connection refused: ... ECONNREFUSED".
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from logbot.reactor.backends import available
from logbot.reactor.protocol import Factory, Protocol
from logbot.testing.ircd import TestIRCServer
from tests.cli.logbot_child import start_logbot
from tests.e2e.botproc import wait_for_log

FAST_RETRY = {"initial_delay": 0.2, "max_delay": 0.5, "factor": 2, "jitter": 0}


@pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
def test_each_failure_is_one_sentence_that_says_what_to_do(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    plain = TestIRCServer(reactor)
    plain_port = plain.start()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("localhost").configure_cert(context)
    tls = reactor.listenSSL(0, Factory.forProtocol(Protocol), context, interface="127.0.0.1")
    tls_port = tls.getHost().port

    def network(name: str, server: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "nick": "logbot", "servers": [server], "reconnect": FAST_RETRY}

    config = tmp_path / "bot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "logging": {"root": str(tmp_path / "logs")},
                "networks": [
                    network("closed", {"host": "127.0.0.1", "port": closed}),
                    network("plain", {"host": "127.0.0.1", "port": plain_port, "tls": True}),
                    network("untrusted", {"host": "localhost", "port": tls_port, "tls": True}),
                ],
            }
        )
    )
    wanted = [
        f"WARNING logbot.bot.network: closed: 127.0.0.1:{closed} refused the connection"
        " (nothing listens there?)",
        f"WARNING logbot.bot.network: plain: 127.0.0.1:{plain_port}: the TLS handshake failed:"
        f" is {plain_port} a TLS port? (tls: true is set",
        f"WARNING logbot.bot.network: untrusted: localhost:{tls_port}: the server's TLS"
        " certificate is not trusted (unable to get local issuer certificate): if it is"
        " self-signed or from a private CA, set ca_file: to that certificate or CA (a PEM"
        " file), or verify: false to accept any certificate",
    ]
    child = start_logbot(tmp_path / "run", ["run", str(config)])
    try:
        run_until(
            wait_for_log(
                reactor, lambda: child.err, lambda t: all(w in t for w in wanted), 15, "stderr"
            )
        )
        assert child.terminate(reactor, run_until) == 0
    finally:
        child.stop()
        run_until(plain.stop())
        tls.stopListening()
    err = child.err
    assert "Connection was refused by other side" not in err and "ECONNREFUSED" not in err
    assert "wrong version number" not in err
