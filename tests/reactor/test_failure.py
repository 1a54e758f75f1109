"""Failure: capturing, checking, trapping, re-raising and cleaning."""

from __future__ import annotations

import io

import pytest

from logbot.reactor import error
from logbot.reactor.failure import Failure, NoCurrentExceptionError


class Special(ValueError):
    pass


def _raise_special() -> None:
    raise Special("deep down")


def _captured() -> Failure:
    try:
        _raise_special()
    except Special:
        return Failure()
    raise AssertionError("unreachable")


def test_failure_in_except_block_captures_the_current_exception() -> None:
    f = _captured()
    assert isinstance(f.value, Special)
    assert f.type is Special
    assert f.tb is not None


def test_failure_outside_except_block_without_value_raises() -> None:
    with pytest.raises(NoCurrentExceptionError):
        Failure()


def test_failure_from_an_exception_instance() -> None:
    exc = KeyError("k")
    f = Failure(exc)
    assert f.value is exc and f.type is KeyError


def test_failure_from_a_string_and_type() -> None:
    f = Failure("bad thing", ValueError)
    assert isinstance(f.value, ValueError) and f.getErrorMessage() == "bad thing"
    assert Failure("plain").type is Exception


def test_failure_of_a_failure_keeps_the_value() -> None:
    original = _captured()
    text = original.getTraceback()
    copy = Failure(original)
    assert copy.value is original.value
    assert copy.getTraceback() == text


def test_failure_of_a_non_exception_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Failure(42)  # type: ignore[arg-type]


def test_check_returns_the_first_matching_type() -> None:
    f = _captured()
    assert f.check(KeyError) is None
    assert f.check(KeyError, ValueError, Special) is ValueError
    assert f.check(Special) is Special


def test_check_accepts_qualified_names() -> None:
    f = Failure(error.ConnectionDone())
    name = "logbot.reactor.error.ConnectionClosed"
    assert f.check(name) == name
    assert f.check("logbot.reactor.error.ConnectionLost") is None


def test_trap_returns_the_type_or_reraises_the_original() -> None:
    f = _captured()
    assert f.trap(KeyError, Special) is Special
    with pytest.raises(Special) as info:
        f.trap(KeyError)
    assert info.value is f.value


def test_raise_exception_keeps_the_original_traceback() -> None:
    f = _captured()
    with pytest.raises(Special) as info:
        f.raiseException()
    names = [entry.name for entry in info.traceback]
    assert "_raise_special" in names


def test_error_message_falls_back_to_the_type_name() -> None:
    assert Failure(RuntimeError()).getErrorMessage() == "RuntimeError"
    assert Failure(RuntimeError("why")).getErrorMessage() == "why"


def test_traceback_text_names_the_frames() -> None:
    text = _captured().getTraceback()
    assert "_raise_special" in text and "Special: deep down" in text


def test_clean_failure_drops_frames_but_keeps_the_text() -> None:
    f = _captured()
    before = f.getTraceback()
    f.cleanFailure()
    assert f.tb is None and f.value.__traceback__ is None
    assert f.getTraceback() == before
    with pytest.raises(Special):
        f.raiseException()


def test_print_traceback_writes_to_the_given_file() -> None:
    out = io.StringIO()
    _captured().printTraceback(out)
    assert "Special: deep down" in out.getvalue()


def test_repr_names_the_type_and_message() -> None:
    text = repr(Failure(Special("oops")))
    assert "Special" in text and "oops" in text
    assert str(Failure(Special("oops"))) == text
