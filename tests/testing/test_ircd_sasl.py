"""The test IRC server's SASL ECDSA-NIST256P-CHALLENGE, driven line by line by a raw peer.

The server is what the bot's own ECDSA login is tested against (tests/e2e), so it is
tested here on its own first, with signatures the bot did not make: ecdsatool's
published one (the reference client) is taken, a signature of the hashed challenge
(which old Atheme refuses) is not, and every way to get it wrong ends in the numeric
a real server sends.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hashes import SHA256

from logbot.reactor import defer
from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer
from tests.irc.ecdsa_keys import (
    ECDSATOOL_CHALLENGE,
    ECDSATOOL_PUBLIC,
    ECDSATOOL_SIGNATURE,
    new_key,
    public_base64,
)
from tests.ircd.peer import connect

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
ECDSA = "ECDSA-NIST256P-CHALLENGE"
KEY = new_key()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def run(run_until: Any, coro: Any, timeout: float = 10.0) -> Any:
    return run_until(defer.Deferred.fromCoroutine(coro), timeout)


@pytest.fixture
def server(reactor: Any) -> Any:
    server = TestIRCServer(reactor, sasl_keys={"Bot": public_base64(KEY), "tool": ECDSATOOL_PUBLIC})
    server.start()
    yield server
    server.stop()


async def negotiated(reactor: Any, server: Any, nick: str) -> Any:
    """A peer with ``sasl`` acknowledged, NICK and USER sent, CAP END not yet."""
    peer = await connect(reactor, server, nick, register=False)
    peer.send("CAP LS 302")
    caps = (await peer.expect(r" CAP \* LS :")).split(" :", 1)[1].split()
    assert f"sasl={ECDSA}" in caps
    peer.send("CAP REQ :sasl")
    await peer.expect(r" CAP \* ACK :sasl$")
    peer.send(f"NICK {nick}")
    peer.send(f"USER {nick} 0 * :{nick}")
    return peer


async def challenged(peer: Any, account: str) -> bytes:
    peer.send(f"AUTHENTICATE {ECDSA}")
    await peer.expect(r"^:irc\.demo\.test AUTHENTICATE :?\+$")
    peer.send(f"AUTHENTICATE {b64(account.encode())}")
    line = await peer.expect(r"^:irc\.demo\.test AUTHENTICATE :?[A-Za-z0-9+/=]{4,}$")
    challenge = base64.b64decode(line.rsplit(" ", 1)[1].lstrip(":"), validate=True)
    assert len(challenge) == 32
    return challenge


@ONE_REACTOR
def test_a_signature_by_the_accounts_key_logs_in(reactor: Any, run_until: Any, server: Any):
    async def scenario() -> None:
        peer = await negotiated(reactor, server, "bot")
        challenge = await challenged(peer, "bot")  # account names fold: "Bot" has the key
        signature = KEY.sign(challenge, ec.ECDSA(_prehashed()))
        peer.send(f"AUTHENTICATE {b64(signature)}")
        await peer.expect(
            r"^:irc\.demo\.test 900 bot bot!bot@127\.0\.0\.1 Bot :You are now logged in as Bot$"
        )
        await peer.expect(r"^:irc\.demo\.test 903 bot :SASL authentication successful$")
        peer.send(f"AUTHENTICATE {ECDSA}")
        await peer.expect(r" 907 bot :You have already authenticated using SASL$")
        peer.send("CAP END")
        await peer.expect(" 001 bot ")
        peer.send("WHOIS bot")
        await peer.expect(r" 330 bot bot Bot :is logged in as$")
        await peer.quit()

    run(run_until, scenario())


def _prehashed() -> Any:
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    return Prehashed(SHA256())


@ONE_REACTOR
def test_ecdsatools_own_signature_is_taken(reactor: Any, run_until: Any, server: Any):
    """The reference client's output, for the challenge it was made for."""
    server.sasl.challenge = lambda: ECDSATOOL_CHALLENGE

    async def scenario() -> None:
        peer = await negotiated(reactor, server, "tooluser")
        assert await challenged(peer, "tool") == ECDSATOOL_CHALLENGE
        peer.send(f"AUTHENTICATE {ECDSATOOL_SIGNATURE}")
        await peer.expect(r" 903 tooluser :SASL authentication successful$")
        await peer.quit()

    run(run_until, scenario())


@ONE_REACTOR
@pytest.mark.parametrize(
    "how", ["of the hashed challenge", "by another key", "of another challenge", "not DER"]
)
def test_a_wrong_signature_is_refused(reactor: Any, run_until: Any, server: Any, how: str):
    async def scenario() -> None:
        peer = await negotiated(reactor, server, "bot")
        challenge = await challenged(peer, "bot")
        if how == "of the hashed challenge":
            signature = KEY.sign(challenge, ec.ECDSA(SHA256()))
        elif how == "by another key":
            signature = new_key().sign(challenge, ec.ECDSA(_prehashed()))
        elif how == "of another challenge":
            signature = KEY.sign(hashlib.sha256(b"x").digest(), ec.ECDSA(_prehashed()))
        else:
            signature = b"\x30\x02\x01\x01"
        peer.send(f"AUTHENTICATE {b64(signature)}")
        await peer.expect(r" 904 bot :SASL authentication failed$")
        assert not any(" 903 " in line for line in peer.lines)
        peer.send("CAP END")
        await peer.expect(" 001 bot ")
        assert server.find_user("bot").account is None
        await peer.quit()

    run(run_until, scenario())


@ONE_REACTOR
def test_the_ways_a_login_ends_before_the_signature(reactor: Any, run_until: Any, server: Any):
    async def scenario() -> None:
        peer = await negotiated(reactor, server, "bot")
        peer.send("AUTHENTICATE PLAIN")
        await peer.expect(rf" 908 bot {ECDSA} :are available SASL mechanisms$")
        await peer.expect(r" 904 bot :SASL authentication failed$")
        for account in ("nobody", "Bot\0tool"):  # no key; acting as another account
            peer.send(f"AUTHENTICATE {ECDSA}")
            await peer.expect(r"AUTHENTICATE :?\+$")
            peer.send(f"AUTHENTICATE {b64(account.encode())}")
            await peer.expect(r" 904 bot :SASL authentication failed$")
        peer.send(f"AUTHENTICATE {ECDSA}")
        await peer.expect(r"AUTHENTICATE :?\+$")
        peer.send("AUTHENTICATE not*base64")
        await peer.expect(r" 904 bot :SASL authentication failed$")
        peer.send(f"AUTHENTICATE {ECDSA}")
        await peer.expect(r"AUTHENTICATE :?\+$")
        peer.send("AUTHENTICATE *")
        await peer.expect(r" 906 bot :SASL authentication aborted$")
        peer.send(f"AUTHENTICATE {ECDSA}")
        await peer.expect(r"AUTHENTICATE :?\+$")
        for _ in range(11):  # 4,400 base64 bytes in full chunks: over MAX_PAYLOAD
            peer.send("AUTHENTICATE " + "A" * 400)
        await peer.expect(r" 905 bot :SASL message too long$")
        # after all that, the next attempt starts afresh
        await challenged(peer, "bot")
        await peer.quit()

    run(run_until, scenario())


@ONE_REACTOR
def test_without_keys_there_is_no_sasl(reactor: Any, run_until: Any) -> None:
    server = TestIRCServer(reactor)
    server.start()

    async def scenario() -> None:
        peer = await connect(reactor, server, "peer", register=False)
        peer.send("CAP LS 302")
        caps = (await peer.expect(r" CAP \* LS :")).split(" :", 1)[1].split()
        assert not any(cap.startswith("sasl") for cap in caps)
        peer.send("CAP REQ :sasl")
        await peer.expect(r" CAP \* NAK :sasl$")
        peer.send(f"AUTHENTICATE {ECDSA}")
        await peer.expect(r" 421 \* AUTHENTICATE :Unknown command$")
        await peer.quit()

    try:
        run(run_until, scenario())
    finally:
        server.stop()
