"""A server's ``fingerprint`` (certificate pins) in the config: the forms it takes, and
what is refused with it (plain text, ``verify: false``, a ``ca_file``, bad hex)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import yaml

from logbot.config.loader import ConfigError, parse_config
from logbot.config.pins import CERTIFICATE, PUBLIC_KEY, CertPin, parse_pin

DIGEST = hashlib.sha256(b"a certificate").digest()
HEX = DIGEST.hex()
COLONS = ":".join(f"{b:02X}" for b in DIGEST)


def doc(server: dict[str, Any]) -> str:
    net = {"name": "local", "servers": [server], "nick": "logbot"}
    return yaml.safe_dump({"networks": [net]}, sort_keys=False)


def problems(server: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(doc(server), environ={})
    return [p.rsplit(" (config.yaml", 1)[0] for p in info.value.problems]


def pins(server: dict[str, Any]) -> tuple[CertPin, ...]:
    return parse_config(doc(server), environ={}).networks[0].servers[0].fingerprints


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"sha256:{COLONS}", CERTIFICATE),
        (f"SHA256:{HEX}", CERTIFICATE),
        (f"sha256:{HEX.upper()}", CERTIFICATE),
        (f"spki-sha256:{COLONS.lower()}", PUBLIC_KEY),
        (f"pubkey-sha256:{HEX}", PUBLIC_KEY),
    ],
)
def test_each_form_gives_the_same_digest(text: str, kind: str) -> None:
    server = {"host": "irc.example.org", "tls": True, "fingerprint": text}
    assert pins(server) == (CertPin(kind, DIGEST),)


def test_a_list_and_the_canonical_form() -> None:
    other = hashlib.sha256(b"its key").digest()
    server = {
        "host": "irc.example.org",
        "tls": True,
        "fingerprint": [f"sha256:{HEX}", f"spki-sha256:{other.hex()}"],
    }
    found = pins(server)
    assert found == (CertPin(CERTIFICATE, DIGEST), CertPin(PUBLIC_KEY, other))
    assert str(found[0]) == f"sha256:{COLONS}"  # what error messages and check show
    assert parse_pin(str(found[1])) == found[1]


def test_unpinned_by_default() -> None:
    assert pins({"host": "irc.example.org", "tls": True}) == ()
    assert pins({"host": "irc.example.org", "tls": True, "fingerprint": None}) == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (HEX, "expected sha256:<hex>"),  # no prefix: a certificate's, or a key's?
        (f"sha1:{HEX[:40]}", "expected sha256:<hex>"),
        (f"sha256:{HEX[:-2]}", "a SHA-256 is 32 bytes, 64 hex digits"),
        (f"sha256:{HEX}00", "a SHA-256 is 32 bytes, 64 hex digits"),
        (f"sha256:{HEX[:-1]}g", "a SHA-256 is 32 bytes, 64 hex digits"),
        (f"sha256:{HEX[:32]} {HEX[32:]}", "a SHA-256 is 32 bytes, 64 hex digits"),
        ("sha256:" + "\u0661" * 64, "a SHA-256 is 32 bytes, 64 hex digits"),
        ("sha256:" + "a" * 500, "too long for a fingerprint (507 characters)"),
    ],
)
def test_a_bad_fingerprint_is_a_problem_that_says_why(text: str, says: str) -> None:
    [problem] = problems({"host": "irc.example.org", "tls": True, "fingerprint": text})
    assert problem.startswith("networks[0].servers[0].fingerprint")
    assert says in problem


def test_what_contradicts_a_pin_is_refused() -> None:
    pin = f"sha256:{HEX}"
    assert problems({"host": "h", "fingerprint": pin}) == [
        "networks[0].servers[0].fingerprint: only used with tls: true"
    ]
    assert problems({"host": "h", "tls": True, "verify": False, "fingerprint": pin}) == [
        "networks[0].servers[0].verify: verify: false turns every check off, the"
        " fingerprint's too: remove one of them"
    ]
    assert problems({"host": "h", "tls": True, "ca_file": __file__, "fingerprint": pin}) == [
        "networks[0].servers[0].ca_file: not used with fingerprint (a pinned certificate is"
        " not checked against a CA): remove one of them"
    ]
    assert problems({"host": "h", "tls": True, "fingerprint": []}) == [
        "networks[0].servers[0].fingerprint: must not be empty"
    ]
