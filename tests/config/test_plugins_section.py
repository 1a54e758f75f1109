"""The ``plugins`` section of the config: defaults, every key, every way it can be wrong.

As in ``test_config.py``, most tests build the document as a dict and dump it; the
tests of line numbers write the YAML by hand.
"""

from __future__ import annotations

import copy
import os
import pathlib
import time
import types
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logbot.config.loader import ConfigError, load_config, parse_config, summary
from logbot.config.plugins_section import EXEC_KEYS, PLUGIN_KEYS, RATE_KEYS
from logbot.config.settings import (
    DEFAULT_PLUGINS,
    ExecPluginConfig,
    PluginOptions,
    RateLimit,
    Secret,
)
from tests.config.test_loader import _put, parse, problem, problems, without_line

REPO = pathlib.Path(__file__).resolve().parents[2]
SECRET = "hunter2-Pl4gin"
NETWORK = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot"}


def doc(plugins: Any = None, **top: Any) -> str:
    data: dict[str, Any] = {"networks": [NETWORK], **top}
    if plugins is not None:
        data["plugins"] = plugins
    return yaml.safe_dump(data, sort_keys=False)


def plugins(section: Any, environ: dict[str, str] | None = None, **kw: Any) -> PluginOptions:
    return parse(doc(section), environ, **kw).plugins


def bad_name(name: str) -> str:
    return (
        f"bad plugin name {name!r}: letters, digits, '_', '.' and '-', starting with a "
        "letter or digit"
    )


def plugin_problem(section: Any, **kw: Any) -> str:
    return without_line(problem(doc(section), **kw))


# -- defaults and plain values -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        doc(),
        doc() + "plugins:\n",
        doc() + "plugins: {}\n",
        doc() + "plugins:\n  settings:\n  exec:\n  admins:\n  ignore:\n  plugin_dirs:\n",
    ],
)
def test_a_missing_or_empty_section_gives_the_defaults(text: str) -> None:
    options = parse(text).plugins
    assert options == PluginOptions()
    assert options.enabled == DEFAULT_PLUGINS and options.prefix == "!"
    assert options.user_rate == RateLimit(5, 10.0)
    assert options.channel_rate == RateLimit(10, 3.0)
    assert isinstance(options.settings, types.MappingProxyType) and not options.settings


def test_every_value_is_read(tmp_path: pathlib.Path) -> None:
    options = plugins(
        {
            "enabled": ["help", "my-plugin", "x.y_z", "9lives"],
            "plugin_dirs": ["my_plugins", "/opt/logbot/plugins"],
            "prefix": "@@",
            "data_dir": "var/data",
            "admins": ["account:alice", "*!bob@*.example", "carol@host"],
            "ignore": ["*bot*!*@*", "spam!*"],
            "timeout": 2.5,
            "error_reply": "{command} failed for {nick}: {error!r:.20}",
            "user_rate": {"burst": 1, "per": 60},
            "channel_rate": {"burst": 3, "per": 0.5},
            "max_lines": 50,
            "max_line_bytes": 50,
            "loop_repeats": 1,
            "loop_window": 1,
            "exec": [
                {
                    "name": "uptime2",
                    "command": "uptime -p",
                    "help": "how long",
                    "usage": "",
                    "admin": True,
                    "timeout": 1,
                }
            ],
            "settings": {"hello": {"greeting": "hi"}},
        },
        base_dir=str(tmp_path),
    )
    assert options == PluginOptions(
        enabled=("help", "my-plugin", "x.y_z", "9lives"),
        plugin_dirs=(str(tmp_path / "my_plugins"), "/opt/logbot/plugins"),
        prefix="@@",
        data_dir="var/data",
        admins=("account:alice", "*!bob@*.example", "carol@host"),
        ignore=("*bot*!*@*", "spam!*"),
        timeout=2.5,
        error_reply="{command} failed for {nick}: {error!r:.20}",
        user_rate=RateLimit(1, 60.0),
        channel_rate=RateLimit(3, 0.5),
        max_lines=50,
        max_line_bytes=50,
        loop_repeats=1,
        loop_window=1.0,
        exec=(
            ExecPluginConfig("uptime2", ("uptime", "-p"), help="how long", admin=True, timeout=1.0),
        ),
        settings={"hello": {"greeting": "hi"}},
    )
    assert isinstance(options.timeout, float) and isinstance(options.loop_window, float)
    assert isinstance(options.user_rate.per, float)


def test_an_empty_enabled_list_runs_no_plugins() -> None:
    assert plugins({"enabled": []}).enabled == ()


def test_an_empty_enabled_key_is_refused_rather_than_guessed() -> None:
    assert plugin_problem({"enabled": None}) == (
        "plugins.enabled: expected a list (write [] for no plugins)"
    )


def test_error_reply_null_means_no_reply() -> None:
    assert plugins({"error_reply": None}).error_reply is None


def test_rate_limits_keep_the_defaults_of_missing_keys() -> None:
    options = plugins({"user_rate": {"per": 1}, "channel_rate": {"burst": 2}})
    assert options.user_rate == RateLimit(5, 1.0)
    assert options.channel_rate == RateLimit(2, 3.0)
    assert plugins({"user_rate": None}).user_rate == RateLimit(5, 10.0)


def test_environment_substitution_in_plain_values() -> None:
    env = {"P": "?", "DIR": "/srv/data", "WHO": "alice"}
    options = plugins(
        {"prefix": "${P}", "data_dir": "${DIR}", "admins": ["account:${WHO}"], "enabled": ["help"]},
        env,
    )
    assert (options.prefix, options.data_dir, options.admins) == (
        "?",
        "/srv/data",
        ("account:alice",),
    )


# -- the message format, line numbers, unknown keys ----------------------------------------

LINE_9 = """\
networks:
  - name: local
    servers: [a]
    nick: logbot
plugins:
  enabled: [help]
  user_rate:
    burst: 2
    per: 0
  exec:
    - name: x
      command: ""
"""


def test_exact_messages_with_line_numbers_in_file_order() -> None:
    assert problems(LINE_9) == [
        "plugins.user_rate.per: must be greater than 0 (config.yaml line 9)",
        "plugins.exec[0].command: must name a program (config.yaml line 12)",
    ]


def test_all_problems_are_collected() -> None:
    found = problems(
        doc(
            {
                "prefix": "",
                "admins": ["x"],
                "timeout": 0,
                "max_lines": 0,
                "exec": [{}],
                "settings": {"a": 1},
            }
        )
    )
    assert [without_line(p) for p in found] == [
        "plugins.prefix: must not be empty",
        "plugins.admins[0]: expected 'account:NAME' or a nick!user@host mask",
        "plugins.timeout: must be greater than 0",
        "plugins.max_lines: must be between 1 and 50",
        "plugins.exec[0]: missing required key 'name'",
        "plugins.exec[0]: missing required key 'command'",
        "plugins.settings.a: expected a mapping",
    ]


@pytest.mark.parametrize(
    "section, path, suggestion",
    [
        ({"enable": []}, "plugins.enable", "enabled"),
        ({"prefx": "!"}, "plugins.prefx", "prefix"),
        ({"user_rate": {"burts": 1}}, "plugins.user_rate.burts", "burst"),
        ({"channel_rate": {"pre": 1}}, "plugins.channel_rate.pre", "per"),
        (
            {"exec": [{"name": "a", "command": "a", "comand": "b"}]},
            "plugins.exec[0].comand",
            "command",
        ),
    ],
)
def test_unknown_keys_suggest_the_closest(
    section: dict[str, Any], path: str, suggestion: str
) -> None:
    assert plugin_problem(section) == f"{path}: unknown key (did you mean {suggestion!r}?)"


def test_a_misspelt_section_name_suggests_plugins() -> None:
    assert without_line(problem(doc(plugin={}))) == (
        "plugin: unknown key (did you mean 'plugins'?)"
    )


def test_every_key_is_known_and_documented_in_the_sample() -> None:
    assert set(PLUGIN_KEYS) == {
        "enabled",
        "plugin_dirs",
        "prefix",
        "data_dir",
        "admins",
        "ignore",
        "timeout",
        "error_reply",
        "user_rate",
        "channel_rate",
        "max_lines",
        "max_line_bytes",
        "loop_repeats",
        "loop_window",
        "exec",
        "settings",
    }
    sample = (REPO / "config.yaml").read_text()
    for key in ("plugins",) + PLUGIN_KEYS + EXEC_KEYS + RATE_KEYS:
        assert f"{key}:" in sample, key


# -- bad values ----------------------------------------------------------------------------

BAD_VALUES = [
    ({"plugins": []}, "plugins", "expected a mapping"),
    ({"enabled": "help"}, "enabled", "expected a list"),
    ({"enabled": [1]}, "enabled[0]", "expected a string"),
    ({"enabled": ["help", "ping", "help"]}, "enabled[2]", "duplicate 'help'"),
    ({"enabled": ["-x"]}, "enabled[0]", bad_name("-x")),
    ({"enabled": ["a b"]}, "enabled[0]", bad_name("a b")),
    ({"enabled": [""]}, "enabled[0]", bad_name("")),
    ({"enabled": ["é"]}, "enabled[0]", bad_name("é")),
    ({"plugin_dirs": "plugins"}, "plugin_dirs", "expected a list"),
    ({"plugin_dirs": [""]}, "plugin_dirs[0]", "must not be empty"),
    ({"plugin_dirs": [7]}, "plugin_dirs[0]", "expected a string"),
    ({"prefix": ""}, "prefix", "must not be empty"),
    ({"prefix": "!!!!!!"}, "prefix", "must be at most 5 characters"),
    ({"prefix": "! "}, "prefix", "must not contain whitespace"),
    ({"prefix": "\t"}, "prefix", "must not contain whitespace"),
    ({"prefix": None}, "prefix", "expected a string"),
    ({"prefix": 1}, "prefix", "expected a string"),
    ({"data_dir": ""}, "data_dir", "must not be empty"),
    ({"data_dir": None}, "data_dir", "expected a string"),
    ({"admins": "account:alice"}, "admins", "expected a list"),
    ({"admins": ["alice"]}, "admins[0]", "expected 'account:NAME' or a nick!user@host mask"),
    ({"admins": ["account:"]}, "admins[0]", "expected 'account:NAME' or a nick!user@host mask"),
    ({"admins": ["account:a b"]}, "admins[0]", "expected 'account:NAME' or a nick!user@host mask"),
    ({"admins": ["*!* @*"]}, "admins[0]", "expected 'account:NAME' or a nick!user@host mask"),
    ({"admins": [None]}, "admins[0]", "expected a string"),
    ({"ignore": ["spambot"]}, "ignore[0]", "expected a nick!user@host mask (with '!' or '@')"),
    ({"ignore": ["a !b@c"]}, "ignore[0]", "expected a nick!user@host mask (with '!' or '@')"),
    ({"ignore": ["account:bot"]}, "ignore[0]", "expected a nick!user@host mask (with '!' or '@')"),
    ({"timeout": 0}, "timeout", "must be greater than 0"),
    ({"timeout": -1}, "timeout", "must be greater than 0"),
    ({"timeout": "10"}, "timeout", "expected a number"),
    ({"timeout": True}, "timeout", "expected a number"),
    ({"timeout": None}, "timeout", "expected a number"),
    ({"timeout": float("inf")}, "timeout", "expected a number"),
    ({"error_reply": 5}, "error_reply", "expected a string"),
    ({"error_reply": ""}, "error_reply", "must not be empty (null for no error reply)"),
    (
        {"error_reply": "{nick}: {oops}"},
        "error_reply",
        "unknown field {oops} (use {nick}, {command}, {error})",
    ),
    (
        {"error_reply": "{0} failed"},
        "error_reply",
        "unknown field {0} (use {nick}, {command}, {error})",
    ),
    (
        {"error_reply": "{} failed"},
        "error_reply",
        "unknown field {} (use {nick}, {command}, {error})",
    ),
    ({"error_reply": "{nick"}, "error_reply", "bad template: expected '}' before end of string"),
    (
        {"error_reply": "nick}"},
        "error_reply",
        "bad template: Single '}' encountered in format string",
    ),
    (
        {"error_reply": "{nick:d}"},
        "error_reply",
        "bad template: Unknown format code 'd' for object of type 'str'",
    ),
    (
        {"error_reply": "{nick.upper.x}"},
        "error_reply",
        "bad template: 'builtin_function_or_method' object has no attribute 'x'",
    ),
    ({"error_reply": "{nick}\r\nQUIT"}, "error_reply", "must not contain CR, LF or NUL"),
    ({"user_rate": 5}, "user_rate", "expected a mapping"),
    ({"user_rate": {"burst": 0}}, "user_rate.burst", "must be at least 1"),
    ({"user_rate": {"burst": 1.5}}, "user_rate.burst", "expected an integer"),
    ({"channel_rate": {"per": 0}}, "channel_rate.per", "must be greater than 0"),
    ({"channel_rate": {"per": "1s"}}, "channel_rate.per", "expected a number"),
    ({"max_lines": 0}, "max_lines", "must be between 1 and 50"),
    ({"max_lines": 51}, "max_lines", "must be between 1 and 50"),
    ({"max_lines": "5"}, "max_lines", "expected an integer"),
    ({"max_line_bytes": 49}, "max_line_bytes", "must be between 50 and 450"),
    ({"max_line_bytes": 451}, "max_line_bytes", "must be between 50 and 450"),
    ({"loop_repeats": 0}, "loop_repeats", "must be at least 1"),
    ({"loop_repeats": True}, "loop_repeats", "expected an integer"),
    ({"loop_window": 0}, "loop_window", "must be greater than 0"),
    ({"exec": {"name": "x"}}, "exec", "expected a list"),
    ({"exec": ["fortune"]}, "exec[0]", "expected a mapping"),
    ({"exec": [{"name": "x"}]}, "exec[0]", "missing required key 'command'"),
    ({"exec": [{"command": "x"}]}, "exec[0]", "missing required key 'name'"),
    ({"exec": [{"name": "a b", "command": "x"}]}, "exec[0].name", bad_name("a b")),
    (
        {"exec": [{"name": "x", "command": 5}]},
        "exec[0].command",
        "expected a string or a list of strings",
    ),
    (
        {"exec": [{"name": "x", "command": None}]},
        "exec[0].command",
        "expected a string or a list of strings",
    ),
    ({"exec": [{"name": "x", "command": "   "}]}, "exec[0].command", "must name a program"),
    ({"exec": [{"name": "x", "command": "''"}]}, "exec[0].command", "must name a program"),
    ({"exec": [{"name": "x", "command": []}]}, "exec[0].command", "must not be empty"),
    ({"exec": [{"name": "x", "command": ["", "a"]}]}, "exec[0].command", "must name a program"),
    ({"exec": [{"name": "x", "command": ["a", 1]}]}, "exec[0].command[1]", "expected a string"),
    (
        {"exec": [{"name": "x", "command": "say 'unclosed"}]},
        "exec[0].command",
        "cannot split the command: No closing quotation",
    ),
    (
        {"exec": [{"name": "x", "command": "say \\"}]},
        "exec[0].command",
        "cannot split the command: No escaped character",
    ),
    ({"exec": [{"name": "x", "command": ["a\0b"]}]}, "exec[0].command", "must not contain NUL"),
    ({"exec": [{"name": "x", "command": "x", "help": 1}]}, "exec[0].help", "expected a string"),
    (
        {"exec": [{"name": "x", "command": "x", "usage": ["a"]}]},
        "exec[0].usage",
        "expected a string",
    ),
    (
        {"exec": [{"name": "x", "command": "x", "admin": "yes"}]},
        "exec[0].admin",
        "expected true or false",
    ),
    (
        {"exec": [{"name": "x", "command": "x", "timeout": 0}]},
        "exec[0].timeout",
        "must be greater than 0",
    ),
    ({"settings": ["seen"]}, "settings", "expected a mapping"),
    ({"settings": {"seen": "on"}}, "settings.seen", "expected a mapping"),
    ({"settings": {"seen": [1]}}, "settings.seen", "expected a mapping"),
    ({"settings": {"bad name": {}}}, "settings.bad name", bad_name("bad name")),
    ({"settings": {5: {}}}, "settings.5", "expected a plugin name"),
]


@pytest.mark.parametrize("section, path, message", BAD_VALUES)
def test_bad_values_name_the_key(section: Any, path: str, message: str) -> None:
    if path == "plugins":
        assert plugin_problem(section["plugins"]) == f"plugins: {message}"
    else:
        assert plugin_problem(section) == f"plugins.{path}: {message}"


def test_bad_values_leave_the_rest_of_the_section_read() -> None:
    text = doc({"prefix": "", "timeout": 3})
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.problems == ["plugins.prefix: must not be empty (config.yaml line 7)"]


# -- plugin folders ------------------------------------------------------------------------


def test_plugin_dirs_are_resolved_from_the_config_folder(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(doc({"plugin_dirs": ["mine", "../shared/plugins", "/abs", "~/p"]}))
    options = load_config(path, environ={}).plugins
    assert options.plugin_dirs == (
        str(tmp_path / "mine"),
        os.path.join(str(tmp_path), "../shared/plugins"),
        "/abs",
        os.path.expanduser("~/p"),
    )
    assert not (tmp_path / "mine").exists()  # not required to exist


def test_plugin_dirs_stay_relative_without_a_base_folder() -> None:
    assert plugins({"plugin_dirs": ["mine"]}).plugin_dirs == ("mine",)


def test_data_dir_is_kept_as_written(tmp_path: pathlib.Path) -> None:
    assert plugins({"data_dir": "state"}, base_dir=str(tmp_path)).data_dir == "state"


# -- exec plugins --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, argv",
    [
        ("fortune", ("fortune",)),
        ("fortune -s  -n 100", ("fortune", "-s", "-n", "100")),
        ("say 'two words' \"and three more\" a\\ b", ("say", "two words", "and three more", "a b")),
        ("echo '' x", ("echo", "", "x")),
        ("echo # not a comment", ("echo", "#", "not", "a", "comment")),
        (["say", "two words", "$HOME"], ("say", "two words", "$HOME")),
        (["fortune"], ("fortune",)),
    ],
)
def test_exec_commands_are_split_like_a_shell(command: Any, argv: tuple[str, ...]) -> None:
    (plugin,) = plugins({"exec": [{"name": "x", "command": command}]}).exec
    assert plugin == ExecPluginConfig(name="x", command=argv)
    assert plugin.help == "" and plugin.usage == "" and not plugin.admin
    assert plugin.timeout is None


@pytest.mark.parametrize(
    "command, program",
    [
        ("bin/weather.sh --metric", "{base}/bin/weather.sh"),
        ("./weather.sh", "{base}/./weather.sh"),
        (["../tools/w", "x"], "{base}/../tools/w"),
        ("/usr/bin/fortune", "/usr/bin/fortune"),
        ("fortune", "fortune"),  # found in PATH: not a path
        ("~/bin/w", os.path.expanduser("~/bin/w")),
    ],
)
def test_exec_program_paths_start_at_the_config_folder(
    tmp_path: pathlib.Path, command: Any, program: str
) -> None:
    options = plugins({"exec": [{"name": "x", "command": command}]}, base_dir=str(tmp_path))
    argv = options.exec[0].command
    assert argv[0] == program.format(base=tmp_path)
    if "--metric" in command:
        assert argv[1:] == ("--metric",)


def test_exec_arguments_are_not_paths(tmp_path: pathlib.Path) -> None:
    options = plugins({"exec": [{"name": "x", "command": "grep -f a/b"}]}, base_dir=str(tmp_path))
    assert options.exec[0].command == ("grep", "-f", "a/b")


def test_exec_commands_use_the_environment_before_splitting() -> None:
    env = {"TOOLS": "/opt/my tools", "ARGS": "-a -b"}
    exec_ = [
        {"name": "a", "command": "'${TOOLS}/run' ${ARGS}"},
        {"name": "b", "command": ["${TOOLS}/run", "${ARGS}"]},
    ]
    a, b = plugins({"exec": exec_}, env).exec
    assert a.command == ("/opt/my tools/run", "-a", "-b")
    assert b.command == ("/opt/my tools/run", "-a -b")


def test_exec_environment_errors_are_reported_at_the_command() -> None:
    assert plugin_problem({"exec": [{"name": "x", "command": "run ${NOPE}"}]}) == (
        "plugins.exec[0].command: environment variable NOPE is not set"
    )
    assert plugin_problem({"exec": [{"name": "x", "command": ["run", "${NOPE}"]}]}) == (
        "plugins.exec[0].command[1]: environment variable NOPE is not set"
    )


def test_exec_names_are_unique() -> None:
    exec_ = [
        {"name": "w", "command": "a"},
        {"name": "v", "command": "b"},
        {"name": "w", "command": "c"},
    ]
    assert plugin_problem({"exec": exec_}) == (
        "plugins.exec[2].name: duplicate exec plugin 'w' (also plugins.exec[0])"
    )


def test_exec_entries_are_all_checked() -> None:
    exec_ = [{"name": "-", "command": "", "admin": 1, "timeout": -1}]
    assert [without_line(p) for p in problems(doc({"exec": exec_}))] == [
        "plugins.exec[0].name: " + bad_name("-"),
        "plugins.exec[0].command: must name a program",
        "plugins.exec[0].admin: expected true or false",
        "plugins.exec[0].timeout: must be greater than 0",
    ]


# -- settings ------------------------------------------------------------------------------


def test_settings_are_free_form_and_frozen() -> None:
    options = plugins(
        {
            "enabled": ["seen"],
            "settings": {
                "weather": {
                    "units": "metric",
                    "days": 3,
                    "ratio": 0.5,
                    "on": True,
                    "none": None,
                    "cities": ["Paris", {"name": "Oslo", "tags": ["cold"]}],
                    "nested": {"a": {"b": [1, [2]]}},
                    "1": "x",
                },
                "seen": None,
            },
        }
    )
    weather = options.settings["weather"]
    assert weather == {
        "units": "metric",
        "days": 3,
        "ratio": 0.5,
        "on": True,
        "none": None,
        "cities": ("Paris", {"name": "Oslo", "tags": ("cold",)}),
        "nested": {"a": {"b": (1, (2,))}},
        "1": "x",
    }
    assert options.settings["seen"] == {}
    assert isinstance(options.settings, types.MappingProxyType)
    assert isinstance(weather, types.MappingProxyType)
    assert isinstance(weather["cities"][1], types.MappingProxyType)
    with pytest.raises(TypeError):
        weather["units"] = "imperial"  # type: ignore[index]
    with pytest.raises(TypeError):
        options.settings["new"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        weather["cities"][1]["name"] = "Bergen"  # type: ignore[index]


def test_settings_of_plugins_that_are_not_enabled_are_kept() -> None:
    options = plugins({"enabled": ["help"], "settings": {"grep": {"max": 3}}})
    assert options.settings == {"grep": {"max": 3}}


def test_settings_keys_are_not_checked_against_a_list() -> None:
    options = plugins({"settings": {"my.plugin": {"Any Key": 1, "x_file": None, 2: "two"}}})
    assert options.settings == {"my.plugin": {"Any Key": 1, "x_file": None, 2: "two"}}


def test_settings_strings_use_the_environment_at_any_depth() -> None:
    env = {"CITY": "Paris", "UNITS": "metric"}
    options = plugins(
        {
            "settings": {
                "weather": {
                    "city": "${CITY}",
                    "list": ["${UNITS}", ["in ${CITY}"]],
                    "deep": {"x": "$${CITY}"},
                }
            }
        },
        env,
    )
    assert options.settings["weather"] == {
        "city": "Paris",
        "list": ("metric", ("in Paris",)),
        "deep": {"x": "${CITY}"},
    }


SETTINGS_ENV_ERROR = """\
networks:
  - name: local
    servers: [a]
    nick: logbot
plugins:
  settings:
    weather:
      cities:
        - Oslo
        - ${NOPE}
      deep: {a: {b: "${ALSO_NOT}"}}
"""


def test_settings_environment_errors_name_the_path_and_line() -> None:
    assert problems(SETTINGS_ENV_ERROR) == [
        (
            "plugins.settings.weather.cities[1]: environment variable NOPE is not set "
            "(config.yaml line 10)"
        ),
        (
            "plugins.settings.weather.deep.a.b: environment variable ALSO_NOT is not set "
            "(config.yaml line 11)"
        ),
    ]


def test_settings_file_keys_become_secrets(tmp_path: pathlib.Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key").write_text(SECRET + "\n\n")
    (tmp_path / "other").write_text("other-" + SECRET)
    path = tmp_path / "config.yaml"
    path.write_text(
        doc(
            {
                "settings": {
                    "weather": {
                        "api_key_file": "secrets/key",
                        "accounts": [{"token_file": str(tmp_path / "other"), "user": "me"}],
                        "count_file": 3,  # not a string: kept as it is
                    }
                }
            }
        )
    )
    config = load_config(path, environ={})
    weather = config.plugins.settings["weather"]
    assert set(weather) == {"api_key", "accounts", "count_file"}
    assert isinstance(weather["api_key"], Secret)
    assert weather["api_key"].reveal() == SECRET
    assert weather["accounts"][0]["token"] == Secret("other-" + SECRET)
    assert weather["count_file"] == 3
    for text in (repr(config), str(config), summary(config), repr(config.plugins.settings)):
        assert SECRET not in text


def test_settings_file_names_may_use_the_environment(tmp_path: pathlib.Path) -> None:
    (tmp_path / "key").write_text(SECRET)
    options = plugins({"settings": {"w": {"key_file": "${DIR}/key"}}}, {"DIR": str(tmp_path)})
    assert options.settings["w"]["key"].reveal() == SECRET


def test_settings_value_and_file_together_is_an_error() -> None:
    message = plugin_problem({"settings": {"w": {"key": SECRET, "key_file": "k"}}})
    assert message == "plugins.settings.w.key: give key or key_file, not both"


def test_settings_secret_file_errors_never_show_the_content(tmp_path: pathlib.Path) -> None:
    (tmp_path / "binary").write_bytes(b"\xff\xfe" + SECRET.encode())
    (tmp_path / "empty").write_text("\n \n")
    settings_ = {
        "w": {
            "a_file": "binary",
            "b_file": "empty",
            "c_file": "missing",
            "d_file": "",
            "e_file": "${NOPE}",
        }
    }
    with pytest.raises(ConfigError) as info:
        parse(doc({"settings": settings_}), base_dir=str(tmp_path))
    assert [without_line(p) for p in info.value.problems] == [
        f"plugins.settings.w.a_file: {tmp_path / 'binary'} is not UTF-8 text",
        "plugins.settings.w.b_file: must not be empty",
        (
            f"plugins.settings.w.c_file: cannot read {tmp_path / 'missing'}: "
            "No such file or directory"
        ),
        "plugins.settings.w.d_file: must not be empty",
        "plugins.settings.w.e_file: environment variable NOPE is not set",
    ]
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_secrets_do_not_leak_into_other_errors(tmp_path: pathlib.Path) -> None:
    (tmp_path / "key").write_text(SECRET)
    text = doc({"prefix": "", "settings": {"w": {"key_file": "key", "n": "${NOPE}"}}})
    with pytest.raises(ConfigError) as info:
        parse(text, base_dir=str(tmp_path))
    assert len(info.value.problems) == 2
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_recursive_settings_are_refused_cleanly() -> None:
    text = doc() + "plugins:\n  settings:\n    w:\n      loop: &a [*a]\n"
    message = problem(text)
    assert message.startswith("plugins.settings.w.loop[0][0]")
    assert "nested too deeply (more than 16 levels)" in message


def test_an_alias_bomb_in_settings_is_not_expanded() -> None:
    lines = ["      a0: &a0 [x, x, x, x, x, x, x]"]
    lines += [f"      a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 7)}]" for i in range(1, 9)]
    text = doc() + "plugins:\n  settings:\n    w:\n" + "\n".join(lines) + "\n"
    start = time.monotonic()
    found = problems(text)
    assert time.monotonic() - start < 10
    (message,) = found  # reported once, where the budget ran out (inside a4)
    path, _, text = without_line(message).partition(": ")
    assert path.startswith("plugins.settings.w.a4[")
    assert text == "too many values (more than 10000 in settings)"


# -- summary -------------------------------------------------------------------------------


def test_summary_names_plugins_and_exec_commands_but_no_values(tmp_path: pathlib.Path) -> None:
    (tmp_path / "key").write_text(SECRET)
    config = parse(
        doc(
            {
                "enabled": ["help", "seen", "fortune"],
                "prefix": "?",
                "admins": ["account:a", "b!*@*"],
                "ignore": ["*bot*!*@*"],
                "exec": [
                    {"name": "fortune", "command": f"/usr/games/fortune -s --token {SECRET}"},
                    {"name": "deploy", "command": ["bin/deploy"], "admin": True, "timeout": 60},
                ],
                "settings": {"seen": {"note": "value-" + SECRET, "key_file": "key"}},
            }
        ),
        base_dir=str(tmp_path),
    )
    lines = summary(config).splitlines()
    start = lines.index("plugins: help, seen, fortune (prefix '?'; admins: 2; ignored: 1)")
    assert lines[start + 1 : start + 3] == [
        "  exec fortune: /usr/games/fortune (3 arguments)",
        f"  exec deploy: {tmp_path / 'bin' / 'deploy'} (admins only; timeout 60 s; not enabled)",
    ]
    assert lines[start + 3] == "network local"
    assert SECRET not in summary(config)


def test_summary_of_the_defaults_and_of_no_plugins() -> None:
    assert (
        "plugins: help, ping, version, uptime, hello, seen, last, grep, admin "
        "(prefix '!'; admins: 0)"
    ) in summary(parse(doc())).splitlines()
    assert (
        "plugins: (none) (prefix '!'; admins: 0)"
        in summary(parse(doc({"enabled": []}))).splitlines()
    )


# -- the sample config ---------------------------------------------------------------------


def test_the_sample_config_has_a_plugins_section() -> None:
    config = load_config(REPO / "config.yaml", environ={})
    options = config.plugins
    assert options == PluginOptions()  # every value in the sample is the default
    assert options.enabled == (
        "help",
        "ping",
        "version",
        "uptime",
        "hello",
        "seen",
        "last",
        "grep",
        "admin",
    )
    sample = yaml.safe_load((REPO / "config.yaml").read_text())
    assert sample["plugins"]["enabled"] == list(DEFAULT_PLUGINS)
    assert "plugins: help, ping" in summary(config)


def test_the_sample_plugins_examples_are_valid_when_uncommented(tmp_path: pathlib.Path) -> None:
    """The commented examples under ``plugins:`` parse once their '#' is removed."""
    sample = (REPO / "config.yaml").read_text().split("\nplugins:\n", 1)[1]
    examples: dict[str, Any] = {}
    block: list[str] = []
    for line in sample.splitlines() + [""]:
        if line.startswith("  #   "):
            block.append(line[6:].split("  #")[0].rstrip())
        elif block:
            examples.update(yaml.safe_load("\n".join(block)))
            block = []
    assert set(examples) == {"admins", "ignore", "exec", "settings"}
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "weather-key").write_text(SECRET)
    options = plugins({**examples, "enabled": ["fortune"]}, base_dir=str(tmp_path))
    assert options.exec[0].command == ("fortune", "-s")
    assert options.settings["weather"]["api_key"].reveal() == SECRET


# -- never a traceback ---------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "${X}",
            "${NOPE}",
            "$${X}",
            "${",
            "{nick}",
            "{",
            "}",
            "a!b@c",
            "account:",
            "account:x",
            "'",
            "\\",
            "",
            " ",
            "x_file",
            "/",
        ]
    )
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=8)
            | st.sampled_from(
                [
                    "name",
                    "command",
                    "burst",
                    "per",
                    "key",
                    "key_file",
                    "x_file",
                    "help",
                    "admin",
                    "timeout",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
PLUGIN_PATHS: list[tuple[Any, ...]] = (
    [("plugins",)]
    + [("plugins", key) for key in PLUGIN_KEYS]
    + [("plugins", rate, key) for rate in ("user_rate", "channel_rate") for key in RATE_KEYS]
    + [("plugins", "exec", 0, key) for key in EXEC_KEYS]
    + [
        ("plugins", "exec", 0),
        ("plugins", "settings", "w"),
        ("plugins", "settings", "w", "k"),
        ("plugins", "settings", "w", "k_file"),
    ]
)
BASE: dict[str, Any] = {
    "networks": [NETWORK],
    "plugins": {"exec": [{"name": "x", "command": "x"}], "settings": {"w": {}}},
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PLUGIN_PATHS), VALUES), min_size=1, max_size=4))
def test_random_values_under_plugin_keys_never_crash(changes: list[tuple[Any, Any]]) -> None:
    data = copy.deepcopy(BASE)
    for path, value in changes:
        data = _put(data, path, value)
    try:
        config = parse_config(
            yaml.safe_dump(data, allow_unicode=True), environ={"X": "x"}, base_dir="/nonexistent"
        )
    except ConfigError as e:
        assert e.problems and all(isinstance(p, str) and p for p in e.problems)
    else:
        assert isinstance(config.plugins, PluginOptions)
        summary(config)
