"""Deferreds: Twisted's ``twisted.internet.defer`` under our own import path.

The compatibility surface (API.md), gathered from the modules that hold it: the chain
itself (:mod:`~logbot.reactor.deferred`, which runs coroutines for ``ensureDeferred``
and ``Deferred.fromCoroutine`` with :mod:`~logbot.reactor.coroutine`) and waiting for
several at once (:mod:`~logbot.reactor.deferlist`).  Import from here; the modules
below are free to change.
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
    "maybeDeferred",
    "succeed",
]
