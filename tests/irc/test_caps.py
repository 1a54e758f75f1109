from __future__ import annotations

import pytest

from logbot.irc.caps import KNOWN_CAPS, CapNegotiator
from logbot.irc.message import parse


def handle(neg: CapNegotiator, line: str):
    return neg.handle(parse(line))


def test_multiline_ls_requests_only_known() -> None:
    neg = CapNegotiator()
    assert neg.start() == ["CAP LS 302"]
    update = handle(neg, ":srv CAP * LS * :inspircd.org/poison server-time multi-prefix")
    assert update.lines == [] and not update.ready
    update = handle(neg, ":srv CAP * LS :sasl=PLAIN,EXTERNAL draft/foo echo-message")
    assert update.lines == ["CAP REQ :echo-message multi-prefix sasl server-time"]
    assert "inspircd.org/poison" not in update.lines[0]
    assert neg.sasl_mechanisms == ["PLAIN", "EXTERNAL"]
    update = handle(neg, ":srv CAP * ACK :echo-message multi-prefix sasl server-time")
    assert update.ready and update.changed
    assert neg.enabled == {"echo-message", "multi-prefix", "sasl", "server-time"}
    assert neg.end() == ["CAP END"]
    assert neg.end() == []


def test_nothing_known_is_ready_at_once() -> None:
    neg = CapNegotiator()
    neg.start()
    update = handle(neg, ":srv CAP * LS :foo bar")
    assert update.lines == [] and update.ready


def test_nak_settles_without_enabling() -> None:
    neg = CapNegotiator()
    neg.start()
    handle(neg, ":srv CAP * LS :server-time")
    update = handle(neg, ":srv CAP * NAK :server-time")
    assert update.ready and neg.enabled == set()


def test_long_request_split_and_waits_for_every_answer() -> None:
    neg = CapNegotiator()
    neg.start()
    from logbot.irc import caps

    old, caps._REQ_BUDGET = caps._REQ_BUDGET, 40
    try:
        update = handle(neg, ":srv CAP * LS :" + " ".join(sorted(KNOWN_CAPS)))
    finally:
        caps._REQ_BUDGET = old
    assert len(update.lines) > 1
    assert sorted(" ".join(line[9:] for line in update.lines).split()) == sorted(KNOWN_CAPS)
    for line in update.lines[:-1]:
        assert not handle(neg, ":srv CAP * ACK :" + line[9:]).ready
    assert handle(neg, ":srv CAP * ACK :" + update.lines[-1][9:]).ready


def test_new_and_del_and_ack_removal() -> None:
    neg = CapNegotiator()
    neg.start()
    handle(neg, ":srv CAP * LS :cap-notify")
    handle(neg, ":srv CAP * ACK :cap-notify")
    neg.end()
    update = handle(neg, ":srv CAP bot NEW :away-notify vendor/x")
    assert update.lines == ["CAP REQ :away-notify"]
    update = handle(neg, ":srv CAP bot ACK :away-notify")
    assert not update.ready and "away-notify" in neg.enabled
    update = handle(neg, ":srv CAP bot DEL :away-notify")
    assert update.changed and "away-notify" not in neg.enabled
    handle(neg, ":srv CAP bot ACK :-cap-notify")
    assert neg.enabled == set()


def test_refuses_to_want_unknown_caps() -> None:
    with pytest.raises(ValueError):
        CapNegotiator(frozenset({"inspircd.org/poison"}))


def test_wanted_subset_and_short_cap_message() -> None:
    neg = CapNegotiator(frozenset({"server-time"}))
    neg.start()
    assert handle(neg, ":srv CAP * LS :server-time sasl").lines == ["CAP REQ :server-time"]
    assert handle(neg, ":srv CAP *").lines == []
