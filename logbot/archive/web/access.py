"""Who sees what: the publishing rules and the listener's credentials.

Why in one small module: these two decide everything the web view may show, so they
are kept where they can be read (and tested) whole.

Publishing: a channel is visible only if ``web.publish`` names its network with
``"*"`` (every *channel*: a private log's "channel" is a nick and never shows) or lists
it (compared as channel keys, RFC 1459 folding).  Anything else is answered exactly as
a page that does not exist, so a URL cannot tell an unpublished channel from a missing
one.

Credentials: with ``user``/``password``, HTTP basic auth; with ``token``,
``Authorization: Bearer <token>``; with both, either lets a request in.  Both are
compared with :func:`hmac.compare_digest` on bytes, so the time an answer takes does
not tell how much of a guess was right.  The secrets stay in their
:class:`~logbot.irc.sasl.Secret` until a comparison needs them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping

from logbot.archive.model import channel_key, is_channel
from logbot.irc.sasl import Secret

__all__ = ["MAX_AUTHORIZATION", "Guard", "Publisher"]

#: The longest ``Authorization`` header looked at (characters): more is not ours.
MAX_AUTHORIZATION = 4096


class Publisher:
    """The publishing rules of ``web.publish`` (network -> channel names, or None)."""

    def __init__(self, publish: Mapping[str, Iterable[str] | None]) -> None:
        self._rules: dict[str, frozenset[str] | None] = {
            network: None if names is None else frozenset(channel_key(n) for n in names)
            for network, names in publish.items()
        }

    def networks(self) -> list[str]:
        """The networks that may show anything, in the config's order."""
        return list(self._rules)

    def shows_network(self, network: str) -> bool:
        return network in self._rules

    def shows(self, network: str, channel: str) -> bool:
        """True if the channel ``channel`` (a name or a key) of ``network`` is published."""
        if network not in self._rules or not is_channel(channel):
            return False
        keys = self._rules[network]
        return keys is None or channel_key(channel) in keys


class Guard:
    """The listener's credentials; :meth:`allows` a request's ``Authorization`` value."""

    def __init__(self, user: str | None, password: Secret | None, token: Secret | None) -> None:
        self._basic: tuple[bytes, bytes] | None = None
        if user is not None and password is not None:
            self._basic = (user.encode(), password.reveal().encode())
        self._token = token.reveal().encode() if token is not None else None

    @property
    def open(self) -> bool:
        """True when no credentials are configured: everyone may read."""
        return self._basic is None and self._token is None

    def allows(self, authorization: str | None) -> bool:
        """True if the ``Authorization`` header's value carries good credentials (or
        none are needed)."""
        if self.open:
            return True
        if not authorization or len(authorization) > MAX_AUTHORIZATION:
            return False
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if scheme == "basic" and self._basic is not None:
            return self._check_basic(credentials)
        if scheme == "bearer" and self._token is not None:
            return hmac.compare_digest(credentials.encode(), self._token)
        return False

    def _check_basic(self, credentials: str) -> bool:
        assert self._basic is not None
        try:
            decoded = base64.b64decode(credentials.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return False
        user, colon, password = decoded.partition(b":")
        if not colon:
            return False
        # both compared, always: the time taken does not say which one was wrong
        good_user = hmac.compare_digest(user, self._basic[0])
        good_password = hmac.compare_digest(password, self._basic[1])
        return good_user and good_password

    def challenge(self) -> tuple[tuple[str, str], ...]:
        """The ``WWW-Authenticate`` headers of a ``401``."""
        headers = []
        if self._basic is not None:
            headers.append(("WWW-Authenticate", 'Basic realm="logbot", charset="UTF-8"'))
        if self._token is not None:
            headers.append(("WWW-Authenticate", 'Bearer realm="logbot"'))
        return tuple(headers)
