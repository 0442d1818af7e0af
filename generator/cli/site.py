"""The site's commands: build, serve (with a demo member on first run), check, nginx, report."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import click

from generator.cli.context import Project, site_dir_of
from generator.cli.options import (
    Echo,
    config_option,
    plugin_notes,
    shown,
    shown_place,
    site_dir_option,
    verbose_option,
)
from generator.errors import MemberkitError
from generator.members import checks


@click.command()
@config_option
@verbose_option
@site_dir_option("Where to put the site")
@click.option(
    "--strict/--no-strict",
    default=None,
    help="Treat warnings as errors (default: the 'strict' setting of mkdocs.yml).",
)
def build(
    config_file: str | None, verbose: bool, site_dir: str | None, strict: bool | None
) -> None:
    """Build the site into site/, replacing it only if the build succeeds."""
    from generator.engine.build import BuildFailed, build_site, console_logging

    with (
        console_logging(Echo(), logging.DEBUG if verbose else logging.WARNING),
        plugin_notes(verbose),
    ):
        try:
            result = build_site(config_file, site_dir=site_dir, strict=strict)
        except MemberkitError as error:
            raise click.ClickException(str(error)) from None
        except BuildFailed as error:
            # The reasons were printed as they were logged; add only the warning count.
            counted = re.match(r"Aborted with (.+) in strict mode", str(error))
            reason = f" ({counted.group(1)} in strict mode)" if counted else ""
            raise click.ClickException(
                f"build failed{reason}; the previous site was left unchanged"
            ) from None
    click.echo(
        f"Built {result.pages} pages into {shown(result.site_dir)} in {result.seconds:.1f} s"
    )


@click.command()
@config_option
@verbose_option
@click.option(
    "-a",
    "--dev-addr",
    default="127.0.0.1:8000",
    show_default=True,
    metavar="IP:PORT",
    help="Address to serve the preview on.",
)
@click.option("--open", "open_in_browser", is_flag=True, help="Open the preview in a browser.")
@click.option(
    "--as",
    "audience",
    metavar="public|TIER",
    help="Show what one audience sees: 'public' (a visitor) or a tier's members, "
    "without signing in.",
)
def serve(
    config_file: str | None,
    verbose: bool,
    dev_addr: str,
    open_in_browser: bool,
    audience: str | None,
) -> None:
    """Preview the site with live reload while you edit."""
    from generator.engine.build import BuildFailed, console_logging, find_config, serve_site

    try:
        path = find_config(config_file)
        demo_member(config_file, dev_addr)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if audience:
        from generator.engine.site import PREVIEW_ENV

        os.environ[PREVIEW_ENV] = audience
        click.echo(f"Previewing the site as {audience!r} sees it.")
    with console_logging(Echo(), logging.DEBUG if verbose else logging.INFO):
        try:
            serve_site(path, dev_addr=dev_addr, open_in_browser=open_in_browser)
        except BuildFailed as error:
            raise click.ClickException(f"preview stopped: {error}") from None
        except OSError as error:
            raise click.ClickException(
                f"cannot serve on {dev_addr}: {error.strerror}; pick another with --dev-addr"
            ) from None


@click.command()
@config_option
@site_dir_option("The built site to check")
def check(config_file: str | None, site_dir: str | None) -> None:
    """Scan a built site for protected text and members' emails and names."""
    from generator.engine.build import BuildFailed, check_site, console_logging

    with console_logging(Echo(), logging.WARNING):
        try:
            target, leaks = check_site(config_file, site_dir=site_dir)
        except MemberkitError as error:
            raise click.ClickException(str(error)) from None
        except BuildFailed as error:
            raise click.ClickException(f"the sources do not build ({error})") from None
    for leak in leaks:
        click.secho(f"error: {shown(target)}{leak}", fg="red", err=True)
    if leaks:
        raise click.ClickException(f"{len(leaks)} file(s) hold protected text; do not publish")
    click.echo(f"No protected text found in {shown(target)}")


@click.command()
@config_option
@site_dir_option("The built site")
@click.option("--root", help="The folder nginx serves from (default: the site folder).")
@click.option("--listen", default="80", show_default=True, help="nginx 'listen' value.")
@click.option("--server-name", default="_", show_default=True, help="nginx 'server_name'.")
def nginx(
    config_file: str | None,
    site_dir: str | None,
    root: str | None,
    listen: str,
    server_name: str,
) -> None:
    """Print an nginx server block for the built site, with its security headers."""
    from generator.publish.hosting import nginx_server

    folder = Path(site_dir) if site_dir else site_dir_of(config_file)
    headers = folder / "_headers"
    if not headers.is_file():
        raise click.ClickException(f"{headers}: not found; run 'memberkit build' first")
    try:
        block = nginx_server(
            headers.read_text(), str(Path(root or folder).resolve()), listen, server_name
        )
    except ValueError as error:
        raise click.ClickException(f"{headers}: {error}") from None
    click.echo(block, nl=False)


@click.command()
@config_option
def report(config_file: str | None) -> None:
    """Print what each tier gets and what is scheduled, to review before publishing.

    Reads mkdocs.yml and the front matter only: no build, no private state. Keep it in
    git to see what a change does: memberkit report > access.txt; git diff access.txt
    """
    from generator.content.access import validate_tiers
    from generator.content.schedule import today
    from generator.documents.model import load_library
    from generator.engine.build import (
        BuildFailed,
        console_logging,
        load_site_config,
        page_sources,
    )
    from generator.publish.report import page_line, render

    with console_logging(Echo(), logging.WARNING):
        try:
            path, config = load_site_config(config_file)
            plugin = config.plugins.get("memberkit")
            if plugin is None:
                raise MemberkitError(f"{path.name}: add '- memberkit' under plugins")
            settings = plugin.config
            tiers = validate_tiers(settings.tiers)
            docs = Path(config.docs_dir)
            pages = []
            for src_uri, source in page_sources(config):
                display = f"{docs.name}/{src_uri}"
                try:
                    text = source.read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as error:
                    raise MemberkitError(f"cannot read the file: {error}", path=display) from None
                pages.append(
                    page_line(
                        text,
                        src_uri,
                        path=display,
                        tiers=tiers,
                        folder_defaults=settings.access,
                    )
                )
            folder = path.parent / settings.templates_dir
            templates, _ = (
                load_library(
                    folder,
                    tiers=tiers,
                    default_access=settings.templates_access,
                    default_sample=settings.templates_sample,
                )
                if folder.is_dir()
                else ([], [])
            )
            text = render(pages, templates, tiers=tiers, today=today())
        except MemberkitError as error:
            raise click.ClickException(str(error)) from None
        except BuildFailed as error:
            raise click.ClickException(f"{shown(config_file or 'mkdocs.yml')}: {error}") from None
    click.echo(text, nl=False)


DEMO_EMAIL = "demo@example.com"


def demo_member(config_file: str | None, dev_addr: str) -> None:
    """First run: no roster yet, so create one with a demo member and print its login."""
    import datetime as dt

    from generator.members.roster import login_link

    project = Project(config_file)
    with project.store.locked():
        current, created = project.store.load_or_create()
        if not created and current.members:
            return
        password = checks.generate_password()
        current.add(
            DEMO_EMAIL,
            password,
            name="Demo Member",
            tiers=project.tiers,
            expires=None,
            generated=True,
        )
        secret, last_day = current.issue_link(DEMO_EMAIL, dt.date.today())
        project.store.save(current)
    local = f"http://{dev_addr}/"
    place = shown_place(project.store.label())
    click.echo(f"Created a demo member in {place} to try the members' area:")
    click.echo(f"  email:      {DEMO_EMAIL}")
    click.echo(f"  password:   {password}")
    click.echo(f"  login link: {login_link(local, DEMO_EMAIL, secret)} (until {last_day})")
    click.echo(f"Remove it before you publish: memberkit members remove {DEMO_EMAIL}")
