"""`memberkit new`: a new membership site in a folder, and the owner's next steps."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from generator.cli.options import shown
from generator.errors import MemberkitError


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--example",
    is_flag=True,
    help="Write the whole bundled example site (six guides, twelve templates) "
    "instead of the starter.",
)
def new(folder: Path, example: bool) -> None:
    """Write a new membership site into FOLDER (a new or empty folder).

    The starter: mkdocs.yml, a home page, a public article, a members' guide, two
    document templates, the join and about pages, the emails to members, a .gitignore
    and the publishing workflow for GitHub Pages.
    """
    from generator.starter import writer

    try:
        files = writer.site_files(example=example)
        writer.write_site(folder, files)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    what = "the example site" if example else "a new site"
    click.echo(f"Wrote {what} into {shown(folder)} ({len(files)} files).")
    click.echo("\nNext:")
    if folder.resolve() != Path.cwd():
        click.echo(f"  cd {shlex.quote(str(folder))}")
    for command, what in (
        (
            'memberkit members add you@example.com --name "Your Name"',
            "add a member: it prints a password to sign in with",
        ),
        (
            "memberkit serve",
            "preview on http://127.0.0.1:8000/ (with no member yet, a demo member's "
            "login is printed)",
        ),
        (
            "memberkit build",
            "publish: upload site/, or push to GitHub (.github/workflows/publish.yml)",
        ),
    ):
        click.echo(f"  {command}\n      {what}")
    click.echo(
        "\nBefore you publish, set site_url, site_name, price and checkout_url in mkdocs.yml: "
        "once site_url is your address, the build warns about each placeholder left."
    )
