"""The ``index`` and ``web`` config sections: defaults, values, every way to be wrong."""

from __future__ import annotations

import os
import pathlib
import re
from typing import Any

import pytest
import yaml

from logbot.config.archive_section import INDEX_KEYS, MAX_RESULTS, MAX_TITLE, WEB_KEYS
from logbot.config.loader import load_config, summary
from logbot.config.settings import IndexOptions, Secret, WebOptions
from tests.config.test_loader import parse, problem, problems, without_line

REPO = pathlib.Path(__file__).resolve().parents[3]
NETWORKS = [
    {"name": "demo", "servers": ["127.0.0.1"], "nick": "logbot"},
    {"name": "libera", "servers": ["127.0.0.1"], "nick": "logbot"},
]


def doc(**top: Any) -> str:
    return yaml.safe_dump({"networks": NETWORKS, **top}, sort_keys=False)


def web(section: Any) -> WebOptions | None:
    return parse(doc(web=section)).web


def test_no_web_section_is_no_web_view() -> None:
    assert parse(doc()).web is None
    assert web(None) is None  # "web:" with every key commented out
    assert parse(doc()).index == IndexOptions()


def test_web_defaults() -> None:
    options = web({"port": 8080})
    assert options == WebOptions()
    assert dict(options.publish) == {}  # nothing published unless said
    assert (options.host, options.title, options.follow_interval) == ("127.0.0.1", "IRC logs", 5)
    assert options.max_results == 100 and options.user is None and options.token is None


def test_web_values() -> None:
    options = web(
        {
            "port": 1,
            "host": "::",
            "title": "Our logs",
            "publish": {"demo": "*", "libera": ["#Logbot", "&local"]},
            "follow_interval": 0.5,
            "max_results": MAX_RESULTS,
        }
    )
    assert options is not None
    assert (options.port, options.host, options.title) == (1, "::", "Our logs")
    assert dict(options.publish) == {"demo": None, "libera": ("#Logbot", "&local")}
    assert (options.follow_interval, options.max_results) == (0.5, MAX_RESULTS)
    with pytest.raises(TypeError):
        options.publish["demo"] = ()  # type: ignore[index]  # frozen


def test_credentials_from_values_env_and_files(tmp_path: pathlib.Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    os.chmod(secret, 0o600)
    text = doc(web={"user": "reader", "password_file": str(secret), "token": "${TOKEN}"})
    options = parse(text, {"TOKEN": "tok-123"}).web
    assert options is not None
    assert options.user == "reader"
    assert options.password == Secret("s3cret")
    assert options.token == Secret("tok-123")
    assert "s3cret" not in repr(options) and "tok-123" not in repr(options)
    config = parse(text, {"TOKEN": "tok-123"})
    shown = summary(config)
    assert "basic auth: set" in shown and "token: set" in shown
    assert "s3cret" not in shown and "tok-123" not in shown


def test_index_values() -> None:
    section = {"enabled": True, "path": "idx.sqlite3", "interval": 0.25, "batch_lines": 1}
    assert parse(doc(index=section)).index == IndexOptions(True, "idx.sqlite3", 0.25, 1)
    assert parse(doc(index={"enabled": None})).index == IndexOptions()
    assert parse(doc(index=None)).index == IndexOptions()


@pytest.mark.parametrize(
    "section, message",
    [
        ({"port": 0}, "web.port: must be between 1 and 65535"),
        ({"port": "80"}, "web.port: expected an integer"),
        ({"host": "a b"}, "web.host: expected an IP address or a host name"),
        ({"title": ""}, "web.title: must not be empty"),
        ({"title": "x" * (MAX_TITLE + 1)}, f"web.title: must be at most {MAX_TITLE} characters"),
        ({"title": "a\nb"}, "web.title: must not contain control characters"),
        ({"publish": {"nope": "*"}}, "web.publish.nope: not a network of this config"),
        ({"publish": {"demo": "all"}}, "web.publish.demo: expected '*' (every channel) or a"),
        ({"publish": {"demo": []}}, "web.publish.demo: expected '*' (every channel) or a"),
        ({"publish": {"demo": None}}, "web.publish.demo: expected '*' (every channel) or a"),
        ({"publish": {"demo": ["alice"]}}, "web.publish.demo[0]: expected a channel name"),
        ({"publish": {"demo": ["#a", "#A"]}}, "web.publish.demo[1]: '#A' is listed twice"),
        ({"publish": {"demo": [5]}}, "web.publish.demo[0]: expected a string"),
        ({"publish": ["demo"]}, "web.publish: expected a mapping of network names"),
        ({"user": "a"}, "web.user: needs password or password_file"),
        ({"password": "p"}, "web.password: needs user (HTTP basic auth takes both)"),
        ({"user": "a:b", "password": "p"}, "web.user: must not contain ':'"),
        ({"token": "has space"}, "web.token: must be printable ASCII without spaces"),
        ({"token": ""}, "web.token: must not be empty"),
        ({"token": "a", "token_file": "f"}, "web.token: give token or token_file, not both"),
        ({"follow_interval": 0}, "web.follow_interval: must be greater than 0"),
        ({"max_results": 0}, f"web.max_results: must be between 1 and {MAX_RESULTS}"),
        ({"max_results": MAX_RESULTS + 1}, "web.max_results: must be between 1 and"),
        ({"prot": 1}, "web.prot: unknown key (did you mean 'port'?)"),
        ([1], "web: expected a mapping"),
    ],
)
def test_bad_web_values(section: Any, message: str) -> None:
    found = without_line(problem(doc(web=section)))
    assert found.startswith(message), found


def test_a_problem_names_its_line() -> None:
    text = doc(web={"port": 8080, "publish": {"nope": "*"}})
    line = text.splitlines().index("    nope: '*'") + 1
    assert problem(text).endswith(f"(config.yaml line {line})")


def test_a_secret_never_appears_in_a_problem() -> None:
    found = problems(doc(web={"token": "sp ace-secret-value"}))
    assert all("secret-value" not in p for p in found)


@pytest.mark.parametrize(
    "section, message",
    [
        ({"enabled": "yes"}, "index.enabled: expected true or false"),
        ({"path": ""}, "index.path: must not be empty"),
        ({"interval": 0}, "index.interval: must be greater than 0"),
        ({"batch_lines": 0}, "index.batch_lines: must be at least 1"),
        ({"batch_lines": 1.5}, "index.batch_lines: expected an integer"),
        ({"size": 1}, "index.size: unknown key"),
    ],
)
def test_bad_index_values(section: Any, message: str) -> None:
    assert without_line(problem(doc(index=section))).startswith(message)


def test_the_sample_config_documents_every_key() -> None:
    sample = (REPO / "config.yaml").read_text()
    index_part = sample[sample.index("\n# index:") : sample.index("\n# web:")]
    web_part = sample[sample.index("\n# web:") :]
    for key in INDEX_KEYS:
        assert re.search(rf"\b{key}:", index_part), key
    for key in WEB_KEYS:
        assert re.search(rf"\b{key}:", web_part), key


def test_the_sample_config_loads_with_its_sections_uncommented(tmp_path: pathlib.Path) -> None:
    """``index`` and ``web`` are commented out in config.yaml; uncommented, they load."""
    out, inside = [], False
    for line in (REPO / "config.yaml").read_text().splitlines():
        if line in ("# index:", "# web:"):
            inside = True
            out.append(line[2:])
        elif inside and line.startswith("#   "):
            out.append(line[2:])
        else:
            inside = False
            out.append(line)
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(out) + "\n")
    config = load_config(path)
    assert config.web == WebOptions(publish={"local": ("#logbot",)})
    assert config.index == IndexOptions()
    assert load_config(REPO / "config.yaml").web is None  # as shipped: no web view
