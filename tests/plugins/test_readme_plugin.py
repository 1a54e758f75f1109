"""The README's "Write a plugin" section: its example plugin and the test of it that
ends the section, run as written.

Where they are: the plugin is the section's first ``python`` code block whose first line
is ``# plugins/NAME.py``; its test is the block whose first line is
``# plugins/test_NAME.py``, and nothing but white space may follow that block in the
section.  Both are written to a plugin folder under ``tmp_path`` and the test is run by
pytest in a child process, as its reader would run it: so the README cannot show a test
that does not pass, nor one that would pass whatever the plugin answered (the second
test breaks every reply of the plugin and expects the README's test to fail).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Write a plugin"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
_PLUGIN = re.compile(r"# plugins/(\w+)\.py\n")

#: Appended to the plugin: every handler's reply gets a suffix (its decorators' data
#: kept), so a test that checks the replies can no longer pass.
BREAK_REPLIES = """

def _broken(func):
    def handler(context):
        reply = func(context)
        return reply + " (broken)" if isinstance(reply, str) else reply

    handler.__logbot__ = func.__logbot__
    return handler


for _name, _value in list(globals().items()):
    if callable(_value) and getattr(_value, "__logbot__", None):
        globals()[_name] = _broken(_value)
"""


@dataclass(frozen=True)
class Example:
    name: str
    plugin: str
    test: str


def readme_example(readme: str) -> Example:
    """The example plugin and its test, from the README's text (see the module doc)."""
    assert HEADING + "\n" in readme, f"the README has no {HEADING!r} section"
    start = readme.index(HEADING + "\n")
    end = readme.find("\n## ", start)
    section = readme[start : end if end >= 0 else len(readme)]
    blocks = list(_BLOCK.finditer(section))
    plugins = [
        b for b in blocks if (m := _PLUGIN.match(b.group(1))) and not m[1].startswith("test_")
    ]
    assert plugins, "the section has no ```python block starting with # plugins/NAME.py"
    plugin = plugins[0].group(1)
    name = _PLUGIN.match(plugin)[1]  # type: ignore[index]
    tests = [b for b in blocks if b.group(1).startswith(f"# plugins/test_{name}.py\n")]
    assert tests, f"the section has no ```python block starting with # plugins/test_{name}.py"
    last = tests[-1]
    assert last is blocks[-1] and not section[last.end() :].strip(), (
        f"the section must end with the test of {name}"
    )
    return Example(name, plugin, last.group(1))


def run_test(
    folder: Path, example: Example, plugin_source: str
) -> subprocess.CompletedProcess[str]:
    """Write the plugin and its test into ``folder`` and run the test with pytest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{example.name}.py").write_text(plugin_source)
    test = folder / f"test_{example.name}.py"
    test.write_text(example.test)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test.name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_section_ends_with_a_test_of_its_example_on_the_harness() -> None:
    example = readme_example(README.read_text(encoding="utf-8"))
    assert "from logbot.bot.testing import PluginHarness" in example.test
    assert re.search(rf"PluginHarness\(\[\s*\"{example.name}\"", example.test), example.test
    assert re.search(r"^def test_\w+\(", example.test, re.MULTILINE)


def test_the_readme_test_of_the_example_passes(tmp_path: Path) -> None:
    example = readme_example(README.read_text(encoding="utf-8"))
    done = run_test(tmp_path / "plugins", example, example.plugin)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b[1-9]\d* passed\b", done.stdout), done.stdout
    assert "failed" not in done.stdout and "skipped" not in done.stdout, done.stdout


def test_the_readme_test_fails_when_the_plugin_answers_wrong(tmp_path: Path) -> None:
    example = readme_example(README.read_text(encoding="utf-8"))
    done = run_test(tmp_path / "plugins", example, example.plugin + BREAK_REPLIES)
    assert done.returncode == 1, done.stdout + done.stderr  # 1: tests ran and failed
    assert "(broken)" in done.stdout, done.stdout
