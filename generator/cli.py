"""The `memberkit` command: thin click commands over the core and MkDocs."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import MemberkitError

# Material prints an end-of-life banner on every build that the owner cannot act
# on; the README explains the date and the plan instead.
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

F = TypeVar("F", bound=Callable[..., Any])


class _Echo(logging.Handler):
    """Prints a log record as `warning: …` / `error: …`, plain text at INFO."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            click.secho(f"error: {message}", fg="red", err=True)
        elif record.levelno >= logging.WARNING:
            click.secho(f"warning: {message}", fg="yellow", err=True)
        else:
            click.echo(message, err=True)


def config_option(func: F) -> F:
    return click.option(
        "-f",
        "--config-file",
        type=click.Path(dir_okay=False),
        default=None,
        help="The site's mkdocs.yml (default: ./mkdocs.yml).",
    )(func)


def site_dir_option(what: str) -> Callable[[F], F]:
    return click.option(
        "-d",
        "--site-dir",
        type=click.Path(file_okay=False),
        default=None,
        help=f"{what} (default: site_dir of mkdocs.yml, usually ./site).",
    )


def verbose_option(func: F) -> F:
    return click.option("-v", "--verbose", is_flag=True, help="Show every build message.")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="memberkit")
def cli() -> None:
    """Build and preview a members-only site from docs/, templates/ and snippets/."""


@cli.command()
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
    from .build import BuildFailed, build_site, console_logging

    with console_logging(_Echo(), logging.DEBUG if verbose else logging.WARNING):
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
        f"Built {result.pages} pages into {_shown(result.site_dir)} in {result.seconds:.1f} s"
    )


@cli.command()
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
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import Abort, ConfigurationError

    from .build import console_logging, find_config

    try:
        path = find_config(config_file)
        _demo_member(config_file, dev_addr)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if audience:
        from .plugin import PREVIEW_ENV

        os.environ[PREVIEW_ENV] = audience
        click.echo(f"Previewing the site as {audience!r} sees it.")
    with console_logging(_Echo(), logging.DEBUG if verbose else logging.INFO):
        try:
            mkdocs_serve(
                str(path),
                dev_addr=dev_addr,
                open_in_browser=open_in_browser,
            )
        except (Abort, ConfigurationError) as error:
            raise click.ClickException(f"preview stopped: {error}") from None
        except OSError as error:
            raise click.ClickException(
                f"cannot serve on {dev_addr}: {error.strerror}; pick another with --dev-addr"
            ) from None


@cli.command()
@config_option
@site_dir_option("The built site to check")
def check(config_file: str | None, site_dir: str | None) -> None:
    """Scan a built site for protected text and members' emails and names."""
    from .build import BuildFailed, check_site, console_logging

    with console_logging(_Echo(), logging.WARNING):
        try:
            target, leaks = check_site(config_file, site_dir=site_dir)
        except MemberkitError as error:
            raise click.ClickException(str(error)) from None
        except BuildFailed as error:
            raise click.ClickException(f"the sources do not build ({error})") from None
    for leak in leaks:
        click.secho(f"error: {_shown(target)}{leak}", fg="red", err=True)
    if leaks:
        raise click.ClickException(f"{len(leaks)} file(s) hold protected text; do not publish")
    click.echo(f"No protected text found in {_shown(target)}")


@cli.command()
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
    from .hosting import nginx_server

    folder = Path(site_dir) if site_dir else _site_dir(config_file)
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


@cli.command()
@config_option
def report(config_file: str | None) -> None:
    """Print what each tier gets and what is scheduled, to review before publishing.

    Reads mkdocs.yml and the front matter only: no build, no private state. Keep it in
    git to see what a change does: memberkit report > access.txt; git diff access.txt
    """
    from mkdocs.structure.files import get_files

    from .access import validate_tiers
    from .build import BuildFailed, console_logging, load_site_config
    from .documents.model import load_library
    from .report import page_line, render
    from .schedule import today

    with console_logging(_Echo(), logging.WARNING):
        try:
            path, config = load_site_config(config_file)
            plugin = config.plugins.get("memberkit")
            if plugin is None:
                raise MemberkitError(f"{path.name}: add '- memberkit' under plugins")
            settings = plugin.config
            tiers = validate_tiers(settings.tiers)
            docs = Path(config.docs_dir)
            pages = []
            for file in sorted(get_files(config), key=lambda f: f.src_uri):
                if (
                    not file.is_documentation_page()
                    or file.inclusion.is_excluded()
                    or file.abs_src_path is None
                ):
                    continue
                shown = f"{docs.name}/{file.src_uri}"
                try:
                    text = Path(file.abs_src_path).read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as error:
                    raise MemberkitError(f"cannot read the file: {error}", path=shown) from None
                pages.append(
                    page_line(
                        text,
                        file.src_uri,
                        path=shown,
                        tiers=tiers,
                        folder_defaults=settings.access,
                    )
                )
            folder = path.parent / settings.templates_dir
            templates, _ = (
                load_library(folder, tiers=tiers, default_access=settings.templates_access)
                if folder.is_dir()
                else ([], [])
            )
            text = render(pages, templates, tiers=tiers, today=today())
        except MemberkitError as error:
            raise click.ClickException(str(error)) from None
        except BuildFailed as error:
            raise click.ClickException(f"{_shown(config_file or 'mkdocs.yml')}: {error}") from None
    click.echo(text, nl=False)


def _site_dir(config_file: str | None) -> Path:
    from .build import BuildFailed, load_site_config

    try:
        return Path(load_site_config(config_file)[1].site_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    except BuildFailed as error:
        raise click.ClickException(f"mkdocs.yml: {error}") from None


# -- members -----------------------------------------------------------------


class Project:
    """What the member commands need from mkdocs.yml: tiers, site URL, the state folder."""

    def __init__(self, config_file: str | None) -> None:
        from .build import BuildFailed, load_site_config
        from .state import state_dir

        try:
            path, config = load_site_config(config_file)
        except BuildFailed as error:
            raise MemberkitError(f"mkdocs.yml: {error}") from None
        plugin = config.plugins.get("memberkit")
        if plugin is None:
            raise MemberkitError(f"{path.name}: add '- memberkit' under plugins")
        self.tiers: list[str] = list(plugin.config.tiers)
        self.site_url: str = config.site_url or ""
        self.state_dir = state_dir(path.parent)

    def link_base(self) -> str:
        return self.site_url or "http://127.0.0.1:8000/"


def _project(config_file: str | None) -> Project:
    try:
        return Project(config_file)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line: str = sys.stdin.readline()
    return line.rstrip("\r\n")


def _print_login(project: Project, email: str, password: str) -> None:
    from .members import login_link

    click.echo(f"  email:      {email}")
    click.echo(f"  password:   {password}")
    click.echo(f"  login link: {login_link(project.link_base(), email, password)}")
    if not project.site_url:
        click.echo("  (set site_url in mkdocs.yml to print links to the published site)")
    click.echo("Send these to the member now: the password is not stored and not shown again.")


@cli.group()
def members() -> None:
    """Add, list, remove and import members (kept in the private state, .memberkit/)."""


@members.command("add")
@config_option
@click.argument("email")
@click.option("--name", default="", help="The member's name, shown after sign-in.")
@click.option(
    "--tier", "tiers", multiple=True, help="Tier to grant (repeatable; default: the first tier)."
)
@click.option("--expires", metavar="YYYY-MM-DD", help="Last day of access (default: none).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of generating one.",
)
def members_add(
    config_file: str | None,
    email: str,
    name: str,
    tiers: tuple[str, ...],
    expires: str | None,
    password_stdin: bool,
) -> None:
    """Add a member and print their login once."""
    from . import state as private
    from .members import check_tiers

    project = _project(config_file)
    try:
        current, created = private.load_or_create(project.state_dir)
        granted = check_tiers(tiers or project.tiers[:1], project.tiers)
        password = _read_password(password_stdin) or private.generate_password()
        member = current.add(email, password, name=name, tiers=granted, expires=expires)
        private.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if created:
        click.echo(f"Created the private state in {_shown(project.state_dir)} (keep it out of git)")
    click.echo(f"Added {member.email} ({', '.join(member.tiers)}). Their login:")
    _print_login(project, member.email, password)


@members.command("reset")
@config_option
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def members_reset(config_file: str | None, email: str, password_stdin: bool) -> None:
    """Give a member a new password (the old one stops working at the next build)."""
    from . import state as private

    project = _project(config_file)
    try:
        current = private.load(project.state_dir)
        password = _read_password(password_stdin) or private.generate_password()
        member = current.reset(email, password)
        private.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"New password for {member.email}:")
    _print_login(project, member.email, password)


@members.command("remove")
@config_option
@click.argument("email")
def members_remove(config_file: str | None, email: str) -> None:
    """Remove a member and rotate the keys of every tier they held."""
    from . import state as private

    project = _project(config_file)
    try:
        current = private.load(project.state_dir)
        tiers = current.remove(email)
        private.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Removed {email}; new keys for {', '.join(tiers)}. Rebuild and publish the site "
        "to lock them out; other members sign in again once."
    )


@members.command("list")
@config_option
def members_list(config_file: str | None) -> None:
    """List members: email, name, tiers, expiry."""
    import datetime as dt

    from . import state as private

    project = _project(config_file)
    try:
        current = private.load(project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    today = dt.date.today()
    rows = sorted(current.members.values(), key=lambda m: m.email)
    for member in rows:
        status = " (expired)" if member.expired(today) else ""
        click.echo(
            f"{member.email:<32} {member.name:<24} {' '.join(member.tiers):<16} "
            f"{member.expires or '-'}{status}"
        )
    click.echo(f"{len(rows)} member(s)", err=True)


@members.command("export")
@config_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to a file instead of standard output.",
)
def members_export(config_file: str | None, output: str | None) -> None:
    """Export members as CSV (email, name, tier, expires): no passwords, no keys."""
    from . import state as private
    from .members import export_csv

    project = _project(config_file)
    try:
        text = export_csv(private.load(project.state_dir))
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if output:
        private.write_private(Path(output), text.encode())
    else:
        click.echo(text, nl=False)


@members.command("import")
@config_option
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--passwords-out",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where to write the new members' passwords and login links (CSV, owner-only).",
)
def members_import(config_file: str | None, csv_file: str, passwords_out: str) -> None:
    """Import members from a checkout's CSV export (email, name, tier, expires)."""
    import csv
    import io

    from . import state as private
    from .members import import_csv, login_link

    project = _project(config_file)
    out = Path(passwords_out)
    if out.exists():
        raise click.ClickException(
            f"{out} already exists; choose a new file so no earlier passwords are lost"
        )
    try:
        text = Path(csv_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{csv_file}: cannot read it ({error})") from None
    try:
        current, _ = private.load_or_create(project.state_dir)
        report = import_csv(
            current,
            text,
            known_tiers=project.tiers,
            progress=lambda email: click.echo(f"  deriving keys for {email}", err=True),
        )
        if report.added:
            table = io.StringIO()
            writer = csv.writer(table, lineterminator="\n")
            writer.writerow(["email", "password", "login_link"])
            for email, password in report.added:
                writer.writerow([email, password, login_link(project.link_base(), email, password)])
            private.write_private(out, table.getvalue().encode())
        if report.added or report.updated:
            private.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(f"{csv_file}: {error}") from None
    for problem in report.errors:
        click.secho(f"error: {csv_file}: {problem}", fg="red", err=True)
    click.echo(
        f"Imported {len(report.added)} new and {len(report.updated)} existing member(s)"
        + (f"; passwords in {out}" if report.added else "")
    )
    if report.errors:
        raise click.ClickException(
            f"{len(report.errors)} row(s) skipped; fix them and import again"
        )


DEMO_EMAIL = "demo@example.com"


def _demo_member(config_file: str | None, dev_addr: str) -> None:
    """First run: no roster yet, so create one with a demo member and print its login."""
    from . import state as private
    from .members import login_link

    project = Project(config_file)
    current, created = private.load_or_create(project.state_dir)
    if not created and current.members:
        return
    password = private.generate_password()
    current.add(DEMO_EMAIL, password, name="Demo Member", tiers=project.tiers, expires=None)
    private.save(current, project.state_dir)
    local = f"http://{dev_addr}/"
    click.echo(f"Created a demo member in {_shown(project.state_dir)} to try the members' area:")
    click.echo(f"  email:      {DEMO_EMAIL}")
    click.echo(f"  password:   {password}")
    click.echo(f"  login link: {login_link(local, DEMO_EMAIL, password)}")
    click.echo(f"Remove it before you publish: memberkit members remove {DEMO_EMAIL}")


def _shown(path: os.PathLike[str] | str) -> str:
    try:
        return os.path.relpath(path) + os.sep
    except ValueError:
        return str(path)


def main() -> None:  # pragma: no cover - `python -m generator`
    cli(prog_name="memberkit")


if __name__ == "__main__":  # pragma: no cover
    main()
