"""``sasl.key_file`` / ``sasl.key`` and the mechanism ECDSA-NIST256P-CHALLENGE in the config.

The key is read and checked at load: a bad one is a config error naming the key and
what is wrong, never quoting it; the summary shows the public key (what the services
keep), never the private one.  Without ``cryptography`` (an optional extra), logbot
loads and checks every config that does not name the mechanism, and one that does is
refused with what to install: that is tested in child processes whose import of
``cryptography`` fails (``sys.modules['cryptography'] = None``), as it would where the
package is not installed.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest
import yaml

from logbot.config.loader import ConfigError, load_config, parse_config, summary
from logbot.config.settings import SaslOptions, Secret
from tests.irc.ecdsa_keys import formats, new_key, public_base64, secret_pieces
from tests.irc.test_sasl_ecdsa import BAD_KEYS

REPO = pathlib.Path(__file__).resolve().parents[2]
ECDSA = "ECDSA-NIST256P-CHALLENGE"
KEY = new_key()
FORMATS = formats(KEY)
PUBLIC = public_base64(KEY)
MISSING = (
    f"networks[0].sasl.mechanisms: {ECDSA} needs the 'cryptography' package: "
    "pip install 'logbot[ecdsa]'"
)


def doc(sasl: dict[str, Any], root: str = "logs") -> str:
    net = {"name": "local", "servers": ["127.0.0.1"], "nick": "logbot", "sasl": sasl}
    return yaml.safe_dump({"logging": {"root": root}, "networks": [net]}, sort_keys=False)


def problems(text: str, **kw: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, environ=kw.pop("environ", {}), **kw)
    return [p.rsplit(" (config.yaml", 1)[0] for p in info.value.problems]


def write_key(folder: pathlib.Path, text: str, name: str = "bot.key") -> pathlib.Path:
    path = folder / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_key_file_is_read_relative_to_the_config_and_kept_secret(tmp_path: pathlib.Path):
    (tmp_path / "keys").mkdir()
    write_key(tmp_path / "keys", FORMATS["pem-ecparam"])
    config_path = tmp_path / "config.yaml"
    config_path.write_text(doc({"key_file": "keys/bot.key", "mechanisms": [ECDSA]}))
    config = load_config(config_path, environ={})
    sasl = config.networks[0].sasl
    assert sasl == SaslOptions(
        mechanisms=(ECDSA,),
        key=Secret(FORMATS["pem-ecparam"].rstrip()),
        public_key=PUBLIC,
    )
    shown = summary(config)
    assert f"sasl: {ECDSA} (as logbot; key: set; public key: {PUBLIC})" in shown
    for text in (shown, repr(config), str(config), repr(sasl)):
        for piece in secret_pieces(FORMATS["pem-ecparam"]):
            assert piece not in text


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_key_format_loads(kind: str, tmp_path: pathlib.Path) -> None:
    write_key(tmp_path, FORMATS[kind])
    text = doc({"key_file": "bot.key", "mechanisms": ["ecdsa-nist256p-challenge"]})
    sasl = parse_config(text, environ={}, base_dir=str(tmp_path)).networks[0].sasl
    assert sasl.mechanisms == (ECDSA,) and sasl.public_key == PUBLIC


def test_an_inline_key_from_the_environment_with_another_mechanism() -> None:
    sasl = {"key": "${BOT_KEY}", "password": "pw", "mechanisms": [ECDSA, "SCRAM-SHA-256"]}
    config = parse_config(doc(sasl), environ={"BOT_KEY": FORMATS["base64-raw"]})
    assert config.networks[0].sasl.key == Secret(FORMATS["base64-raw"])
    assert config.networks[0].sasl.mechanisms == (ECDSA, "SCRAM-SHA-256")


@pytest.mark.parametrize("name", sorted(BAD_KEYS))
def test_a_bad_key_is_a_config_error_naming_the_key(name: str, tmp_path: pathlib.Path) -> None:
    text, expected = BAD_KEYS[name]
    write_key(tmp_path, text)
    (found,) = problems(doc({"key_file": "bot.key", "mechanisms": [ECDSA]}), base_dir=str(tmp_path))
    assert found.startswith(f"networks[0].sasl.key_file: {expected}"), found
    for piece in secret_pieces(text):
        assert piece not in found


@pytest.mark.parametrize(
    "sasl, expected",
    [
        (
            {"mechanisms": [ECDSA]},
            f"networks[0].sasl: {ECDSA} needs key_file (or key): the private key",
        ),
        (
            {"key": "${K}", "password": "pw"},
            f"networks[0].sasl.key: only used by {ECDSA}: add it to mechanisms",
        ),
        (
            {"key_file": "missing.key", "mechanisms": [ECDSA]},
            "networks[0].sasl.key_file: cannot read {dir}/missing.key: No such file or directory",
        ),
        (
            {"key": "${K}", "key_file": "bot.key", "mechanisms": [ECDSA]},
            "networks[0].sasl.key: give key or key_file, not both",
        ),
    ],
)
def test_the_key_and_the_mechanism_go_together(
    sasl: dict[str, Any], expected: str, tmp_path: pathlib.Path
) -> None:
    found = problems(doc(sasl), base_dir=str(tmp_path), environ={"K": FORMATS["base64-raw"]})
    assert found == [expected.format(dir=tmp_path)]


def test_the_mechanism_is_listed_among_the_choices() -> None:
    (found,) = problems(doc({"password": "x", "mechanisms": ["MD5"]}))
    assert found == (
        "networks[0].sasl.mechanisms[0]: expected one of 'SCRAM-SHA-256', 'PLAIN', "
        f"'EXTERNAL', '{ECDSA}', not 'MD5'"
    )


# -- without cryptography: child processes that cannot import it -------------------------

_WITHOUT = "import sys; sys.modules['cryptography'] = None\n"


def _child(code: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGBOT_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT + code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _line(config: pathlib.Path) -> int:
    """The line of ``mechanisms:`` in the config file."""
    lines = config.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith("mechanisms:"))


def _logbot_check(config: pathlib.Path) -> str:
    return (
        f"sys.argv = ['logbot', 'check', {str(config)!r}]\n"
        "import runpy; runpy.run_module('logbot', run_name='__main__')\n"
    )


def test_without_cryptography_the_mechanism_is_refused_with_what_to_install(
    tmp_path: pathlib.Path,
) -> None:
    write_key(tmp_path, FORMATS["pem-sec1"])
    config = tmp_path / "config.yaml"
    config.write_text(doc({"key_file": "bot.key", "mechanisms": [ECDSA]}, str(tmp_path / "l")))
    done = _child(_logbot_check(config), tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines()[1:] == [f"{MISSING} ({config} line {_line(config)})"]
    assert "Traceback" not in done.stderr
    for piece in secret_pieces(FORMATS["pem-sec1"]):
        assert piece not in done.stdout + done.stderr
    # the same config is fine where cryptography is there
    here = subprocess.run(
        [sys.executable, "-m", "logbot", "check", str(config)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert here.returncode == 0, here.stdout + here.stderr
    assert f"public key: {PUBLIC}" in here.stdout


def test_without_cryptography_logbot_imports_and_checks_other_configs(
    tmp_path: pathlib.Path,
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(doc({"password": "pw", "mechanisms": ["PLAIN"]}, str(tmp_path / "l")))
    code = (
        "import importlib, pkgutil, logbot\n"
        "names = [m.name for m in pkgutil.walk_packages(logbot.__path__, 'logbot.')]\n"
        "names = [n for n in names if n != 'logbot.__main__']\n"
        "for name in names: importlib.import_module(name)\n"
        "assert len(names) > 100, names\n"
        "from logbot.testing.ircd import TestIRCServer\n"
        "from logbot.reactor.testing import MemoryReactor\n"
        "TestIRCServer(MemoryReactor())  # the demo's server, without SASL keys\n"
        + _logbot_check(config)
    )
    done = _child(code, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{config}: OK" in done.stdout
