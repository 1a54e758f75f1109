"""The TLS context for one configured server.

Verification is on unless the config turns it off for that server; the
system's CAs are used unless ``ca_file`` names others; with ``fingerprint`` the
certificate must match a pin instead (:mod:`logbot.bot.pins`: no CA, name or date
check); a client certificate (for SASL EXTERNAL / CertFP) is loaded when given, pinned
or not.  Errors (a missing file, a
bad PEM) raise ``TLSConfigError`` naming the file, so the network logs one
clear line and retries later instead of crashing.
"""

from __future__ import annotations

import ssl

from logbot.bot.pins import pinned_context
from logbot.config.settings import ServerConfig

__all__ = ["TLSConfigError", "client_context"]


class TLSConfigError(Exception):
    pass


def client_context(server: ServerConfig) -> ssl.SSLContext:
    if server.fingerprints:
        context: ssl.SSLContext = pinned_context(server.fingerprints)
    else:
        try:
            context = ssl.create_default_context(cafile=server.ca_file)
        except (OSError, ssl.SSLError) as e:
            raise TLSConfigError(f"cannot load ca_file {server.ca_file}: {e}") from None
    if not server.verify and not server.fingerprints:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if server.client_cert:
        try:
            context.load_cert_chain(server.client_cert, server.client_key)
        except (OSError, ssl.SSLError) as e:
            raise TLSConfigError(f"cannot load client_cert {server.client_cert}: {e}") from None
    return context
