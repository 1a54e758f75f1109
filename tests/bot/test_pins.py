"""Certificate pinning (``fingerprint``): the public key found in the DER, the pins a
certificate matches, the handshake that refuses a certificate matching none, and the
bot on real servers: a self-signed, expired certificate for another name accepted when
pinned (the test IRC server behind TLS), InspIRCd's certificate pinned without its CA,
a wrong pin refused before anything is sent with the fingerprint to pin in the
message, and SASL EXTERNAL with a client certificate over a pinned connection
(InspIRCd with Anope)."""

from __future__ import annotations

import hashlib
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from hypothesis import given
from hypothesis import strategies as st

from logbot.bot.conn_errors import explain, is_certificate_problem
from logbot.bot.der import subject_public_key_info
from logbot.bot.pins import PinMismatch, matches, pinned_context, seen
from logbot.bot.tls_context import client_context
from logbot.config.pins import CERTIFICATE, PUBLIC_KEY, CertPin
from logbot.config.settings import SaslOptions, ServerConfig
from logbot.irc import events as ev
from logbot.reactor import error
from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer, _ServerFactory
from tests.bot.certs import SelfSigned, self_signed
from tests.bot.live import LiveBot, network
from tests.integration.recording_bot import unique

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
WRONG = CertPin(CERTIFICATE, hashlib.sha256(b"some other certificate").digest())


@pytest.mark.parametrize("key", ["ec", "rsa", "ed25519"])
def test_the_public_key_read_from_the_der_is_the_one_cryptography_writes(key: str) -> None:
    cert = self_signed(key=key)
    assert subject_public_key_info(cert.der) == cert.spki
    assert seen(cert.der) == (cert.pin, cert.key_pin)


def test_a_ca_issued_certificate_too() -> None:
    leaf = trustme.CA().issue_cert("irc.example.org")
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    spki = (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert subject_public_key_info(der) == spki


@given(st.binary(max_size=600))
def test_bytes_that_are_no_certificate_raise_value_error_only(data: bytes) -> None:
    try:
        subject_public_key_info(data)
    except ValueError:
        pass


def test_a_truncated_certificate_still_matches_its_own_sha256_only() -> None:
    cert = self_signed()
    cut = cert.der[:-40]
    with pytest.raises(ValueError):
        subject_public_key_info(cut)
    assert seen(cut) == (CertPin(CERTIFICATE, hashlib.sha256(cut).digest()),)
    assert not matches(cut, [cert.key_pin])


def test_which_pins_match() -> None:
    cert, other = self_signed(), self_signed()
    assert matches(cert.der, [cert.pin]) and matches(cert.der, [cert.key_pin])
    assert matches(cert.der, [WRONG, other.pin, cert.key_pin])
    assert not matches(cert.der, [WRONG, other.pin, other.key_pin])
    assert not matches(cert.der, [])
    # the kinds are not interchangeable: a certificate's digest is no key pin
    assert not matches(cert.der, [CertPin(PUBLIC_KEY, cert.pin.digest)])


def _handshake(client: ssl.SSLContext, cert: SelfSigned, tmp_path: Path) -> ssl.SSLObject:
    """Both sides of a handshake in memory (the client's object, done)."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*cert.write(tmp_path))
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    ours = client.wrap_bio(c_in, c_out, server_hostname="irc.example.org")
    theirs = server.wrap_bio(s_in, s_out, server_side=True)
    done = False
    for _ in range(10):  # a few flights; more would be a bug
        for side in (ours, theirs):
            try:
                side.do_handshake()
                done = done or side is ours
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if done:
            return ours
    raise AssertionError("no handshake")


def test_a_pinned_certificate_is_accepted_whatever_its_name_dates_and_signer(
    tmp_path: Path,
) -> None:
    cert = self_signed("irc.other.example", expired=True)  # self-signed, wrong name
    ours = _handshake(pinned_context([WRONG, cert.pin]), cert, tmp_path)
    assert ours.getpeercert(True) == cert.der
    _handshake(pinned_context([cert.key_pin]), cert, tmp_path)


def test_a_certificate_matching_no_pin_fails_the_handshake_with_what_it_has(
    tmp_path: Path,
) -> None:
    cert = self_signed()
    with pytest.raises(PinMismatch) as info:
        _handshake(pinned_context([WRONG]), cert, tmp_path)
    assert info.value.presented == (cert.pin, cert.key_pin)
    assert info.value.certificate == cert.der
    assert f"the certificate is {cert.pin}" in str(info.value)
    # with no pin at all, nothing is accepted (never an open door)
    with pytest.raises(PinMismatch):
        _handshake(pinned_context([]), cert, tmp_path)


def test_a_pinned_context_refuses_to_make_a_socket_that_would_skip_the_check() -> None:
    with socket.socket() as sock, pytest.raises(TypeError):
        pinned_context([WRONG]).wrap_socket(sock, server_hostname="h")


def test_the_sentence_shows_what_to_pin() -> None:
    cert = self_signed()
    server = ServerConfig("irc.example.org", 6697, tls=True, fingerprints=(WRONG,))
    failure = error.TLSError(None, "x")
    failure.__cause__ = PinMismatch(seen(cert.der), cert.der)
    assert is_certificate_problem(failure)
    assert explain(failure, server) == (
        f"irc.example.org:6697: the server's TLS certificate matches no pinned fingerprint"
        f" (pinned: {WRONG}); refused. It has fingerprint: {cert.pin} (its public key:"
        f" fingerprint: {cert.key_pin}): if that is the right certificate (its operators"
        " replaced the old one), pin it"
    )


def test_the_bot_s_context_for_a_pinned_server(tmp_path: Path) -> None:
    cert = self_signed()
    client_pem, client_key = self_signed("bot").write(tmp_path, "client")
    server = ServerConfig(
        "irc.example.org",
        6697,
        tls=True,
        fingerprints=(cert.pin,),
        client_cert=str(client_pem),
        client_key=str(client_key),
    )
    context = client_context(server)
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert context.pins == (cert.pin,)  # type: ignore[attr-defined]
    unpinned = client_context(ServerConfig("irc.example.org", 6697, tls=True))
    assert unpinned.verify_mode == ssl.CERT_REQUIRED and unpinned.check_hostname


# -- live: the bot on real servers ------------------------------------------------------


class _TLSIRCServer:
    """The test IRC server, behind a TLS port with the given certificate."""

    def __init__(self, reactor: Any, cert: SelfSigned, tmp_path: Path) -> None:
        self.ircd = TestIRCServer(reactor)
        self.ircd.start()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*cert.write(tmp_path))
        self.port_ = reactor.listenSSL(0, _ServerFactory(self.ircd), context, interface="127.0.0.1")
        self.port = self.port_.getHost().port

    def received(self) -> list[str]:
        return [line for way, _, line in self.ircd.log if way == "in"]

    def stop(self, run_until: Any) -> None:
        self.port_.stopListening()
        run_until(self.ircd.stop())


def _leaf_der(server: Any) -> bytes:
    pem = (server.workdir / "tls" / "server.pem").read_text()
    first = pem[: pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    return ssl.PEM_cert_to_DER_cert(first)


@ONE_REACTOR
def test_a_self_signed_expired_certificate_for_another_name_registers_when_pinned(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    cert = self_signed("irc.other.example", expired=True)
    server = _TLSIRCServer(reactor, cert, tmp_path)
    try:
        for pin in (cert.pin, cert.key_pin):
            target = ServerConfig("localhost", server.port, tls=True, fingerprints=(WRONG, pin))
            bot = LiveBot(network("pinned", target), reactor)
            bot.start()
            client = run_until(bot.next("registered"))
            assert client.transport.getPeerCertificate(True) == cert.der
            run_until(bot.stop())
            assert "failed" not in bot.kinds()
    finally:
        server.stop(run_until)


@ONE_REACTOR
def test_a_wrong_pin_is_refused_before_anything_is_sent_saying_what_to_pin(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    cert = self_signed()
    server = _TLSIRCServer(reactor, cert, tmp_path)
    try:
        target = ServerConfig("localhost", server.port, tls=True, fingerprints=(WRONG,))
        bot = LiveBot(network("refused", target, password=None), reactor)
        bot.start()
        why = run_until(bot.next("failed"))
        run_until(bot.stop())
    finally:
        server.stop(run_until)
    assert f"It has fingerprint: {cert.pin} (its public key: fingerprint: {cert.key_pin})" in why
    assert why.startswith(f"localhost:{server.port}: the server's TLS certificate matches no")
    assert "connected" not in bot.kinds()
    assert server.received() == []  # no CAP, no NICK: the IRC protocol never started


@ONE_REACTOR
def test_inspircd_s_certificate_pinned_without_its_ca(
    reactor: Any, run_until: Any, inspircd: Any
) -> None:
    der = _leaf_der(inspircd)
    pin = CertPin(CERTIFICATE, hashlib.sha256(der).digest())
    target = ServerConfig(inspircd.host, inspircd.tls_port, tls=True, fingerprints=(pin,))
    bot = LiveBot(network(unique("pin"), target), reactor)
    bot.start()
    client = run_until(bot.next("registered"), 20)
    assert client.transport.getPeerCertificate(True) == der
    run_until(bot.stop())
    # the same server without the pin (and without its CA) is not trusted
    plain = LiveBot(
        network(unique("pin"), ServerConfig(**{**vars(target), "fingerprints": ()})), reactor
    )
    plain.start()
    why = run_until(plain.next("failed"))
    run_until(plain.stop())
    assert "the server's TLS certificate is not trusted" in why


@ONE_REACTOR
def test_sasl_external_over_a_pinned_connection(
    reactor: Any, run_until: Any, inspircd_anope: Any
) -> None:
    server = inspircd_anope
    pin = CertPin(PUBLIC_KEY, hashlib.sha256(subject_public_key_info(_leaf_der(server))).digest())
    target = ServerConfig(
        server.host,
        server.tls_port,
        tls=True,
        fingerprints=(pin,),
        client_cert=str(server.client_cert("testbot")),
    )
    sasl = SaslOptions(mechanisms=("EXTERNAL",), required=True)
    bot = LiveBot(network(unique("ext"), target, sasl=sasl), reactor)
    bot.start()
    result: ev.SaslResult = run_until(bot.next("SaslResult"), 20)
    run_until(bot.next("registered"), 20)
    run_until(bot.stop())
    assert result.success and result.mechanism == "EXTERNAL"
    assert (result.account or "").lower() == "testbot"
