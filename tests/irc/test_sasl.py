from __future__ import annotations

import base64

import pytest

from logbot.irc.message import parse
from logbot.irc.sasl import (
    External,
    Plain,
    SaslConfig,
    SaslSession,
    ScramSha256,
    Secret,
    authenticate_lines,
)

# RFC 7677, section 3: the example exchange (user "user", password "pencil").
CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
SERVER_FIRST = (
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
CLIENT_FINAL = (
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_scram_rfc7677_example() -> None:
    scram = ScramSha256("user", Secret("pencil"), nonce=CLIENT_NONCE)
    assert scram.respond(b"") == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    assert scram.respond(SERVER_FIRST.encode()) == CLIENT_FINAL.encode()
    assert scram.respond(SERVER_FINAL.encode()) == b""


def test_scram_rejects_forged_server_signature() -> None:
    from logbot.irc.sasl import SaslError

    scram = ScramSha256("user", Secret("pencil"), nonce=CLIENT_NONCE)
    scram.respond(b"")
    scram.respond(SERVER_FIRST.encode())
    with pytest.raises(SaslError):
        scram.respond(b"v=" + base64.b64encode(b"x" * 32))


def test_scram_rejects_foreign_nonce_and_huge_iterations() -> None:
    from logbot.irc.sasl import SaslError

    for bad in ("r=other,s=QQ==,i=4096", f"r={CLIENT_NONCE}x,s=QQ==,i=99999999", "garbage"):
        scram = ScramSha256("user", Secret("pencil"), nonce=CLIENT_NONCE)
        scram.respond(b"")
        with pytest.raises(SaslError):
            scram.respond(bad.encode())


def test_scram_escapes_username() -> None:
    scram = ScramSha256("a=b,c", Secret("p"), nonce="N")
    assert scram.respond(b"") == b"n,,n=a=3Db=2Cc,r=N"


def test_plain_and_external() -> None:
    assert Plain("u", Secret("p")).respond(b"") == b"u\0u\0p"
    assert External().respond(b"") == b""


@pytest.mark.parametrize("size", [0, 1, 299, 300, 600, 601])
def test_chunking(size: int) -> None:
    payload = b"x" * size  # base64 length is 4/3 of that
    lines = authenticate_lines(payload)
    encoded = base64.b64encode(payload).decode()
    chunks = [line.split(" ", 1)[1] for line in lines]
    assert all(len(c) <= 400 for c in chunks)
    if len(encoded) % 400 == 0:
        assert chunks[-1] == "+"
        assert "".join(chunks[:-1]) == encoded
    else:
        assert "".join(chunks) == encoded


def session(mechs=("PLAIN",), offered=None, required=False, nonce=None) -> SaslSession:
    config = SaslConfig("user", Secret("pencil"), mechs, required, timeout=10.0)
    return SaslSession(config, offered, scram_nonce=nonce)


def run(sess: SaslSession, line: str, now: float = 0.0) -> list[str]:
    return sess.handle(parse(line), now)


def test_plain_flow() -> None:
    sess = session()
    assert sess.start(0.0) == ["AUTHENTICATE PLAIN"]
    assert run(sess, "AUTHENTICATE +") == ["AUTHENTICATE " + b64("user\0user\0pencil")]
    run(sess, ":srv 900 bot bot!u@h user :You are now logged in as user")
    assert run(sess, ":srv 903 bot :SASL authentication successful") == []
    assert sess.done and sess.success and sess.account == "user"


def test_scram_flow_through_session_with_chunked_challenge() -> None:
    sess = session(("SCRAM-SHA-256",), nonce=CLIENT_NONCE)
    assert sess.start(0.0) == ["AUTHENTICATE SCRAM-SHA-256"]
    assert run(sess, "AUTHENTICATE +") == ["AUTHENTICATE " + b64("n,,n=user,r=" + CLIENT_NONCE)]
    encoded = b64(SERVER_FIRST)
    assert run(sess, "AUTHENTICATE " + encoded) == ["AUTHENTICATE " + b64(CLIENT_FINAL)]
    assert run(sess, "AUTHENTICATE " + b64(SERVER_FINAL)) == ["AUTHENTICATE +"]
    run(sess, ":srv 903 bot :ok")
    assert sess.success


def test_incoming_400_byte_chunks_are_reassembled() -> None:
    sess = session(("SCRAM-SHA-256",), nonce=CLIENT_NONCE)
    sess.start(0.0)
    run(sess, "AUTHENTICATE +")
    first = SERVER_FIRST + ",x=" + "y" * 400  # an extension field makes it long
    encoded = b64(first)
    chunks = [encoded[i : i + 400] for i in range(0, len(encoded), 400)]
    for chunk in chunks[:-1]:
        assert run(sess, "AUTHENTICATE " + chunk) == []
    [line] = run(sess, "AUTHENTICATE " + chunks[-1])
    assert line.startswith("AUTHENTICATE ")


def test_904_tries_next_mechanism_and_908_filters() -> None:
    sess = session(("SCRAM-SHA-256", "EXTERNAL", "PLAIN"))
    assert sess.start(0.0) == ["AUTHENTICATE SCRAM-SHA-256"]
    run(sess, ":srv 908 bot PLAIN :are available SASL mechanisms")
    assert run(sess, ":srv 904 bot :SASL authentication failed") == ["AUTHENTICATE PLAIN"]
    assert run(sess, ":srv 904 bot :SASL authentication failed") == []
    # The reason is the server's numeric and text; the mechanism is said apart.
    assert sess.done and not sess.success and sess.reason == "904 SASL authentication failed"
    assert sess.mechanism == "PLAIN"


def test_offered_mechanisms_filter_at_start() -> None:
    sess = session(("SCRAM-SHA-256", "PLAIN"), offered=["PLAIN", "EXTERNAL"])
    assert sess.start(0.0) == ["AUTHENTICATE PLAIN"]
    sess = session(("SCRAM-SHA-256",), offered=["PLAIN"])
    assert sess.start(0.0) == []
    assert sess.done and not sess.success


@pytest.mark.parametrize("numeric", ["902", "905", "906"])
def test_hard_failures(numeric: str) -> None:
    sess = session()
    sess.start(0.0)
    run(sess, f":srv {numeric} bot :nope")
    assert sess.done and not sess.success and sess.reason == f"{numeric} nope"


def test_907_counts_as_success() -> None:
    sess = session()
    sess.start(0.0)
    run(sess, ":srv 907 bot :You have already authenticated")
    assert sess.success


def test_deadline_on_every_step() -> None:
    sess = session()
    sess.start(100.0)
    assert sess.deadline == 110.0
    assert sess.check_deadline(109.9) == []
    run(sess, "AUTHENTICATE +", now=105.0)
    assert sess.deadline == 115.0
    assert sess.check_deadline(115.0) == ["AUTHENTICATE *"]
    assert sess.done and not sess.success and "10 s" in sess.reason
    assert sess.deadline is None


def test_bad_base64_challenge_aborts() -> None:
    sess = session()
    sess.start(0.0)
    assert run(sess, "AUTHENTICATE !!!") == ["AUTHENTICATE *"]
    assert sess.done and not sess.success


def test_secrets_never_shown() -> None:
    secret = Secret("hunter2")
    config = SaslConfig("user", secret)
    sess = SaslSession(config, None)
    sess.start(0.0)
    texts = [
        repr(secret),
        str(secret),
        repr(config),
        repr(sess),
        repr(sess._mech),
        repr(ScramSha256("u", secret)),
        repr(Plain("u", secret)),
    ]
    assert all("hunter2" not in text for text in texts)
    assert secret.reveal() == "hunter2"
    assert secret == Secret("hunter2") and secret != Secret("x")
