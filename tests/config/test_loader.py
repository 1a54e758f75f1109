"""The YAML config loader: values, defaults, merging, and every way a config can be wrong.

Most tests build a config as a dict (``doc``) and dump it, so each states only what it is
about; the tests of line numbers write the YAML by hand, since the line is the point.
"""

from __future__ import annotations

import copy
import os
import pathlib
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logbot.config.loader import ConfigError, load_config, parse_config, summary
from logbot.config.logging_section import check_path_template, parse_size
from logbot.config.settings import (
    ChannelConfig,
    Config,
    EventFilter,
    LogOptions,
    NetworkConfig,
    ReconnectOptions,
    SaslOptions,
    Secret,
    ServerConfig,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
SECRET = "hunter2-Sup3r"


def network(**keys: Any) -> dict[str, Any]:
    net: dict[str, Any] = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot"}
    net.update(keys)
    return net


def doc(net: dict[str, Any] | None = None, **top: Any) -> str:
    return yaml.safe_dump({**top, "networks": [net or network()]}, sort_keys=False)


def parse(text: str, environ: dict[str, str] | None = None, **kw: Any) -> Config:
    return parse_config(text, environ={} if environ is None else environ, **kw)


def problems(text: str, environ: dict[str, str] | None = None, **kw: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(text, environ, **kw)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def problem(text: str, environ: dict[str, str] | None = None, **kw: Any) -> str:
    found = problems(text, environ, **kw)
    assert len(found) == 1, found
    return found[0]


def without_line(message: str) -> str:
    """``a.b: msg (config.yaml line 3)`` -> ``a.b: msg``."""
    return message.rsplit(" (config.yaml", 1)[0]


# -- defaults and plain values -------------------------------------------------------------


def test_minimal_config_gets_every_default() -> None:
    config = parse(doc())
    assert config == Config(
        networks=(
            NetworkConfig(name="local", servers=(ServerConfig("127.0.0.1"),), nick="logbot"),
        ),
        source="config.yaml",
    )
    assert config.reactor == "auto" and config.log == LogOptions()
    net = config.networks[0]
    assert net.log == LogOptions() and net.reconnect == ReconnectOptions()
    assert net.sasl is None and net.password is None and net.channels == ()
    assert net.servers[0].port == 6667 and not net.servers[0].tls


def test_every_network_value_is_read() -> None:
    config = parse(
        doc(
            network(
                servers=["a.example:7000", {"host": "b.example", "tls": True, "verify": False}],
                alt_nicks=["logbot_", "[logbot]"],
                user="lb",
                realname="Log Bot",
                channels=["#a", {"name": "&b"}, "+c", "!d"],
                reconnect={"initial_delay": 2, "max_delay": 60, "factor": 1.5, "jitter": 0},
                rejoin_after_kick=None,
                quit_message="bye",
                line_rate=0,
                registration_timeout=5,
                ping_interval=10,
                ping_timeout=25.5,
            ),
            reactor="poll",
        )
    )
    net = config.networks[0]
    assert config.reactor == "poll"
    assert net.servers == (
        ServerConfig("a.example", 7000),
        ServerConfig("b.example", 6697, tls=True, verify=False),
    )
    assert net.alt_nicks == ("logbot_", "[logbot]")
    assert (net.user, net.realname, net.quit_message) == ("lb", "Log Bot", "bye")
    assert [c.name for c in net.channels] == ["#a", "&b", "+c", "!d"]
    assert net.reconnect == ReconnectOptions(2.0, 60.0, 1.5, 0.0)
    assert isinstance(net.reconnect.initial_delay, float)
    assert net.rejoin_after_kick is None and net.line_rate == 0.0
    assert net.registration_timeout == 5.0 and isinstance(net.registration_timeout, float)
    assert (net.ping_interval, net.ping_timeout) == (10.0, 25.5)


def test_every_logging_value_is_read() -> None:
    config = parse(
        doc(
            logging={
                "enabled": False,
                "root": "/var/log/logbot",
                "path": "{network}-{channel}.log",
                "formats": ["jsonl"],
                "timezone": "Europe/Paris",
                "rotation": "size",
                "max_bytes": "1MiB",
                "compress": "gzip",
                "retention_days": 30,
                "flush": "interval",
                "flush_interval": 5,
                "fsync_interval": 60.5,
                "events": {"away": False},
                "private": True,
                "nolog_prefix": None,
                "opt_out": ["alice", "bob"],
                "max_open_files": 10000,
            }
        )
    )
    assert config.log == LogOptions(
        enabled=False,
        root="/var/log/logbot",
        path="{network}-{channel}.log",
        formats=("jsonl",),
        timezone="Europe/Paris",
        rotation="size",
        max_bytes=1048576,
        compress="gzip",
        retention_days=30,
        flush="interval",
        flush_interval=5.0,
        fsync_interval=60.5,
        events=EventFilter(away=False),
        private=True,
        nolog_prefix=None,
        opt_out=("alice", "bob"),
        max_open_files=10000,
    )


def test_null_sections_mean_defaults() -> None:
    text = doc(
        network(sasl=None, logging=None, reconnect=None, alt_nicks=None),
        logging={"events": None, "opt_out": None},
    )
    net = parse(text).networks[0]
    assert net.sasl is None and net.log == LogOptions() and net.alt_nicks == ()


# -- the message format and line numbers ---------------------------------------------------

LINE_12 = """\
reactor: auto
logging:
  formats: [text]
networks:
  - name: local
    nick: logbot
    servers:
      - irc.example.org
      - host: irc2.example.org
        tls: true
        verify: true
        port: "6697"
"""


def test_exact_message_with_line_number() -> None:
    with pytest.raises(ConfigError) as info:
        parse(LINE_12)
    assert str(info.value) == (
        "networks[0].servers[1].port: expected an integer (config.yaml line 12)"
    )
    assert info.value.problems == [str(info.value)]


def test_source_names_the_file_in_messages() -> None:
    message = problem(LINE_12, source="/etc/logbot.yaml")
    assert message.endswith("(/etc/logbot.yaml line 12)")


def test_missing_key_reports_the_line_of_the_mapping() -> None:
    text = "networks:\n  - name: local\n    servers: [a]\n  - name: other\n    nick: x\n"
    assert problems(text) == [
        "networks[0]: missing required key 'nick' (config.yaml line 2)",
        "networks[1]: missing required key 'servers' (config.yaml line 4)",
    ]


def test_all_problems_are_collected_in_file_order() -> None:
    text = (
        "reactor: kqueue\nlogging:\n  flush: sometimes\nnetworks:\n  - name: 'bad name'\n"
        "    servers: [a]\n    nick: '1abc'\n    tls: true\n"
    )
    found = problems(text)
    assert [int(m.rsplit(" ", 1)[1].rstrip(")")) for m in found] == [1, 3, 5, 7, 8]
    assert found[0] == (
        "reactor: expected one of 'auto', 'epoll', 'poll', 'select', "
        "not 'kqueue' (config.yaml line 1)"
    )


def test_unknown_key_suggests_the_closest() -> None:
    text = "networks:\n  - name: local\n    servers: [a]\n    nick: x\n    nik: y\n"
    assert problem(text) == (
        "networks[0].nik: unknown key (did you mean 'nick'?) (config.yaml line 5)"
    )


def test_unknown_key_without_close_match_lists_known_keys() -> None:
    message = problem(doc(network(xyzzy=1)))
    assert "networks[0].xyzzy: unknown key (known keys: alt_nicks, channels," in message


@pytest.mark.parametrize(
    "where, key, suggestion",
    [
        ("top", "loging", "logging"),
        ("logging", "formts", "formats"),
        ("events", "join", "joins"),
        ("server", "hots", "host"),
        ("sasl", "mechanism", "mechanisms"),
        ("channel", "keyfile", "key_file"),
        ("reconnect", "jiter", "jitter"),
    ],
)
def test_unknown_keys_everywhere(where: str, key: str, suggestion: str) -> None:
    net = network()
    top: dict[str, Any] = {}
    if where == "top":
        top[key] = 1
    elif where == "logging":
        top["logging"] = {key: 1}
    elif where == "events":
        net["logging"] = {"events": {key: True}}
    elif where == "server":
        net["servers"] = [{"host": "a", key: 1}]
    elif where == "sasl":
        net["sasl"] = {"password": "x", key: 1}
    elif where == "channel":
        net["channels"] = [{"name": "#a", key: 1}]
    else:
        net["reconnect"] = {key: 1}
    assert f"unknown key (did you mean {suggestion!r}?)" in problem(doc(net, **top))


def test_duplicate_yaml_keys_are_errors() -> None:
    text = "networks:\n  - name: a\n    nick: x\n    servers: [a]\n    nick: y\n"
    assert problem(text) == (
        "networks[0].nick: duplicate key (first on line 3, line 5 wins) (config.yaml line 5)"
    )


# -- wrong types ---------------------------------------------------------------------------

TYPE_CASES = [
    ({"port": True}, "networks[0].servers[0].port", "expected an integer"),
    ({"port": 66.0}, "networks[0].servers[0].port", "expected an integer"),
    ({"tls": "yes"}, "networks[0].servers[0].tls", "expected true or false"),
    ({"verify": 1}, "networks[0].servers[0].verify", "expected true or false"),
    ({"host": 5}, "networks[0].servers[0].host", "expected a string"),
]


@pytest.mark.parametrize("server, path, message", TYPE_CASES)
def test_server_type_errors(server: dict[str, Any], path: str, message: str) -> None:
    text = doc(network(servers=[{"host": "a", **server}]))
    assert without_line(problem(text)) == f"{path}: {message}"


@pytest.mark.parametrize(
    "keys, path, message",
    [
        ({"nick": 5}, "nick", "expected a string"),
        ({"nick": None}, "nick", "expected a string"),
        ({"name": ["a"]}, "name", "expected a string"),
        ({"servers": "a.example"}, "servers", "expected a list"),
        ({"servers": [3]}, "servers[0]", "expected a string ('host' or 'host:port') or a mapping"),
        ({"alt_nicks": "x"}, "alt_nicks", "expected a list"),
        ({"sasl": ["PLAIN"]}, "sasl", "expected a mapping"),
        ({"sasl": {"required": "no", "password": "x"}}, "sasl.required", "expected true or false"),
        ({"reconnect": 5}, "reconnect", "expected a mapping"),
        ({"reconnect": {"factor": "2"}}, "reconnect.factor", "expected a number"),
        ({"reconnect": {"jitter": True}}, "reconnect.jitter", "expected a number"),
        ({"reconnect": {"max_delay": float("inf")}}, "reconnect.max_delay", "expected a number"),
        ({"rejoin_after_kick": float("nan")}, "rejoin_after_kick", "expected a number"),
        ({"line_rate": "fast"}, "line_rate", "expected a number"),
        ({"quit_message": 1}, "quit_message", "expected a string"),
        ({"channels": {"#a": None}}, "channels", "expected a list"),
        ({"channels": [5]}, "channels[0]", "expected a channel name or a mapping"),
        ({"logging": ["x"]}, "logging", "expected a mapping"),
        ({"logging": {"private": 1}}, "logging.private", "expected true or false"),
        (
            {"logging": {"events": {"joins": "no"}}},
            "logging.events.joins",
            "expected true or false",
        ),
        ({"logging": {"events": []}}, "logging.events", "expected a mapping"),
        ({"logging": {"retention_days": 1.5}}, "logging.retention_days", "expected an integer"),
        ({"logging": {"retention_days": True}}, "logging.retention_days", "expected an integer"),
        ({"logging": {"flush_interval": None}}, "logging.flush_interval", "expected a number"),
        ({"logging": {"opt_out": "alice"}}, "logging.opt_out", "expected a list"),
        ({"logging": {"opt_out": [1]}}, "logging.opt_out[0]", "expected a string"),
        ({"logging": {"enabled": "true"}}, "logging.enabled", "expected true or false"),
    ],
)
def test_network_type_errors(keys: dict[str, Any], path: str, message: str) -> None:
    assert without_line(problem(doc(network(**keys)))) == f"networks[0].{path}: {message}"


@pytest.mark.parametrize(
    "top, message",
    [
        ({"reactor": 1}, "reactor: expected a string"),
        ({"logging": "on"}, "logging: expected a mapping"),
        ({"logging": {"max_open_files": "512"}}, "logging.max_open_files: expected an integer"),
        ({"logging": {"root": None}}, "logging.root: expected a string"),
        ({"logging": {"formats": None}}, "logging.formats: expected a list"),
    ],
)
def test_top_level_type_errors(top: dict[str, Any], message: str) -> None:
    assert without_line(problem(doc(**top))) == message


@pytest.mark.parametrize(
    "text, message",
    [
        ("networks: {}\n", "networks: expected a list (config.yaml line 1)"),
        ("networks: []\n", "networks: must list at least one network (config.yaml line 1)"),
        ("networks: [x]\n", "networks[0]: expected a mapping (config.yaml line 1)"),
        ("reactor: auto\n", "missing required key 'networks' (config.yaml line 1)"),
        (
            "- a\n- b\n",
            ("expected a mapping at the top level (keys like 'networks') (config.yaml line 1)"),
        ),
        (
            "just text\n",
            ("expected a mapping at the top level (keys like 'networks') (config.yaml line 1)"),
        ),
        ("", "the config is empty: expected a mapping with a 'networks' list (config.yaml)"),
        (
            "# only\n# comments\n",
            ("the config is empty: expected a mapping with a 'networks' list (config.yaml)"),
        ),
    ],
)
def test_document_shape_errors(text: str, message: str) -> None:
    assert problem(text) == message


def test_yaml_syntax_error_gives_line_and_problem_but_no_text() -> None:
    text = f"networks:\n  - name: local\n    password: {SECRET}: oops\n"
    message = problem(text)
    assert message.startswith("bad YAML: mapping values are not allowed here")
    assert message.endswith("(config.yaml line 3)")
    assert SECRET not in message


def test_control_characters_are_reported_with_their_line() -> None:
    assert problem("networks:\n  - name: a\x01\n") == (
        "bad YAML: character U+0001 is not allowed (config.yaml line 2)"
    )


def test_yaml_construction_errors_do_not_quote_values() -> None:
    message = problem(f"networks:\n  - password: !!int {SECRET}\n")
    assert message == "bad YAML: cannot read a value (ValueError) (config.yaml)"


def test_recursive_and_deep_yaml_is_refused_cleanly() -> None:
    assert problem(doc(network()) + "x: &a [*a]\n") == (
        "x: unknown key (known keys: archive, health, index, logging, networks, plugins,"
        " reactor, web) (config.yaml line 6)"
    )
    found = problems("networks: &a [*a]\n")
    assert found == ["networks[0]: expected a mapping (config.yaml line 1)"]
    deep = "networks: " + "[" * 5000 + "]" * 5000 + "\n"
    assert problem(deep).startswith("bad YAML")


def test_aliases_and_merge_keys_work() -> None:
    text = """\
networks:
  - &base
    name: one
    servers: [a]
    nick: logbot
    channels: ["#x"]
  - <<: *base
    name: two
    nick: 5
"""
    assert problem(text) == "networks[1].nick: expected a string (config.yaml line 9)"
    config = parse(text.replace("nick: 5", "nick: bot2"))
    assert [(n.name, n.nick, len(n.channels)) for n in config.networks] == [
        ("one", "logbot", 1),
        ("two", "bot2", 1),
    ]


# -- environment variables -----------------------------------------------------------------


def test_environment_substitution() -> None:
    text = doc(
        network(
            nick="${NICK}",
            realname="a $${literal} and ${NICK}x",
            servers=["${HOST}:${PORT}"],
            password="${PASS}",
        )
    )
    env = {"NICK": "bot", "HOST": "irc.example", "PORT": "7000", "PASS": SECRET}
    net = parse(text, env).networks[0]
    assert net.nick == "bot" and net.realname == "a ${literal} and botx"
    assert net.servers == (ServerConfig("irc.example", 7000),)
    assert net.password == Secret(SECRET) and net.password.reveal() == SECRET


def test_environment_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGBOT_TEST_NICK", "envbot")
    config = parse_config(doc(network(nick="${LOGBOT_TEST_NICK}")))
    assert config.networks[0].nick == "envbot"


def test_missing_environment_variable_names_key_line_and_variable() -> None:
    text = "networks:\n  - name: local\n    servers: [a]\n    nick: x\n    password: ${NOPE}\n"
    assert problem(text) == (
        "networks[0].password: environment variable NOPE is not set (config.yaml line 5)"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ("${unterminated", "unterminated '${' (write '$${' for a literal '${')"),
        ("${bad name}", "bad environment variable name in '${...}' (letters, digits, '_')"),
        ("${}", "bad environment variable name in '${...}' (letters, digits, '_')"),
    ],
)
def test_bad_references(value: str, message: str) -> None:
    assert without_line(problem(doc(network(realname=value)))) == (
        f"networks[0].realname: {message}"
    )


# -- secrets -------------------------------------------------------------------------------


def test_secret_files_are_read_relative_to_the_config(tmp_path: pathlib.Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pass").write_text(SECRET + " \n\n")
    (tmp_path / "sasl").write_text("sasl-pass\n")
    key_file = tmp_path / "key"
    key_file.write_text("chankey\n")
    path = tmp_path / "config.yaml"
    path.write_text(
        doc(
            network(
                password_file="secrets/pass",
                sasl={"password_file": "sasl", "username": "acct"},
                channels=[{"name": "#k", "key_file": str(key_file)}],
            )
        )
    )
    config = load_config(path, environ={})
    net = config.networks[0]
    assert config.source == str(path)
    assert net.password.reveal() == SECRET
    assert net.sasl == SaslOptions(username="acct", password=Secret("sasl-pass"))
    assert net.channels[0].key.reveal() == "chankey"


def test_secret_file_path_may_use_the_environment(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pw").write_text(SECRET)
    text = doc(network(password_file="${DIR}/pw"))
    assert parse(text, {"DIR": str(tmp_path)}).networks[0].password.reveal() == SECRET


def test_secret_and_secret_file_together_is_an_error() -> None:
    text = doc(
        network(
            password=SECRET,
            password_file="x",
            channels=[{"name": "#a", "key": SECRET, "key_file": "y"}],
        )
    )
    found = [without_line(p) for p in problems(text)]
    assert found == [
        "networks[0].password: give password or password_file, not both",
        "networks[0].channels[0].key: give key or key_file, not both",
    ]


def test_unreadable_secret_file(tmp_path: pathlib.Path) -> None:
    text = doc(network(sasl={"password_file": "missing"}))
    message = problem(text, base_dir=str(tmp_path))
    assert without_line(message) == (
        f"networks[0].sasl.password_file: cannot read {tmp_path / 'missing'}: "
        "No such file or directory"
    )
    message = problem(doc(network(password_file=str(tmp_path))))
    assert without_line(message) == (
        f"networks[0].password_file: {tmp_path} is a directory: "
        "a secret file must be a regular file"
    )


def test_bad_secret_file_contents_are_never_quoted(tmp_path: pathlib.Path) -> None:
    (tmp_path / "binary").write_bytes(b"\xff\xfe" + SECRET.encode())
    (tmp_path / "empty").write_text("\n  \n")
    (tmp_path / "spaced").write_text(SECRET + " x\n")
    text = doc(
        network(
            password_file="binary",
            sasl={"password_file": "empty"},
            channels=[{"name": "#a", "key_file": "spaced"}],
        )
    )
    found = [without_line(p) for p in problems(text, base_dir=str(tmp_path))]
    assert found == [
        f"networks[0].password_file: {tmp_path / 'binary'} is not UTF-8 text",
        "networks[0].sasl.password_file: must not be empty",
        "networks[0].channels[0].key_file: must not contain a space, comma, CR, LF or NUL",
    ]
    assert not any(SECRET in p for p in found)


@pytest.mark.parametrize("value", [123456, 12.5, True, [SECRET], {SECRET: SECRET}])
def test_bad_secret_type_shows_the_type_not_the_value(value: Any) -> None:
    for net in (
        network(password=value),
        network(sasl={"password": value}),
        network(channels=[{"name": "#a", "key": value}]),
    ):
        message = problem(doc(net))
        assert "expected a string" in message
        assert str(value) not in message and SECRET not in message


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "must not be empty"),
        ("a\r\nQUIT", "must not contain CR, LF or NUL"),
    ],
)
def test_bad_secret_values_are_not_quoted(value: str, message: str) -> None:
    assert without_line(problem(doc(network(password=value)))) == (
        f"networks[0].password: {message}"
    )


def test_secrets_never_leak_into_reprs_summary_or_other_errors() -> None:
    env = {"PASS": SECRET, "KEY": "k" + SECRET}
    net = network(
        password="${PASS}", sasl={"password": "${PASS}"}, channels=[{"name": "#k", "key": "${KEY}"}]
    )
    config = parse(doc(net), env)
    for text in (repr(config), str(config), summary(config), repr(config.networks[0].sasl)):
        assert SECRET not in text
    text = summary(config)
    assert "server password: set" in text and "password: set" in text
    assert "#k (key: set)" in text
    broken = dict(net, nick="bad nick", realname=["x"])
    with pytest.raises(ConfigError) as info:
        parse(doc(broken), env)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


# -- SASL ----------------------------------------------------------------------------------


def test_sasl_defaults_and_mechanism_names() -> None:
    sasl = parse(doc(network(sasl={"password": "pw", "mechanisms": "plain"}))).networks[0].sasl
    assert sasl == SaslOptions(password=Secret("pw"), mechanisms=("PLAIN",))
    sasl = parse(doc(network(sasl={"password": "pw"}))).networks[0].sasl
    assert sasl.mechanisms == ("SCRAM-SHA-256", "PLAIN") and not sasl.required


@pytest.mark.parametrize(
    "sasl, message",
    [
        (
            {},
            (
                "networks[0].sasl: SCRAM-SHA-256 and PLAIN need password or password_file "
                "(or set mechanisms: [EXTERNAL])"
            ),
        ),
        (
            {"mechanisms": ["PLAIN"]},
            (
                "networks[0].sasl: PLAIN needs password or password_file "
                "(or set mechanisms: [EXTERNAL])"
            ),
        ),
        (
            {"mechanisms": ["EXTERNAL"]},
            (
                "networks[0].sasl.mechanisms: EXTERNAL needs a TLS client "
                "certificate: set networks[0].servers[0].client_cert"
            ),
        ),
        ({"password": "x", "mechanisms": []}, "networks[0].sasl.mechanisms: must not be empty"),
        (
            {"password": "x", "mechanisms": ["MD5"]},
            (
                "networks[0].sasl.mechanisms[0]: expected one of "
                "'SCRAM-SHA-256', 'PLAIN', 'EXTERNAL', 'ECDSA-NIST256P-CHALLENGE', "
                "not 'MD5'"
            ),
        ),
        (
            {"password": "x", "mechanisms": ["PLAIN", "plain"]},
            "networks[0].sasl.mechanisms[1]: duplicate 'PLAIN'",
        ),
        ({"password": "x", "username": ""}, "networks[0].sasl.username: must not be empty"),
    ],
)
def test_sasl_errors(sasl: dict[str, Any], message: str) -> None:
    assert without_line(problem(doc(network(sasl=sasl)))) == message


def test_sasl_external_uses_the_client_certificate(tmp_path: pathlib.Path) -> None:
    (tmp_path / "bot.pem").write_text("not really a cert")
    servers = [{"host": "a", "tls": True, "client_cert": "bot.pem"}, {"host": "b", "tls": True}]
    text = doc(network(servers=servers, sasl={"mechanisms": ["EXTERNAL"]}))
    assert without_line(problem(text, base_dir=str(tmp_path))) == (
        "networks[0].servers[1]: no client_cert, but the only SASL mechanism is EXTERNAL"
    )
    text = doc(
        network(servers=servers, sasl={"mechanisms": ["EXTERNAL", "PLAIN"], "password": "x"})
    )
    net = parse(text, base_dir=str(tmp_path)).networks[0]
    assert net.servers[0].client_cert == str(tmp_path / "bot.pem")
    assert net.servers[0].client_key is None and net.servers[1].client_cert is None


# -- servers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("irc.example.org", ServerConfig("irc.example.org", 6667)),
        ("irc.example.org:6697", ServerConfig("irc.example.org", 6697)),
        ("127.0.0.1:1", ServerConfig("127.0.0.1", 1)),
        ("[::1]:7000", ServerConfig("::1", 7000)),
        ("[::1]", ServerConfig("::1", 6667)),
        ("2001:db8::1", ServerConfig("2001:db8::1", 6667)),
        ({"host": "h"}, ServerConfig("h", 6667)),
        ({"host": "h", "tls": True}, ServerConfig("h", 6697, tls=True)),
        ({"host": "h", "tls": False, "port": 7000}, ServerConfig("h", 7000)),
        ({"host": "h", "tls": True, "port": 6667}, ServerConfig("h", 6667, tls=True)),
    ],
)
def test_server_forms(value: Any, expected: ServerConfig) -> None:
    assert parse(doc(network(servers=[value]))).networks[0].servers == (expected,)


@pytest.mark.parametrize(
    "value",
    [
        "h:0",
        "h:65536",
        "h:",
        "h:x",
        "a b",
        "",
        ":6667",
        "[::1",
        "[::1]x",
        "h/x:1",
        "h:\u0661\u0662",
        "h:0000006667",
        "a\x00b",
    ],
)
def test_bad_server_strings(value: str) -> None:
    assert without_line(problem(doc(network(servers=[value])))) == (
        f"networks[0].servers[0]: bad server {value!r}: expected 'host' or 'host:port' with a "
        "port between 1 and 65535"
    )


def test_long_server_strings_are_cut_in_messages() -> None:
    value = "h:" + "1" * 5000
    assert without_line(problem(doc(network(servers=[value])))) == (
        f"networks[0].servers[0]: bad server {value[:57] + '...'!r}: expected 'host' or "
        "'host:port' with a port between 1 and 65535"
    )


@pytest.mark.parametrize(
    "server, message",
    [
        ({"host": "h", "port": 0}, "port: must be between 1 and 65535"),
        ({"host": "h", "port": 70000}, "port: must be between 1 and 65535"),
        ({"host": "a b"}, "host: bad host name 'a b'"),
        ({"host": "h:6697"}, "host: bad host name 'h:6697': give the port as port"),
        ({"host": "h", "client_cert": "c.pem"}, "client_cert: only used with tls: true"),
        ({"host": "h", "ca_file": "ca.pem"}, "ca_file: only used with tls: true"),
        (
            {"host": "h", "tls": True, "ca_file": "/nonexistent/ca.pem"},
            "ca_file: no such file: '/nonexistent/ca.pem'",
        ),
    ],
)
def test_bad_server_mappings(server: dict[str, Any], message: str) -> None:
    assert without_line(problem(doc(network(servers=[server])))) == (
        f"networks[0].servers[0].{message}"
    )


def test_servers_must_not_be_empty_and_host_is_required() -> None:
    assert without_line(problem(doc(network(servers=[])))) == (
        "networks[0].servers: must not be empty"
    )
    assert without_line(problem(doc(network(servers=[{"tls": True}])))) == (
        "networks[0].servers[0]: missing required key 'host'"
    )


# -- names, nicks, channels ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "-x", "a b", "a/b", "..", "é"])
def test_bad_network_names(name: str) -> None:
    assert f"bad network name {name!r}" in problem(doc(network(name=name)))


@pytest.mark.parametrize("nick", ["1abc", "-x", "a b", "#x", ":x", "a,b", ""])
def test_bad_nicks(nick: str) -> None:
    assert f"networks[0].nick: bad nick {nick!r}" in problem(doc(network(nick=nick)))
    assert "networks[0].alt_nicks[1]: bad nick" in problem(doc(network(alt_nicks=["ok", nick])))


def test_good_nicks() -> None:
    for nick in ("a", "[a]", "a-b", "^_^", "{x|y}", "a`b\\c", "A9"):
        assert parse(doc(network(nick=nick))).networks[0].nick == nick


@pytest.mark.parametrize("name", ["chan", "#a b", "#a,b", "#a\x07", "#a\r", "#a\n", "#a\0", ""])
def test_bad_channel_names(name: str) -> None:
    message = problem(doc(network(channels=[name])))
    assert message.startswith("networks[0].channels[0]: bad channel name")
    assert "must start with '#', '&', '+' or '!'" in message


def test_unquoted_channel_names_get_a_hint() -> None:
    text = "networks:\n  - name: a\n    servers: [a]\n    nick: x\n    channels:\n      - #a\n"
    assert problem(text) == (
        'networks[0].channels[0]: expected a channel name; quote channel names ("#chan"): '
        "unquoted, YAML reads '#' as a comment, '&' as an anchor and '!' as a tag "
        "(config.yaml line 6)"
    )
    text = "networks:\n  - name: a\n    servers: [a]\n    nick: x\n    channels:\n    # - #a\n"
    assert problem(text).startswith("networks[0].channels: expected a list; quote channel")


def test_duplicate_channels_and_networks() -> None:
    net = network(channels=["#Logbot", "#dev", {"name": "#logbot"}])
    other = network(name="LOCAL")
    text = yaml.safe_dump({"networks": [net, other]})
    assert [without_line(p) for p in problems(text)] == [
        "networks[0].channels[2]: duplicate channel '#logbot' (also networks[0].channels[0])",
        "networks[1].name: duplicate network name 'LOCAL' (also networks[0])",
    ]


def test_channel_mapping_requires_a_name() -> None:
    assert without_line(problem(doc(network(channels=[{"key": "k"}])))) == (
        "networks[0].channels[0]: missing required key 'name'"
    )


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"user": "a b"}, "user: bad user name 'a b': no spaces or '@'"),
        ({"user": "a@b"}, "user: bad user name 'a@b': no spaces or '@'"),
        ({"realname": "a\nQUIT"}, "realname: must not contain CR, LF or NUL"),
        ({"quit_message": "a\rb"}, "quit_message: must not contain CR, LF or NUL"),
        ({"rejoin_after_kick": -1}, "rejoin_after_kick: must be at least 0"),
        ({"line_rate": -0.5}, "line_rate: must be at least 0"),
        ({"registration_timeout": 0}, "registration_timeout: must be greater than 0"),
        ({"registration_timeout": None}, "registration_timeout: expected a number"),
        ({"ping_interval": 0}, "ping_interval: must be greater than 0"),
        ({"ping_timeout": -1}, "ping_timeout: must be greater than 0"),
        (
            {"ping_interval": 90},
            "ping_interval: ping_timeout (90) must be greater than ping_interval (90)",
        ),
        (
            {"ping_interval": 5, "ping_timeout": 5},
            "ping_timeout: ping_timeout (5) must be greater than ping_interval (5)",
        ),
        (
            {"ping_timeout": 20},
            "ping_timeout: ping_timeout (20) must be greater than ping_interval (30)",
        ),
    ],
)
def test_bad_network_values(keys: dict[str, Any], message: str) -> None:
    assert without_line(problem(doc(network(**keys)))) == f"networks[0].{message}"


@pytest.mark.parametrize(
    "reconnect, message",
    [
        ({"initial_delay": 0}, "initial_delay: must be greater than 0"),
        ({"factor": 0.5}, "factor: must be at least 1"),
        ({"jitter": 1}, "jitter: must be at least 0 and less than 1"),
        ({"jitter": -0.1}, "jitter: must be at least 0 and less than 1"),
        (
            {"initial_delay": 10, "max_delay": 5},
            "max_delay: max_delay (5) must be at least initial_delay (10)",
        ),
        (
            {"initial_delay": 500},
            ("initial_delay: max_delay (300) must be at least initial_delay (500)"),
        ),
    ],
)
def test_reconnect_bounds(reconnect: dict[str, Any], message: str) -> None:
    assert without_line(problem(doc(network(reconnect=reconnect)))) == (
        f"networks[0].reconnect.{message}"
    )


# -- logging: merging and global keys ------------------------------------------------------


def test_logging_merges_top_network_channel() -> None:
    top = {
        "formats": "text",
        "timezone": "Europe/Berlin",
        "events": {"modes": False},
        "max_open_files": 64,
    }
    net = network(
        logging={"private": True, "events": {"joins": False}, "timezone": "UTC"},
        channels=[
            "#plain",
            {
                "name": "#quiet",
                "logging": {"events": {"parts": False}, "formats": ["jsonl", "text"]},
            },
            {"name": "#off", "logging": {"enabled": False}},
        ],
    )
    config = parse(doc(net, logging=top))
    assert config.log == LogOptions(
        formats=("text",),
        timezone="Europe/Berlin",
        events=EventFilter(modes=False),
        max_open_files=64,
    )
    netlog = config.networks[0].log
    assert netlog == LogOptions(
        formats=("text",),
        timezone="UTC",
        private=True,
        events=EventFilter(modes=False, joins=False),
        max_open_files=64,
    )
    plain, quiet, off = config.networks[0].channels
    assert plain == ChannelConfig("#plain", log=netlog)
    assert quiet.log.events == EventFilter(modes=False, joins=False, parts=False)
    assert quiet.log.formats == ("jsonl", "text") and quiet.log.timezone == "UTC"
    assert quiet.log.private and not off.log.enabled and off.log.formats == ("text",)
    text = summary(config)
    assert "#quiet (formats: jsonl, text)" in text and "#off (not logged)" in text


@pytest.mark.parametrize("key, value", [("root", "x"), ("max_open_files", 5)])
def test_global_keys_only_at_the_top(key: str, value: Any) -> None:
    net = network(logging={key: value}, channels=[{"name": "#a", "logging": {key: value}}])
    assert [without_line(p) for p in problems(doc(net))] == [
        f"networks[0].logging.{key}: only the top-level logging section may set {key}",
        (
            f"networks[0].channels[0].logging.{key}: only the top-level logging section may set "
            f"{key}"
        ),
    ]


def test_private_is_not_a_channel_setting() -> None:
    net = network(channels=[{"name": "#a", "logging": {"private": True}}])
    assert "channels[0].logging.private: private is about a network's private messages" in (
        problem(doc(net))
    )


# -- logging: values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, size",
    [
        ("10MB", 10_000_000),
        ("512KiB", 524_288),
        ("1G", 1 << 30),
        ("1GB", 10**9),
        ("2K", 2048),
        ("2kb", 2000),
        ("3M", 3 << 20),
        ("3MiB", 3 << 20),
        ("1GiB", 1 << 30),
        ("1.5K", 1536),
        ("100", 100),
        ("100B", 100),
        (" 7 MB ", 7_000_000),
        ("1T", 1 << 40),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size
    config = parse(doc(logging={"rotation": "size", "max_bytes": text}))
    assert config.log.max_bytes == size


@pytest.mark.parametrize(
    "value", ["10XB", "MB", "-1MB", "1e6", "0", "0K", 0, -5, True, 1.5, [], "ten"]
)
def test_bad_sizes(value: Any) -> None:
    message = problem(doc(logging={"rotation": "size", "max_bytes": value}))
    assert without_line(message) == (
        "logging.max_bytes: expected a positive integer or a size like '10MB', '512KiB' or '1G'"
    )


@pytest.mark.parametrize(
    "template",
    [
        "{network}/{channel}/{date:%Y-%m-%d}.log",
        "{channel}.{date}.log",
        "x/{channel}-{date:%Y}",
        "{channel}/{network}/{date:%Y/%m/%d}.log",
        "{{literal}}/{channel}/{date}.log",
    ],
)
def test_good_path_templates(template: str) -> None:
    assert check_path_template(template) is None
    assert parse(doc(logging={"path": template})).log.path == template


@pytest.mark.parametrize(
    "template, message",
    [
        ("{network}/{date}.log", "must contain {channel}"),
        ("{channel}/{nick}.log", "unknown placeholder {nick}"),
        ("{channel}/{}.log", "unknown placeholder {}"),
        ("{channel}/{0}.log", "unknown placeholder {0}"),
        ("{channel}/{date.year}", "unknown placeholder {date.year}"),
        ("{channel}/{date", "bad template: "),
        ("{channel}/}{date}", "bad template: "),
        ("{channel:d}/{date}", "bad template: "),
        ("/var/log/{channel}/{date}", "must be a relative path (it is joined to root)"),
        ("{date:/%Y}/{channel}", "must be a relative path (it is joined to root)"),
        ("../{channel}/{date}", "must not have empty, '.' or '..' components"),
        ("{channel}/../{date}", "must not have empty, '.' or '..' components"),
        ("{channel}//{date}", "must not have empty, '.' or '..' components"),
        ("{channel}/{date}/", "must not have empty, '.' or '..' components"),
        ("", "must not be empty"),
    ],
)
def test_bad_path_templates(template: str, message: str) -> None:
    found = problem(doc(logging={"path": template}))
    assert found.startswith(f"logging.path: {message}")


def test_daily_rotation_needs_a_date_and_size_needs_max_bytes() -> None:
    assert without_line(problem(doc(logging={"path": "{channel}.log"}))) == (
        "logging.path: rotation 'daily' needs {date} or {date:<strftime format>} in path"
    )
    assert without_line(problem(doc(logging={"rotation": "size"}))) == (
        "logging.rotation: rotation 'size' needs max_bytes"
    )
    config = parse(doc(logging={"rotation": "size", "max_bytes": 1000, "path": "{channel}.log"}))
    assert config.log.rotation == "size"
    # Set at the top level, used by a network and a channel:
    net = network(
        logging={"rotation": "size"},
        channels=[{"name": "#a", "logging": {"path": "{channel}.log"}}],
    )
    assert parse(doc(net, logging={"max_bytes": "1M"})).networks[0].channels[0].log.max_bytes == (
        1 << 20
    )
    # A channel that switches back to daily with a date-less inherited path:
    net = network(
        logging={"rotation": "size", "max_bytes": 5, "path": "{channel}.log"},
        channels=[{"name": "#a", "logging": {"rotation": "daily"}}],
    )
    assert without_line(problem(doc(net))) == (
        "networks[0].channels[0].logging.rotation: rotation 'daily' needs {date} or "
        "{date:<strftime format>} in path"
    )
    net = network(logging={"max_bytes": None}, channels=[])
    assert without_line(problem(doc(net, logging={"rotation": "size", "max_bytes": 5}))) == (
        "networks[0].logging.max_bytes: rotation 'size' needs max_bytes"
    )


@pytest.mark.parametrize(
    "logging, message",
    [
        ({"formats": []}, "formats: must not be empty"),
        ({"formats": ["text", "text"]}, "formats[1]: duplicate 'text'"),
        ({"formats": "html"}, "formats[0]: expected one of 'text', 'jsonl', not 'html'"),
        (
            {"timezone": "Mars/Olympus"},
            (
                "timezone: unknown time zone 'Mars/Olympus' (expected an "
                "IANA name like 'UTC' or 'Europe/Paris')"
            ),
        ),
        ({"timezone": "../etc/passwd"}, "timezone: unknown time zone"),
        ({"timezone": ""}, "timezone: unknown time zone"),
        ({"rotation": "weekly"}, "rotation: expected one of 'daily', 'size', not 'weekly'"),
        ({"compress": "zstd"}, "compress: expected one of 'gzip', not 'zstd'"),
        ({"retention_days": 0}, "retention_days: must be at least 1"),
        ({"flush": "never"}, "flush: expected one of 'line', 'interval', not 'never'"),
        ({"flush_interval": 0}, "flush_interval: must be greater than 0"),
        ({"fsync_interval": -1}, "fsync_interval: must be greater than 0"),
        ({"nolog_prefix": ""}, "nolog_prefix: must not be empty"),
        (
            {"opt_out": ["a b"]},
            "opt_out[0]: expected a nick or account name (not empty, no spaces)",
        ),
        ({"max_open_files": 0}, "max_open_files: must be between 1 and 10000"),
        ({"max_open_files": 10001}, "max_open_files: must be between 1 and 10000"),
        ({"root": ""}, "root: must not be empty"),
    ],
)
def test_bad_logging_values(logging: dict[str, Any], message: str) -> None:
    assert problem(doc(logging=logging)).startswith(f"logging.{message}")


def test_logging_value_forms() -> None:
    log = parse(
        doc(
            logging={
                "formats": "jsonl",
                "compress": None,
                "retention_days": None,
                "fsync_interval": 2,
                "nolog_prefix": "!nolog",
            }
        )
    ).log
    assert log.formats == ("jsonl",) and log.fsync_interval == 2.0
    assert log.nolog_prefix == "!nolog" and log.compress is None


# -- files ---------------------------------------------------------------------------------


def test_load_config_missing_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"cannot read {path}: No such file or directory"
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value) == f"cannot read {tmp_path}: Is a directory"


def test_load_config_not_utf8(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"networks: \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(str(path))


def test_load_config_messages_name_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(LINE_12)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert str(info.value) == (f"networks[0].servers[1].port: expected an integer ({path} line 12)")


def test_the_sample_config_loads_without_environment() -> None:
    config = load_config(REPO / "config.yaml", environ={})
    assert config.reactor == "auto" and config.log == LogOptions()
    assert config.source == str(REPO / "config.yaml")
    (net,) = config.networks
    assert (net.name, net.nick, net.servers) == (
        "local",
        "logbot",
        (ServerConfig("127.0.0.1", 6667),),
    )
    assert net.password is None and net.sasl is None
    assert [c.name for c in net.channels] == ["#logbot", "#logbot-dev"]
    assert all(c.key is None for c in net.channels)
    dev = net.channels[1].log
    assert dev.formats == ("text",) and not dev.events.joins and dev.events.kicks
    assert net.reconnect == ReconnectOptions() and net.rejoin_after_kick == 10.0
    assert net.registration_timeout == 60.0
    # A dead link is noticed within 90 s: a PING after 30 s of silence, dropped at 90 s.
    assert (net.ping_interval, net.ping_timeout) == (30.0, 90.0)
    text = summary(config)
    assert "network local" in text and "127.0.0.1:6667" in text and "#logbot" in text


def test_the_sample_config_documents_every_key() -> None:
    sample = (REPO / "config.yaml").read_text()
    from logbot.config import health_section as config_health
    from logbot.config import logging_section as config_logging
    from logbot.config import networks_section as config_network

    keys = (
        config_logging.LOG_KEYS
        + config_logging.EVENT_KEYS
        + config_network.NETWORK_KEYS
        + config_network.SERVER_KEYS
        + config_network.SASL_KEYS
        + config_network.CHANNEL_KEYS
        + config_network.RECONNECT_KEYS
        + config_health.HEALTH_KEYS
        + ("reactor", "logging", "networks", "health")
    )
    for key in keys:
        assert f"{key}:" in sample, key


def test_summary_lists_the_essentials() -> None:
    net = network(
        servers=["a:1", {"host": "b", "tls": True}],
        alt_nicks=["x_"],
        sasl={"password": "pw", "required": True, "mechanisms": ["PLAIN"]},
        channels=["#a"],
        logging={"private": True},
    )
    text = summary(
        parse(doc(net, logging={"rotation": "size", "max_bytes": "1K", "compress": "gzip"}))
    )
    assert text.splitlines() == [
        "reactor: auto",
        "logs under: logs (at most 512 open files)",
        "formats: text, jsonl; rotated at 1024 bytes, gzip-compressed; timezone UTC",
        "plugins: help, ping, version, uptime, hello, seen, last, grep, admin "
        "(prefix '!'; admins: 0)",
        "network local",
        "  servers: a:1, b:6697 (tls)",
        "  nick: logbot (then x_)",
        "  sasl: PLAIN (as logbot; password: set; required)",
        "  channels: #a",
        f"  log path: {os.path.join('logs', 'local/{channel}/{date:%Y-%m-%d}.log')}",
        "  private messages: logged",
    ]


# -- never a traceback ---------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "${X}",
            "${NOPE}",
            "$${X}",
            "${",
            "#chan",
            "10MB",
            "{channel}",
            "{date}",
            "size",
            "daily",
            "EXTERNAL",
            "PLAIN",
            "..",
            "a:1",
            "[::1]:1",
            "UTC",
            "text",
            "jsonl",
            "gzip",
            "",
            " ",
        ]
    )
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=12)
            | st.sampled_from(
                [
                    "name",
                    "host",
                    "port",
                    "tls",
                    "key",
                    "logging",
                    "events",
                    "joins",
                    "client_cert",
                    "password_file",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def _known_paths() -> list[tuple[Any, ...]]:
    from logbot.config import logging_section as cl
    from logbot.config import networks_section as cn

    paths: list[tuple[Any, ...]] = [(k,) for k in ("reactor", "logging", "networks", "extra")]
    for base in (
        ("logging",),
        ("networks", 0, "logging"),
        ("networks", 0, "channels", 1, "logging"),
    ):
        paths += [base] + [base + (k,) for k in cl.LOG_KEYS]
        paths += [base + ("events", k) for k in cl.EVENT_KEYS]
    net = ("networks", 0)
    paths += [net, net + ("servers", 0), net + ("channels", 0), net + ("channels", 1)]
    paths += [net + (k,) for k in cn.NETWORK_KEYS]
    paths += [net + ("servers", 1, k) for k in cn.SERVER_KEYS]
    paths += [net + ("sasl", k) for k in cn.SASL_KEYS]
    paths += [net + ("channels", 1, k) for k in cn.CHANNEL_KEYS]
    paths += [net + ("reconnect", k) for k in cn.RECONNECT_KEYS]
    return paths


KNOWN_PATHS = _known_paths()
BASE = {
    "logging": {"events": {}},
    "networks": [
        {
            "name": "n",
            "servers": ["a", {"host": "b", "tls": True}],
            "nick": "bot",
            "sasl": {"password": "p"},
            "reconnect": {},
            "logging": {"events": {}},
            "channels": ["#a", {"name": "#b", "logging": {"events": {}}}],
        }
    ],
}


def _put(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``data`` with ``value`` at ``path``, as far as the (maybe already changed) shape allows."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and isinstance(head, str):
        data[head] = _put(data.get(head), rest, value)
    elif isinstance(data, list) and isinstance(head, int) and head < len(data):
        data[head] = _put(data[head], rest, value)
    return data


def _parses_or_config_error(text: str) -> None:
    try:
        config = parse_config(text, environ={"X": "x"}, base_dir="/nonexistent")
    except ConfigError as e:
        assert e.problems and all(isinstance(p, str) and p for p in e.problems)
        assert "Traceback" not in str(e)
    else:
        assert isinstance(config, Config)
        summary(config)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(KNOWN_PATHS), VALUES), min_size=1, max_size=4))
def test_random_values_under_known_keys_never_crash(changes: list[tuple[Any, Any]]) -> None:
    data = copy.deepcopy(BASE)
    for path, value in changes:
        data = _put(data, path, value)
    _parses_or_config_error(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab:-[]{}#&*!|>'\"\n  ,?%@$\t.<1")) | st.characters(),
        max_size=80,
    )
)
def test_random_text_never_crashes(text: str) -> None:
    _parses_or_config_error(text)


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_random_documents_never_crash(value: Any) -> None:
    _parses_or_config_error(yaml.safe_dump(value, allow_unicode=True))
