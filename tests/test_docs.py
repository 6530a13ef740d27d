"""Documentation stays true: every setting and command is in the README, the changelog has this version."""

from pathlib import Path

import click
import pytest

from server import __version__
from server.cli import cli
from server.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
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


def test_changelog_names_this_version():
    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()
