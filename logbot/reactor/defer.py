"""Deferreds: Twisted's ``twisted.internet.defer`` under our own import path.

The compatibility surface (API.md), gathered from the modules that hold it: the chain
itself (:mod:`~logbot.reactor.deferred`, which runs coroutines for ``ensureDeferred``
and ``Deferred.fromCoroutine`` with :mod:`~logbot.reactor.coroutine`), waiting for
several at once (:mod:`~logbot.reactor.deferlist`), and generators as Deferred code:
``inlineCallbacks`` and ``returnValue`` (:mod:`~logbot.reactor.inline`, Twisted's
semantics for yielded Deferreds, exceptions, ``return`` and cancelling).  Import from
here; the modules below are free to change.
"""

from __future__ import annotations

from logbot.reactor.deferlist import DeferredList, gatherResults
from logbot.reactor.deferred import (
    AlreadyCalledError,
    CancelledError,
    Deferred,
    FirstError,
    NotACoroutineError,
    TimeoutError,
    ensureDeferred,
    fail,
    maybeDeferred,
    succeed,
)
from logbot.reactor.inline import inlineCallbacks, returnValue

__all__ = [
    "AlreadyCalledError",
    "CancelledError",
    "Deferred",
    "DeferredList",
    "FirstError",
    "NotACoroutineError",
    "TimeoutError",
    "ensureDeferred",
    "fail",
    "gatherResults",
    "inlineCallbacks",
    "maybeDeferred",
    "returnValue",
    "succeed",
]
