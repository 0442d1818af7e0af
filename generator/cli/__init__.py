"""The `memberkit` command: thin click commands over the core and the engine.

One module per command group: `new` (a new site's sources), `site` (build, serve,
check, nginx, report), `members` and `state` (the sealed state); what they share is in
`options` (options, message printing), `context` (what a command reads from mkdocs.yml,
files it writes, progress) and `mailing`. `checkout` is `members sync`, a command of
the members group with a module of its own.

May import every concern of the package; nothing imports it.
"""

from __future__ import annotations

import os

import click

from generator import __version__
from generator.cli import checkout, members, new, site, state

# Material prints an end-of-life banner on every build that the owner cannot act
# on; the README explains the date and the plan instead.
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="memberkit")
def cli() -> None:
    """Build and preview a members-only site from docs/, templates/ and snippets/."""


for command in (
    new.new,
    site.build,
    site.serve,
    site.check,
    site.nginx,
    site.report,
    members.members,
    state.state,
):
    cli.add_command(command)


members.members.add_command(checkout.sync)


def main() -> None:  # pragma: no cover - `python -m generator`
    cli(prog_name="memberkit")
