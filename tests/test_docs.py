"""Documentation stays true: every setting and command is in the README, the changelog has this version."""

import os
import re
from pathlib import Path

import click
import pytest

from bench.common import DEFAULT_SHARED
from server import __version__
from server.cli import cli
from server.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
# Where, outside the repository, the docs may say the benchmark data and scorer lie: the folder `python -m
# bench` reads by default, as a path relative to the repository (worked out from names: nothing is read).
BENCHMARK_HOME = Path(os.path.relpath(DEFAULT_SHARED, ROOT)).as_posix()
BENCHMARK_FOLDERS = (f"{BENCHMARK_HOME}/data", f"{BENCHMARK_HOME}/bench")
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_setting_is_documented(setting):
    assert setting.env in README


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield " ".join((*prefix, name))
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("command", sorted(_commands(cli)))
def test_command_is_documented(command):
    assert f"crosscurrent {command}" in README


def _options(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("--") and option != "--help":
                    yield " ".join((*prefix, name)), option
        if isinstance(command, click.Group):
            yield from _options(command, (*prefix, name))


@pytest.mark.parametrize("command, option", sorted(_options(cli)))
def test_command_option_is_documented(command, option):
    assert option in README, f"crosscurrent {command} {option}"


@pytest.mark.parametrize("words", [
    # The API section: how a script gets a token, what search matches, what the export filters are.
    "crosscurrent token NAME", "Authorization: Bearer",
    "`flood` finds", "read_from", "read_to", "published_from", "published_to",
    # What `make test` needs and does without the benchmark data.
    "tests/pages/", "benchmarks skipped", "all floors hold",
])
def test_readme_says(words):
    assert words in README


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "tests" / "pages" / "README.md"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_link_only_to_files_of_the_repository(doc):
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" not in target:
            assert (doc.parent / target).resolve().is_relative_to(ROOT), target
            assert (doc.parent / target).exists(), target
    # Outside the repository the docs name only where the benchmark data may lie (`make test` runs without it).
    for mention in re.findall(r"(?<![\w/.])\.\./[\w./-]+", text):
        # The path as written, relative to the repository root (strings only: no file is looked at).
        where = Path(os.path.relpath(os.path.normpath(doc.parent / mention), ROOT)).as_posix()
        assert not where.startswith("../") or where.startswith(BENCHMARK_FOLDERS), mention


def test_changelog_names_this_version():
    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()
