"""The sample config with a newcomer's values in place, for ``logbot init``.

Why edit text rather than dump YAML: the sample's comments are its documentation, and
a YAML dump would drop them.  So each value replaces one known spot of the sample
(the sample shipped in the wheel, ``logbot/cli/sample-config.yaml``, is the
repository's ``config.yaml``), every spot must be found exactly once (a sample
edited out of shape fails loudly, and the tests run this on the real sample), and
the result is parsed back to prove each value reads as what was meant.

Values are checked first, so that a mistake is reported against the option that
carried it: nicks and channels by the loader's own rules, hosts as host names or IP
addresses.  Channel names are always quoted (unquoted, YAML reads ``#chan`` as a
comment); other strings are quoted whenever plain YAML could read them as something
else; ``${`` is written ``$${`` since the loader would take it for a variable.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import textwrap
from dataclasses import dataclass
from importlib import resources

import yaml

from logbot.config.networks_section import _check_channel, _check_nick

__all__ = ["Answers", "StarterError", "check_host", "fill_sample", "network_name", "sample_text"]

SAMPLE = "sample-config.yaml"

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_NETWORK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NETWORK_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit"
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")


class StarterError(ValueError):
    """A value that cannot go into the config; the message names the option."""


@dataclass(frozen=True)
class Answers:
    """What ``logbot init`` was told (by options or at the prompts)."""

    host: str
    port: int
    tls: bool
    nick: str
    channels: tuple[str, ...]
    log_root: str
    network: str
    file: str  # as the user wrote it, for the header's "logbot check FILE"


def sample_text() -> str:
    """The commented sample config shipped with the package."""
    return resources.files("logbot.cli").joinpath(SAMPLE).read_text(encoding="utf-8")


def check_host(host: str) -> str | None:
    """None for a host name or an IP address, else why not."""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if len(host) <= 253 and _HOSTNAME.fullmatch(host):
        return None
    return f"bad host {host!r}: a host name (letters, digits, '-' and '.') or an IP address"


def network_name(host: str) -> str:
    """A name for the network (it names the log folder): irc.libera.chat -> libera."""
    try:
        return "local" if ipaddress.ip_address(host).is_loopback else "irc"
    except ValueError:
        pass
    labels = [label for label in host.lower().split(".") if label]
    if len(labels) > 2 and labels[0] in ("irc", "chat"):
        labels = labels[1:]
    name = labels[0] if labels else ""
    return name if _NETWORK.fullmatch(name) else "irc"


def _check(answers: Answers) -> None:
    problems = [
        ("--server", check_host(answers.host)),
        ("--nick", _check_nick(answers.nick)),
        *(("--channel", _check_channel(name)) for name in answers.channels),
    ]
    if not _NETWORK.fullmatch(answers.network):
        problems.append(("--network", f"bad network name {answers.network!r}: {_NETWORK_RULE}"))
    if not answers.log_root or not answers.log_root.isprintable():
        problems.append(("--log-root", f"bad folder {answers.log_root!r}: control characters"))
    seen: set[str] = set()
    for name in answers.channels:
        if name.lower() in seen:
            problems.append(("--channel", f"{name!r} given twice (names are compared in any case)"))
        seen.add(name.lower())
    for option, problem in problems:
        if problem:
            raise StarterError(f"{option}: {problem}")


def quoted(value: str) -> str:
    """``value`` as a YAML double-quoted scalar that the loader reads back as ``value``."""
    out = []
    for c in value.replace("${", "$${"):
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        elif ord(c) <= 0xFF:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def scalar(value: str) -> str:
    """``value`` plain when YAML cannot misread it (not ``yes``, ``null``, ...), else
    quoted."""
    plain = _PLAIN.fullmatch(value) and yaml.safe_load(value) == value
    return value if plain else quoted(value)


def _header(answers: Answers) -> str:
    count = len(answers.channels)
    what = f"{count} channel{'s' if count != 1 else ''}"
    security = "TLS" if answers.tls else "no TLS"
    text = (
        f"Written by `logbot init`: it logs {what} of {answers.host} "
        f"(port {answers.port}, {security}) into {answers.log_root}.  Check a config with"
    )
    lines = textwrap.wrap(text, width=76, break_on_hyphens=False, break_long_words=False)
    return "\n".join(f"# {line}" for line in lines) + "\n"


def _channels(channels: tuple[str, ...]) -> str:
    if not channels:
        return "    channels: []\n"
    return "    channels:\n" + "".join(f"      - {quoted(name)}\n" for name in channels)


def _servers(answers: Answers) -> str:
    return (
        "    servers:\n"
        f"      - host: {quoted(answers.host)}\n"
        f"        port: {answers.port}\n"
        f"        tls: {'true' if answers.tls else 'false'}\n"
    )


def fill_sample(answers: Answers, sample: str | None = None) -> str:
    """The sample (``sample_text()`` by default) with ``answers`` in place.

    Raises :class:`StarterError` for a value that cannot be used, RuntimeError if the
    sample has lost one of the spots (a bug, caught by the tests)."""
    _check(answers)
    nick = answers.nick
    spots = [
        (r"^# As written it logs (?:.*\n)*?.*Check a config with\n", _header(answers)),
        (r"^#     logbot check config\.yaml$", f"#     logbot check {shlex.quote(answers.file)}"),
        (r"^  root: logs$", f"  root: {scalar(answers.log_root)}"),
        (r"^  - name: local$", f"  - name: {scalar(answers.network)}"),
        (r'^    servers:\n      - "127\.0\.0\.1:6667"\n', _servers(answers)),
        (r"^    nick: logbot$", f"    nick: {scalar(nick)}"),
        (
            r"^    alt_nicks: \[logbot_, logbot__\]$",
            f"    alt_nicks: [{scalar(nick + '_')}, {scalar(nick + '__')}]",
        ),
        (r"^    user: logbot$", f"    user: {scalar(nick)}"),
        (r"^    channels:\n(?: {6}.*\n)+", _channels(answers.channels)),
    ]
    text = sample_text() if sample is None else sample
    for pattern, replacement in spots:
        found = list(re.finditer(pattern, text, flags=re.MULTILINE))
        if len(found) != 1:
            raise RuntimeError(f"the sample config has {len(found)} matches for {pattern!r}")
        text = text[: found[0].start()] + replacement + text[found[0].end() :]
    _read_back(text, answers)
    return text


def _read_back(text: str, answers: Answers) -> None:
    """Raise RuntimeError unless ``text`` reads as ``answers`` (a quoting bug)."""
    literal = {
        "host": answers.host.replace("${", "$${"),
        "root": answers.log_root.replace("${", "$${"),
    }
    data = yaml.safe_load(text)
    network = data["networks"][0]
    got = (
        network["name"],
        network["servers"],
        network["nick"],
        network["alt_nicks"],
        network["user"],
        network["channels"],
        data["logging"]["root"],
    )
    wanted = (
        answers.network,
        [{"host": literal["host"], "port": answers.port, "tls": answers.tls}],
        answers.nick,
        [answers.nick + "_", answers.nick + "__"],
        answers.nick,
        [name.replace("${", "$${") for name in answers.channels],
        literal["root"],
    )
    if got != wanted:
        raise RuntimeError(f"the config written would not read back as given: {got!r}")
