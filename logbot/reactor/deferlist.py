"""``DeferredList`` and ``gatherResults``: waiting for several Deferreds at once.

Both are part of ``logbot.reactor.defer``'s compatibility surface and are imported from
there; they live here to keep that module about one thing, the chain itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from logbot.reactor.deferred import Deferred, FirstError
from logbot.reactor.failure import Failure

log = logging.getLogger("logbot.reactor.defer")


class DeferredList(Deferred[list[Any]]):
    """Fires when all the given Deferreds have fired, with ``[(success, result), ...]``.

    ``fireOnOneCallback``: fire with ``(result, index)`` at the first success.
    ``fireOnOneErrback``: fail with ``FirstError(failure, index)`` at the first failure.
    ``consumeErrors``: failures stop in the given Deferreds (their chains continue
    with None), so they are not logged as unhandled.  Cancelling the list cancels
    every Deferred in it.
    """

    __slots__ = (
        "_deferredList",
        "resultList",
        "finishedCount",
        "fireOnOneCallback",
        "fireOnOneErrback",
        "consumeErrors",
    )

    def __init__(
        self,
        deferredList: Iterable[Deferred[Any]],
        fireOnOneCallback: bool = False,
        fireOnOneErrback: bool = False,
        consumeErrors: bool = False,
    ) -> None:
        super().__init__()
        self._deferredList = list(deferredList)
        self.resultList: list[Any] = [None] * len(self._deferredList)
        self.finishedCount = 0
        self.fireOnOneCallback = fireOnOneCallback
        self.fireOnOneErrback = fireOnOneErrback
        self.consumeErrors = consumeErrors
        if not self._deferredList and not fireOnOneCallback:
            self.callback(self.resultList)
        for index, d in enumerate(self._deferredList):
            d.addCallbacks(
                self._cbDeferred,
                self._cbDeferred,
                callbackArgs=(index, True),
                errbackArgs=(index, False),
            )

    def _cbDeferred(self, result: Any, index: int, succeeded: bool) -> Any:
        self.resultList[index] = (succeeded, result)
        self.finishedCount += 1
        if not self.called:
            if succeeded and self.fireOnOneCallback:
                self.callback((result, index))
            elif not succeeded and self.fireOnOneErrback:
                self.errback(Failure(FirstError(result, index)))
            elif self.finishedCount == len(self.resultList):
                self.callback(self.resultList)
        if not succeeded and self.consumeErrors:
            return None
        return result

    def cancel(self) -> None:
        """Cancel every Deferred in the list that has not fired yet."""
        if self.called:
            return
        for d in self._deferredList:
            try:
                d.cancel()
            except Exception:
                log.exception("Exception raised from user supplied canceller")


def _values(results: list[tuple[bool, Any]]) -> list[Any]:
    return [value for _, value in results]


def gatherResults(
    deferredList: Iterable[Deferred[Any]], consumeErrors: bool = False
) -> Deferred[list[Any]]:
    """The results of all the Deferreds as a list, or a ``FirstError`` failure."""
    d = DeferredList(deferredList, fireOnOneErrback=True, consumeErrors=consumeErrors)
    d.addCallback(_values)
    return d
