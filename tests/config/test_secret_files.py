"""Secret files (``*_file``) and the warnings about secrets (issue 15, item 2).

A secret file must be a regular file of at most ``MAX_SECRET_BYTES``: a device, a
FIFO or a directory is a config error naming the key, found without reading (or
blocking on) it.  A secret file others may read, and a password that would be sent
to a server without TLS, are warnings (the config still loads), which name the key
and the file or server, never the secret.

Every file here is real: ``/dev/zero``, a FIFO made with ``mkfifo``, a directory,
files with real modes.  A read that would block (the old code, on a FIFO) is cut by
an interval timer that fails the test, and one that would fill memory (the old code,
on ``/dev/zero``) runs under an address-space limit 256 MiB above what the process
uses, so a regression fails instead of hanging or swapping the machine.
"""

from __future__ import annotations

import logging
import os
import pathlib
import resource
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from logbot.config.loader import ConfigError, load_config, parse_config
from logbot.config.reader import MAX_SECRET_BYTES

SECRET = "hunter2-Sup3r"
CONFIG_LOG = "logbot.config"


def network(**keys: Any) -> dict[str, Any]:
    net: dict[str, Any] = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot"}
    net.update(keys)
    return net


def write_config(tmp_path: pathlib.Path, net: dict[str, Any], **top: Any) -> pathlib.Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({**top, "networks": [net]}, sort_keys=False))
    return path


def secret_file(tmp_path: pathlib.Path, name: str, text: str = SECRET, mode: int = 0o600) -> str:
    path = tmp_path / name
    path.write_text(text + "\n")
    path.chmod(mode)
    return str(path)


def problems_of(path: pathlib.Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    return info.value.problems


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == CONFIG_LOG and r.levelno == logging.WARNING
    ]


@pytest.fixture
def bounded() -> Iterator[None]:
    """Fail (not hang) a test whose config load blocks for 5 s."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError("the config load blocked")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, 5.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def memory_capped() -> Iterator[None]:
    """RLIMIT_AS 256 MiB above the current size: reading /dev/zero is a MemoryError."""
    with open("/proc/self/status") as f:
        size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + 256 * 1024 * 1024
    resource.setrlimit(
        resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard)
    )
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# -- what may be read --------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        lambda f: network(password_file=f),
        lambda f: network(sasl={"password_file": f}),
        lambda f: network(channels=[{"name": "#k", "key_file": f}]),
        lambda f: "plugins",
    ],
    ids=["password_file", "sasl.password_file", "key_file", "plugin-setting"],
)
def test_dev_zero_is_refused_at_once_naming_the_key(
    tmp_path: pathlib.Path, where: Any, bounded: None, memory_capped: None
) -> None:
    # It read 1.8 GiB and died with a MemoryError traceback.
    net = where("/dev/zero")
    top: dict[str, Any] = {}
    if net == "plugins":
        net = network()
        top = {"plugins": {"settings": {"w": {"token_file": "/dev/zero"}}}}
    start = time.monotonic()
    found = problems_of(write_config(tmp_path, net, **top))
    assert time.monotonic() - start < 2
    [message] = found
    key = {
        "password_file": "networks[0].password_file",
        "sasl": "networks[0].sasl.password_file",
        "channels": "networks[0].channels[0].key_file",
    }
    expected = next((v for k, v in key.items() if k in net), "plugins.settings.w.token_file")
    assert message.startswith(
        f"{expected}: /dev/zero is a device: a secret file must be a regular file ("
    ), message


def test_a_fifo_is_refused_without_blocking(tmp_path: pathlib.Path, bounded: None) -> None:
    # Opening a FIFO for reading blocks until a writer comes: the bot never started.
    fifo = tmp_path / "pass"
    os.mkfifo(fifo)
    [message] = problems_of(write_config(tmp_path, network(password_file="pass")))
    assert message.startswith(
        f"networks[0].password_file: {fifo} is a FIFO: a secret file must be a regular file"
    )


def test_a_directory_is_refused(tmp_path: pathlib.Path) -> None:
    (tmp_path / "secrets").mkdir()
    net = network(sasl={"password_file": "secrets"})
    [message] = problems_of(write_config(tmp_path, net))
    assert message.startswith(
        f"networks[0].sasl.password_file: {tmp_path / 'secrets'} is a directory: "
    )


def test_a_file_over_the_limit_is_refused_and_one_at_it_is_read(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert MAX_SECRET_BYTES == 64 * 1024
    big = tmp_path / "big"
    big.write_bytes(b"a" * (MAX_SECRET_BYTES + 1))
    big.chmod(0o600)
    top = {"plugins": {"settings": {"w": {"token_file": str(big)}}}}
    [message] = problems_of(write_config(tmp_path, network(), **top))
    assert message.startswith(
        f"plugins.settings.w.token_file: {big} is larger than 64 KiB: not a secret file ("
    )
    big.write_bytes(b"a" * MAX_SECRET_BYTES)
    config = load_config(write_config(tmp_path, network(), **top), environ={})
    assert config.plugins.settings["w"]["token"].reveal() == "a" * MAX_SECRET_BYTES


def test_a_symlink_to_a_secret_is_followed(tmp_path: pathlib.Path) -> None:
    # Kubernetes mounts secrets as links into ..data/: linking is allowed.
    target = secret_file(tmp_path, "real")
    (tmp_path / "link").symlink_to(target)
    config = load_config(write_config(tmp_path, network(password_file="link")), environ={})
    assert config.networks[0].password.reveal() == SECRET


# -- warnings: who may read the file -------------------------------------------------------


def test_a_secret_file_others_may_read_is_a_warning_naming_key_and_file(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = secret_file(tmp_path, "shared", mode=0o644)
    group = secret_file(tmp_path, "group", mode=0o640)
    private = secret_file(tmp_path, "private", mode=0o600)
    net = network(
        password_file=shared,
        sasl={"password_file": private, "mechanisms": ["SCRAM-SHA-256"]},
        channels=[{"name": "#k", "key_file": group}],
    )
    config = load_config(write_config(tmp_path, net), environ={})
    assert config.networks[0].password.reveal() == SECRET  # warned, not refused
    found = warnings_of(caplog)
    assert found == [
        f"networks[0].password_file: {shared} is readable by its group and others "
        f"(mode 0644; chmod 600 it) ({tmp_path / 'config.yaml'} line 6)",
        f"networks[0].channels[0].key_file: {group} is readable by its group "
        f"(mode 0640; chmod 600 it) ({tmp_path / 'config.yaml'} line 13)",
    ]
    assert not any(SECRET in text for text in caplog.messages)


# -- warnings: passwords without TLS -------------------------------------------------------


def plaintext_warnings(net: dict[str, Any], caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    parse_config(yaml.safe_dump({"networks": [net]}, sort_keys=False), environ={})
    found = [text.rsplit(" (config.yaml", 1)[0] for text in warnings_of(caplog)]
    assert not any(SECRET in text for text in caplog.messages)
    return found


def test_a_server_password_without_tls_to_a_remote_host_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    servers = [
        "irc.example.org",
        {"host": "irc.example.org", "tls": True},
        "127.0.0.1",
        "127.8.9.10:6668",
        "[::1]:6667",
        "LocalHost",
        {"host": "192.0.2.7", "port": 7000},
        "::ffff:7f00:1",  # IPv4-mapped loopback: not ::1, so warned about
    ]
    assert plaintext_warnings(network(servers=servers, password=SECRET), caplog) == [
        "networks[0].servers[0]: the server password (password) would be sent without TLS "
        "to irc.example.org:6667, readable on the way (set tls: true, or connect to a "
        "loopback address)",
        "networks[0].servers[6]: the server password (password) would be sent without TLS "
        "to 192.0.2.7:7000, readable on the way (set tls: true, or connect to a "
        "loopback address)",
        "networks[0].servers[7]: the server password (password) would be sent without TLS "
        "to ::ffff:7f00:1:6667, readable on the way (set tls: true, or connect to a "
        "loopback address)",
    ]


def test_sasl_plain_without_tls_is_a_warning_and_scram_or_external_is_not(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    remote = ["irc.example.org"]
    default = network(servers=remote, sasl={"password": SECRET})  # SCRAM-SHA-256, PLAIN
    assert plaintext_warnings(default, caplog) == [
        "networks[0].servers[0]: the SASL PLAIN password (sasl.password) would be sent "
        "without TLS to irc.example.org:6667, readable on the way (set tls: true, or "
        "connect to a loopback address)"
    ]
    both = network(
        servers=remote,
        password_file=secret_file(tmp_path, "pass"),
        sasl={"password_file": secret_file(tmp_path, "sasl"), "mechanisms": ["plain"]},
    )
    assert plaintext_warnings(both, caplog) == [
        "networks[0].servers[0]: the server password (password_file) and the SASL PLAIN "
        "password (sasl.password_file) would be sent without TLS to irc.example.org:6667, "
        "readable on the way (set tls: true, or connect to a loopback address)"
    ]
    scram = network(servers=remote, sasl={"password": SECRET, "mechanisms": ["SCRAM-SHA-256"]})
    assert plaintext_warnings(scram, caplog) == []
    assert (
        plaintext_warnings(network(servers=["localhost"], sasl={"password": SECRET}), caplog) == []
    )
    assert plaintext_warnings(network(servers=remote), caplog) == []
