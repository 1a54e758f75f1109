"""Secrets masked in the debug log of the traffic (logbot.irc.redact).

Case by case, then as properties: the lines the IRC core really sends for a config with
a server password, SASL PLAIN and keyed channels (and the services and operator lines
a plugin could send) never show a secret once masked, whatever the secret; any line at
all is masked without an exception.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.redact import MASK, redact
from logbot.irc.sasl import SaslConfig, Secret


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("PASS hunter2", "PASS ***"),
        ("PASS :two words", "PASS :***"),
        ("@label=1 PASS hunter2", "@label=1 PASS ***"),
        ("pass hunter2", "pass ***"),
        ("OPER admin hunter2", "OPER admin ***"),
        ("AUTHENTICATE PLAIN", "AUTHENTICATE PLAIN"),
        ("AUTHENTICATE SCRAM-SHA-256", "AUTHENTICATE SCRAM-SHA-256"),
        ("AUTHENTICATE +", "AUTHENTICATE +"),
        ("AUTHENTICATE *", "AUTHENTICATE *"),
        ("AUTHENTICATE AGJvdABodW50ZXIy", "AUTHENTICATE ***"),
        (":irc.example AUTHENTICATE cj1meXJlamF2", ":irc.example AUTHENTICATE ***"),
        ("AUTHENTICATE +", "AUTHENTICATE +"),
        ("JOIN #a,#b key1,key2", "JOIN #a,#b ***"),
        ("JOIN #a :key", "JOIN #a :***"),
        ("JOIN #a,#b", "JOIN #a,#b"),
        # a JOIN relayed by the server: extended-join's account and real name stay
        (":n!u@h JOIN #a acct :Real Name", ":n!u@h JOIN #a acct :Real Name"),
        ("PRIVMSG NickServ :IDENTIFY account hunter2", "PRIVMSG NickServ :IDENTIFY ***"),
        ("PRIVMSG nickserv IDENTIFY hunter2", "PRIVMSG nickserv IDENTIFY ***"),
        ("PRIVMSG NickServ :HELP", "PRIVMSG NickServ :HELP"),
        ("PRIVMSG ChanServ :IDENTIFY #c hunter2", "PRIVMSG ChanServ :IDENTIFY ***"),
        (
            "PRIVMSG Q@CServe.quakenet.org :AUTH me hunter2",
            "PRIVMSG Q@CServe.quakenet.org :AUTH ***",
        ),
        # our own message to NickServ, echoed back (echo-message)
        (":me!u@h PRIVMSG NickServ :IDENTIFY hunter2", ":me!u@h PRIVMSG NickServ :IDENTIFY ***"),
        ("NS IDENTIFY hunter2", "NS IDENTIFY ***"),
        ("NICKSERV :IDENTIFY account hunter2", "NICKSERV :IDENTIFY ***"),
        ("IDENTIFY hunter2", "IDENTIFY ***"),
        # nothing secret: untouched
        ("PRIVMSG #chan :IDENTIFY hunter2 is what he typed", None),
        ("NICK bot", None),
        ("CAP LS 302", None),
        (":irc.example 001 bot :Welcome", None),
        ("PASS", None),
        ("", None),
        ("@only-tags", None),
        (":only-source", None),
    ],
)
def test_masks_the_secret_and_keeps_the_rest(line: str, masked: str | None) -> None:
    assert redact(line) == (line if masked is None else masked)


SECRET = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0 ,"),
    min_size=4,
    max_size=80,
)


def _sent(core: IRCConnection) -> list[str]:
    return core.data_to_send(0.0).decode().split("\r\n")[:-1]


def _registration_lines(password: str, sasl_password: str, key: str) -> list[str]:
    """What the core sends for PASS, SASL PLAIN and a keyed JOIN, as the wire has it."""
    core = IRCConnection(
        "bot",
        password=password,
        sasl=SaslConfig(username="bot", password=Secret(sasl_password), mechanisms=("PLAIN",)),
        flood=FloodControl(enabled=False),
    )
    core.connection_made(0.0)
    lines = _sent(core)
    for reply in (
        ":irc.example CAP * LS :sasl",
        ":irc.example CAP bot ACK :sasl",
        "AUTHENTICATE +",
    ):
        core.receive_data(reply.encode() + b"\r\n", 0.0)
        lines += _sent(core)
    core.receive_data(b":irc.example 903 bot :SASL authentication successful\r\n", 0.0)
    core.receive_data(b":irc.example 001 bot :Welcome\r\n", 0.0)
    core.join_many([("#logbot", key), ("#other", None)])
    return lines + _sent(core)


@settings(max_examples=200, deadline=None)
@given(password=SECRET, sasl_password=SECRET, key=SECRET.filter(lambda k: k[0] != ":"))
def test_no_secret_of_the_config_survives_in_what_the_core_sends(
    password: str, sasl_password: str, key: str
) -> None:
    lines = _registration_lines(password, sasl_password, key)
    assert any(line.startswith("PASS ") for line in lines)
    assert any(line.startswith("JOIN ") for line in lines)
    payload = base64.b64encode(f"bot\0bot\0{sasl_password}".encode()).decode()
    assert any(payload[:400] in line for line in lines)  # the payload did go out
    skeleton = "\n".join(redact(line) for line in _registration_lines("x", "y", "z"))
    masked = "\n".join(redact(line) for line in lines)
    for secret in (password, sasl_password, key, payload[:8]):
        assume(secret not in skeleton)  # ("LS 3" is in CAP LS 302 whatever the secret)
        assert secret not in masked


@settings(max_examples=200, deadline=None)
@given(secret=SECRET, account=st.sampled_from(["", "account "]))
def test_services_and_oper_passwords_never_survive(secret: str, account: str) -> None:
    templates = [
        f"PRIVMSG NickServ :IDENTIFY {account}{{}}",
        f":bot!bot@host PRIVMSG NickServ :IDENTIFY {account}{{}}",
        f"NS IDENTIFY {account}{{}}",
        "OPER admin {}",
    ]
    for template in templates:
        assume(secret not in redact(template.format("x")))  # ("NS I" is in NS IDENTIFY)
        masked = redact(template.format(secret))
        assert secret not in masked and MASK in masked
    # a SASL payload is base64 (a mechanism's name, kept, is never one: see redact.py)
    payload = base64.b64encode(secret.encode()).decode()
    assert redact(f"AUTHENTICATE {payload}") == "AUTHENTICATE ***"


@given(st.text(max_size=300))
def test_any_line_is_masked_without_an_exception(line: str) -> None:
    masked = redact(line)
    assert isinstance(masked, str)
    assert redact(masked) == masked  # masking twice changes nothing more
