"""SASL authentication over ``AUTHENTICATE`` (ircv3.net/specs/extensions/sasl-3.1).

Mechanisms: PLAIN (RFC 4616), EXTERNAL (RFC 4422, the TLS client
certificate), SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), and Atheme's
ECDSA-NIST256P-CHALLENGE (a key pair instead of a password: the signature is made by
``cryptography``, an optional extra, in :mod:`logbot.irc.sasl_ecdsa`).  They are tried
in the configured order, skipping those the server does not list (CAP value
``sasl=...`` or numeric 908).  A 904 moves on to the next mechanism.

Wire rules: a payload is base64, sent in 400-byte chunks; a payload whose
length is a multiple of 400 (the empty one included) ends with
``AUTHENTICATE +``, so the server knows it is complete.  Incoming challenges
are reassembled the same way: the chunks are collected in a list and joined once
(adding each to a string copied all of it every time, 6 s of CPU for 8 MB), and
a challenge longer than ``max_challenge`` base64 bytes
(:data:`~logbot.irc.limits.MAX_SASL_CHALLENGE`) fails the attempt at once.

SCRAM's PBKDF2 runs on the event loop, for as many iterations as the server asks:
more than ``max_iterations`` (:data:`~logbot.irc.limits.MAX_SCRAM_ITERATIONS`) fails
the attempt, with that reason, without computing anything, so that no server can make
the loop (every network's) wait.  It is not retried with another mechanism: falling
back to PLAIN would hand the password to the server that asked for too much.

Every step has a deadline (``now`` + ``timeout``); the core asks
:meth:`SaslSession.check_deadline` when its timer fires.  A failure is
reported with a reason; whether it aborts the connection is the core's
decision, from :attr:`SaslConfig.required`.  The reason never names the
mechanism (that is :attr:`SaslSession.mechanism`): when the server refused, it is
the server's numeric and text as sent (``904 SASL authentication failed``), so that
an operator can look the numeric up; else what went wrong on our side.

Secrets: passwords and the ECDSA private key live in :class:`Secret`, whose ``repr``
and ``str`` hide the value; no exception or reason text here includes it.  The password is
used as UTF-8 without SASLprep (identical for ASCII passwords).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from logbot.irc.limits import MAX_SASL_CHALLENGE, MAX_SCRAM_ITERATIONS
from logbot.irc.message import Message
from logbot.irc.sasl_ecdsa import MECHANISM as ECDSA
from logbot.irc.sasl_ecdsa import EcdsaError, sign_challenge

__all__ = [
    "EcdsaNist256pChallenge",
    "External",
    "Plain",
    "SaslConfig",
    "SaslError",
    "SaslSession",
    "ScramSha256",
    "Secret",
]

CHUNK = 400
#: The mechanisms this client speaks (a configured name not listed here is skipped).
MECHANISMS = ("PLAIN", "EXTERNAL", "SCRAM-SHA-256", ECDSA)


class SaslError(Exception):
    """A mechanism cannot continue (bad challenge); never holds a secret."""


class Secret:
    """A string that does not show itself in reprs, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(
            self._value.encode(), other._value.encode()
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class SaslConfig:
    """``mechanisms`` in order of preference; ``required``: fail = disconnect.

    ``key``: the private key of ECDSA-NIST256P-CHALLENGE, as the text of its file (PEM or
    base64, see :mod:`logbot.irc.sasl_ecdsa`), checked when the config was loaded."""

    username: str = ""
    password: Secret | None = field(default=None, repr=False)
    mechanisms: tuple[str, ...] = ("SCRAM-SHA-256", "PLAIN")
    required: bool = False
    timeout: float = 30.0  # seconds allowed for each step
    key: Secret | None = field(default=None, repr=False)


class Plain:
    name = "PLAIN"

    def __init__(self, username: str, password: Secret) -> None:
        self._username, self._password = username, password

    def __repr__(self) -> str:
        return f"Plain(username={self._username!r})"

    def respond(self, challenge: bytes) -> bytes:
        user = self._username.encode()
        return user + b"\0" + user + b"\0" + self._password.reveal().encode()


class External:
    name = "EXTERNAL"

    def respond(self, challenge: bytes) -> bytes:
        return b""  # the identity is the TLS certificate


def _saslname(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _fields(message: str) -> dict[str, str]:
    """``r=abc,s=xyz,i=4096`` -> ``{"r": "abc", ...}`` (SCRAM attribute list)."""
    return dict(item.split("=", 1) for item in message.split(",") if "=" in item)


def _hmac(key: bytes, text: bytes) -> bytes:
    return hmac.new(key, text, hashlib.sha256).digest()


class ScramSha256:
    """SCRAM-SHA-256 client, three steps: client-first, client-final, verify.

    ``nonce`` is injectable so that the RFC 7677 example can be replayed.
    """

    name = "SCRAM-SHA-256"

    def __init__(
        self,
        username: str,
        password: Secret,
        nonce: str | None = None,
        max_iterations: int = MAX_SCRAM_ITERATIONS,
    ) -> None:
        self.max_iterations = max_iterations
        self._password = password
        self._nonce = nonce or secrets.token_urlsafe(24)
        self._first_bare = f"n={_saslname(username)},r={self._nonce}"
        self._server_signature: bytes | None = None
        self._step = 0

    def __repr__(self) -> str:
        return f"ScramSha256(step={self._step})"

    def respond(self, challenge: bytes) -> bytes:
        self._step += 1
        if self._step == 1:
            return ("n,," + self._first_bare).encode()
        if self._step == 2:
            return self._client_final(challenge.decode("utf-8", "replace"))
        if self._step == 3:
            fields = _fields(challenge.decode())
            if "e" in fields:
                raise SaslError(f"server refused: {fields['e']}")
            proof = base64.b64decode(fields.get("v", ""))
            expected = self._server_signature
            if expected is None or not hmac.compare_digest(proof, expected):
                raise SaslError("server signature does not match: not the real server")
            return b""
        raise SaslError("unexpected extra challenge")

    def _client_final(self, server_first: str) -> bytes:
        fields = _fields(server_first)
        try:
            nonce, salt = fields["r"], base64.b64decode(fields["s"], validate=True)
            iterations = int(fields["i"])
        except (KeyError, ValueError) as exc:
            raise SaslError("malformed server-first-message") from exc
        if not nonce.startswith(self._nonce):
            raise SaslError("server nonce rejected: it does not extend ours")
        if iterations > self.max_iterations:
            raise SaslError(
                f"server asked for {iterations} iterations, more than the"
                f" {self.max_iterations} allowed"
            )
        if iterations < 1:
            raise SaslError(f"server asked for {iterations} iterations")
        salted = hashlib.pbkdf2_hmac("sha256", self._password.reveal().encode(), salt, iterations)
        client_key = _hmac(salted, b"Client Key")
        without_proof = f"c=biws,r={nonce}"
        auth_message = f"{self._first_bare},{server_first},{without_proof}".encode()
        signature = _hmac(hashlib.sha256(client_key).digest(), auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        self._server_signature = _hmac(_hmac(salted, b"Server Key"), auth_message)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


class EcdsaNist256pChallenge:
    """ECDSA-NIST256P-CHALLENGE, two steps: the account name, then the signature of the
    server's 32-byte challenge (how, and why the raw bytes: :mod:`logbot.irc.sasl_ecdsa`).

    The key is read from its :class:`Secret` only to sign, and a problem with it or with
    the challenge becomes a :class:`SaslError` whose text is ours (the exception of the
    library is dropped, not chained), so the key reaches no reason and no traceback.
    """

    name = ECDSA

    def __init__(self, username: str, key: Secret | None) -> None:
        self._username, self._key = username, key
        self._step = 0

    def __repr__(self) -> str:
        return f"EcdsaNist256pChallenge(username={self._username!r}, step={self._step})"

    def respond(self, challenge: bytes) -> bytes:
        self._step += 1
        if self._step == 1:
            return self._username.encode()  # the authcid alone, as ecdsatool sends it
        if self._step == 2:
            if self._key is None:
                raise SaslError("no private key configured (sasl.key_file)")
            try:
                return sign_challenge(self._key.reveal(), challenge)
            except EcdsaError as exc:
                raise SaslError(str(exc)) from None
        raise SaslError("unexpected extra challenge")


Mechanism = Plain | External | ScramSha256 | EcdsaNist256pChallenge


def authenticate_lines(payload: bytes) -> list[str]:
    """``AUTHENTICATE`` lines for one response: base64 in 400-byte chunks."""
    encoded = base64.b64encode(payload).decode()
    lines = [f"AUTHENTICATE {encoded[i : i + CHUNK]}" for i in range(0, len(encoded), CHUNK)]
    if len(encoded) % CHUNK == 0:
        lines.append("AUTHENTICATE +")
    return lines


class SaslSession:
    """One authentication attempt, over possibly several mechanisms."""

    def __init__(
        self,
        config: SaslConfig,
        offered: list[str] | None = None,
        scram_nonce: str | None = None,
        *,
        max_challenge: int = MAX_SASL_CHALLENGE,
        max_iterations: int = MAX_SCRAM_ITERATIONS,
    ) -> None:
        self.config = config
        self.max_challenge = max_challenge
        self.max_iterations = max_iterations
        self._scram_nonce = scram_nonce
        names = [m.upper() for m in config.mechanisms]
        self._remaining = [m for m in names if offered is None or m in offered]
        self.mechanism: str | None = None
        self._mech: Mechanism | None = None
        self._chunks: list[str] = []  # of the challenge coming in
        self._challenge_size = 0
        self.deadline: float | None = None
        self.done = False
        self.success = False
        self.account: str | None = None
        self.reason = ""

    def __repr__(self) -> str:
        return (
            f"SaslSession(mechanism={self.mechanism!r}, done={self.done}, success={self.success})"
        )

    def _make(self, name: str) -> Mechanism:
        if name == "EXTERNAL":
            return External()
        if name == ECDSA:
            return EcdsaNist256pChallenge(self.config.username, self.config.key)
        password = self.config.password or Secret("")
        if name == "PLAIN":
            return Plain(self.config.username, password)
        return ScramSha256(self.config.username, password, self._scram_nonce, self.max_iterations)

    def _finish(self, success: bool, reason: str) -> list[str]:
        self.done, self.success, self.reason, self.deadline = True, success, reason, None
        return []

    def _next_mechanism(self, now: float, why: str) -> list[str]:
        while self._remaining:
            name = self._remaining.pop(0)
            if name in MECHANISMS:
                self.mechanism, self._mech = name, self._make(name)
                self._chunks, self._challenge_size = [], 0
                self.deadline = now + self.config.timeout
                return [f"AUTHENTICATE {name}"]
        return self._finish(False, why)

    def start(self, now: float) -> list[str]:
        return self._next_mechanism(now, "no configured mechanism is offered by the server")

    def check_deadline(self, now: float) -> list[str]:
        """Abort if the current step took too long."""
        if self.done or self.deadline is None or now < self.deadline:
            return []
        self._finish(False, f"no answer within {self.config.timeout:g} s")
        return ["AUTHENTICATE *"]

    def handle(self, msg: Message, now: float) -> list[str]:
        """Process AUTHENTICATE or a 90x numeric; return lines to send."""
        if self.done:
            return []
        command = msg.command
        if command == "AUTHENTICATE" and self._mech is not None and msg.params:
            chunk = msg.params[0]
            if chunk != "+":
                self._chunks.append(chunk)
                self._challenge_size += len(chunk)
                if self._challenge_size > self.max_challenge:
                    self._chunks = []
                    self._finish(False, f"server challenge over {self.max_challenge} bytes")
                    return ["AUTHENTICATE *"]
            if len(chunk) == CHUNK:
                return []  # more of this challenge follows
            self.deadline = now + self.config.timeout
            encoded, self._chunks, self._challenge_size = "".join(self._chunks), [], 0
            try:
                challenge = base64.b64decode(encoded, validate=True)
            except binascii.Error:  # its text varies with the Python version: ours does not
                self._finish(False, "the server's challenge is not base64")
                return ["AUTHENTICATE *"]
            try:
                return authenticate_lines(self._mech.respond(challenge))
            except (SaslError, ValueError) as exc:
                self._finish(False, str(exc))
                return ["AUTHENTICATE *"]
        text = msg.params[-1] if msg.params else ""
        if command == "900" and len(msg.params) >= 3:
            self.account = msg.params[2]
        elif command in ("903", "907"):
            return self._finish(True, text or "authenticated")
        elif command == "908" and len(msg.params) >= 2:
            offered = msg.params[1].upper().split(",")
            self._remaining = [m for m in self._remaining if m in offered]
        elif command == "904":
            return self._next_mechanism(now, f"904 {text}".rstrip())
        elif command in ("902", "905", "906"):
            return self._finish(False, f"{command} {text}".rstrip())
        return []
