"""SASL on the test IRC server: ``ECDSA-NIST256P-CHALLENGE``, against the public keys given.

Off unless the server is built with ``sasl_keys={account: public key}``, each public key
as the services store it (the base64 of the encoded point, compressed or not: what
``ecdsatool pubkey`` prints and Atheme's ``NickServ SET PUBKEY`` takes).  Then ``CAP LS``
offers ``sasl=ECDSA-NIST256P-CHALLENGE``, and a client logs in to an account by signing
the server's challenge with that account's private key.

Why this mechanism only, and why here: PLAIN, SCRAM-SHA-256 and EXTERNAL are tested
against real services (InspIRCd with Anope, tests/ircd).  Debian's Anope (2.0) has no
ECDSA-NIST256P-CHALLENGE: its ``m_sasl`` offers PLAIN and EXTERNAL, and the mechanism is
Atheme's (``saslserv/ecdsa-nist256p-challenge``), which is not among the test servers.
So the server side is written here after Atheme's module, with the signature checked by
``cryptography``, imported only when keys are given (``logbot demo`` runs this server,
and logbot runs without the optional ``cryptography``).

What it does (Atheme's module, in the IRCv3 SASL 3.1 framing):

* ``AUTHENTICATE`` needs the ``sasl`` capability (else ``421``, as on a server without
  SASL); once logged in, ``907``.  A mechanism other than ours: ``908`` with the list,
  then ``904``.  ``AUTHENTICATE *`` aborts: ``906``.
* Payloads are base64 in 400-byte chunks, a shorter chunk or ``+`` ending one; a chunk
  over 400 bytes, or a payload over ``MAX_PAYLOAD``, is ``905``; one that is not base64,
  ``904``.
* First payload: the account name (authcid), or ``authcid NUL authzid`` naming the same
  account (this server lets no one act as another).  An account without a key: ``904``.
* Then the challenge: ``server.sasl.challenge()``, 32 random bytes (a test may replace
  the function, to play a server that sends something else).
* Last payload: the DER signature, verified as ECDSA over the *raw* challenge used as
  the digest (``Prehashed(SHA256())``), as ``ecdsatool`` signs and every Atheme checks.
  A signature of SHA-256(challenge), which recent Atheme also takes, is refused here
  on purpose: older releases refuse it, and a client that hashed must fail the tests.
* Success: ``900`` and ``903``, and the user's ``account`` is set (WHOIS ``330``,
  ``account-tag``, ``extended-join`` show it); any failure: ``904``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from logbot.irc.message import Message
from logbot.irc.registry import HandlerTable
from logbot.irc.sasl_ecdsa import MECHANISM
from logbot.testing.ircd_commands import fold
from logbot.testing.ircd_users import Server, User

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

__all__ = ["CAP", "HANDLERS", "MAX_PAYLOAD", "SaslAccounts"]

CAP = f"sasl={MECHANISM}"
CHUNK = 400
#: The largest payload taken (base64 bytes): an account name or a signature is under 100.
MAX_PAYLOAD = 4096


@dataclass
class _Attempt:
    """One login in progress: the payload coming in, then the account and challenge."""

    chunks: list[str] = field(default_factory=list)
    size: int = 0
    account: str | None = None
    key: EllipticCurvePublicKey | None = None
    challenge: bytes | None = None


class SaslAccounts:
    """The accounts that can log in (folded name -> (name, public key)), the logins in
    progress, and ``challenge``: the function that makes each challenge."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self.keys: dict[str, tuple[str, EllipticCurvePublicKey]] = {}
        for account, text in keys.items():
            point = base64.b64decode(text, validate=True)
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
            self.keys[fold(account)] = (account, key)
        self.challenge: Callable[[], bytes] = lambda: secrets.token_bytes(32)
        self.attempts: weakref.WeakKeyDictionary[User, _Attempt] = weakref.WeakKeyDictionary()


class SaslServer(Server, Protocol):
    """What the AUTHENTICATE handler uses of the server: a ``Server`` with ``sasl``."""

    sasl: SaslAccounts | None


Handler = Callable[[SaslServer, User, Message], None]
HANDLERS: HandlerTable[Handler] = HandlerTable()


@HANDLERS.on("AUTHENTICATE")
def authenticate(server: SaslServer, user: User, msg: Message) -> None:
    sasl = server.sasl
    if sasl is None or "sasl" not in user.caps:
        server.reply(user, "421", msg.command, "Unknown command")
        return
    if not msg.params or not msg.params[0]:
        server.reply(user, "461", msg.command, "Not enough parameters")
        return
    if user.account is not None:
        server.reply(user, "907", "You have already authenticated using SASL")
        return
    arg = msg.params[0]
    attempt = sasl.attempts.get(user)
    if arg == "*":
        sasl.attempts.pop(user, None)
        server.reply(user, "906", "SASL authentication aborted")
    elif attempt is None:
        if arg.upper() != MECHANISM:
            server.reply(user, "908", MECHANISM, "are available SASL mechanisms")
            _fail(server, user)
            return
        sasl.attempts[user] = _Attempt()
        server.send(user, "AUTHENTICATE", "+")
    else:
        _chunk(server, sasl, user, attempt, arg)


def _chunk(server: SaslServer, sasl: SaslAccounts, user: User, attempt: _Attempt, arg: str) -> None:
    """One piece of a payload; the payload is handled once it is whole."""
    if arg != "+":
        attempt.chunks.append(arg)
        attempt.size += len(arg)
    if len(arg) > CHUNK or attempt.size > MAX_PAYLOAD:
        sasl.attempts.pop(user, None)
        server.reply(user, "905", "SASL message too long")
        return
    if len(arg) == CHUNK:
        return  # more of it follows
    text, attempt.chunks, attempt.size = "".join(attempt.chunks), [], 0
    try:
        payload = base64.b64decode(text, validate=True)
    except binascii.Error:
        _fail(server, user)
        return
    if attempt.challenge is None:
        _account_names(server, sasl, user, attempt, payload)
    else:
        _signature(server, sasl, user, attempt, payload)


def _account_names(
    server: SaslServer, sasl: SaslAccounts, user: User, attempt: _Attempt, payload: bytes
) -> None:
    """``authcid`` or ``authcid NUL authzid``: the challenge if the account has a key."""
    authcid, _, authzid = payload.decode("utf-8", "replace").partition("\0")
    found = sasl.keys.get(fold(authcid))
    if found is None or (authzid and fold(authzid) != fold(authcid)):
        _fail(server, user)
        return
    attempt.account, attempt.key = found
    attempt.challenge = sasl.challenge()
    encoded = base64.b64encode(attempt.challenge).decode("ascii")
    for start in range(0, len(encoded), CHUNK):
        server.send(user, "AUTHENTICATE", encoded[start : start + CHUNK])
    if len(encoded) % CHUNK == 0:
        server.send(user, "AUTHENTICATE", "+")


def _signature(
    server: SaslServer, sasl: SaslAccounts, user: User, attempt: _Attempt, signature: bytes
) -> None:
    """The signature of the raw challenge (see the module docstring): logged in, or 904."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from cryptography.hazmat.primitives.hashes import SHA256

    assert attempt.key is not None and attempt.account is not None
    assert attempt.challenge is not None
    try:
        attempt.key.verify(signature, attempt.challenge, ec.ECDSA(Prehashed(SHA256())))
    except (InvalidSignature, ValueError):  # ValueError: a challenge a test made not 32 bytes
        _fail(server, user)
        return
    sasl.attempts.pop(user, None)
    user.account = attempt.account
    mask = f"{user.nickname or '*'}!{user.username or '*'}@{user.host}"
    server.reply(user, "900", mask, attempt.account, f"You are now logged in as {attempt.account}")
    server.reply(user, "903", "SASL authentication successful")


def _fail(server: SaslServer, user: User) -> None:
    if server.sasl is not None:
        server.sasl.attempts.pop(user, None)
    server.reply(user, "904", "SASL authentication failed")
