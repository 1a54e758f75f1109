"""The certificate fields ``check --connect`` shows (logbot.cli.certificate), read from
DER by our small reader and compared with what ``cryptography`` (a test dependency,
through trustme) reads from the same certificates; a damaged certificate raises only
``ValueError``, and no control character from a server reaches the terminal."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.cli.certificate import fingerprint, read_certificate

CA = trustme.CA(organization_name="Example Test CA")


def _der(leaf: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())


def _name(name: x509.Name) -> str:
    short = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O"}
    short[NameOID.ORGANIZATIONAL_UNIT_NAME] = "OU"
    return ", ".join(f"{short[a.oid]}={a.value}" for a in name if a.oid in short)


@pytest.mark.parametrize(
    "not_after",
    [datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)],
    ids=["UTCTime", "GeneralizedTime"],
)
def test_the_fields_are_those_cryptography_reads(not_after: datetime) -> None:
    leaf = CA.issue_cert(
        "irc.example.org", "*.example.org", "127.0.0.1", "::1",
        common_name="irc.example.org", not_after=not_after,
    )  # fmt: skip
    der = _der(leaf)
    theirs = x509.load_der_x509_certificate(der)
    ours = read_certificate(der)
    assert ours.subject == _name(theirs.subject) and "CN=irc.example.org" in ours.subject
    assert ours.issuer == _name(theirs.issuer) and "O=Example Test CA" in ours.issuer
    assert ours.names == ("irc.example.org", "*.example.org", "127.0.0.1", "::1")
    assert ours.not_after == theirs.not_valid_after_utc == not_after
    assert ours.sha256 == fingerprint(der)
    assert ours.sha256.replace(":", "").lower() == theirs.fingerprint(SHA256()).hex()


def test_the_lines_say_when_it_expires_or_that_it_has() -> None:
    cert = read_certificate(_der(CA.issue_cert("a.example", not_after=datetime(2030, 1, 11))))
    lines = cert.lines(datetime(2030, 1, 1, tzinfo=UTC))
    assert lines[0].startswith("subject  O=") and lines[2] == "names    a.example"
    assert lines[3] == "expires  2030-01-11 00:00 UTC (in 10 days)"
    assert lines[4] == f"SHA-256  {cert.sha256}"
    assert cert.lines(datetime(2031, 1, 1, tzinfo=UTC))[3].endswith("(EXPIRED)")


def test_control_characters_from_the_server_are_not_printed() -> None:
    leaf = CA.issue_cert("a.example", common_name="evil\x1b[2J\x07name")
    cert = read_certificate(_der(leaf))
    assert "CN=evil?[2J?name" in cert.subject
    assert not any(ord(c) < 0x20 for line in cert.lines(datetime.now(UTC)) for c in line)


GOOD = _der(CA.issue_cert("a.example", "127.0.0.1"))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_damaged_certificate_raises_only_ValueError(data: st.DataObject) -> None:
    der = bytearray(GOOD)  # (one certificate: hypothesis replays the same draws)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(der) - 1))
        der[where] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(der)))
    try:
        read_certificate(bytes(der[:cut]))
    except ValueError:
        pass


@given(st.binary(max_size=200))
def test_any_bytes_raise_only_ValueError(blob: bytes) -> None:
    try:
        read_certificate(blob)
    except ValueError:
        pass
