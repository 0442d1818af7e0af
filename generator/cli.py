"""The `memberkit` command: thin click commands over the core and MkDocs."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def _plugin_notes(verbose: bool) -> Iterator[None]:
    """Also show the plugin's notes (a member dropped at expiry, a wait for the state's
    lock): INFO lines, which `memberkit build` otherwise hides with MkDocs' chatter.
    Not warnings, so that they never fail a strict build."""
    if verbose:  # everything is shown already
        yield
        return
    logger = logging.getLogger("mkdocs.plugins.memberkit")
    handler = _Echo(logging.INFO)
    handler.addFilter(lambda record: record.levelno < logging.WARNING)
    saved = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


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

    with (
        console_logging(_Echo(), logging.DEBUG if verbose else logging.WARNING),
        _plugin_notes(verbose),
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
    """What the member commands need from mkdocs.yml: tiers, site, the state folder."""

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
        self.root = path.parent
        self.tiers: list[str] = list(plugin.config.tiers)
        self.site_url: str = config.site_url or ""
        self.site_name: str = config.site_name
        self.state_dir = state_dir(path.parent)

    def link_base(self) -> str:
        return self.site_url or "http://127.0.0.1:8000/"

    def login_link(self, email: str, password: str) -> str:
        from .members import login_link

        return login_link(self.link_base(), email, password)


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
    click.echo(f"  email:      {email}")
    click.echo(f"  password:   {password}")
    click.echo(f"  login link: {project.login_link(email, password)}")
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
@click.option(
    "--expires", metavar="YYYY-MM-DD", help="Last day of access, today or later (default: none)."
)
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
    import datetime as dt

    from . import state as private
    from .members import check_tiers

    project = _project(config_file)
    try:
        granted = check_tiers(tiers or project.tiers[:1], project.tiers)
        private.check_expiry(expires, dt.date.today())
        chosen = _read_password(password_stdin)
        password = chosen or private.generate_password()
        with private.locked(project.state_dir):
            current, created = private.load_or_create(project.state_dir)
            member = current.add(
                email, password, name=name, tiers=granted, expires=expires, generated=not chosen
            )
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
    """Give a member a new password, and the tiers they hold new keys.

    After the next build, the old password, and any browser still signed in with it,
    open nothing published from then on; other members of those tiers sign in again once.
    """
    from . import state as private

    project = _project(config_file)
    try:
        chosen = _read_password(password_stdin)
        password = chosen or private.generate_password()
        with private.locked(project.state_dir):
            current = private.load(project.state_dir)
            member = current.reset(email, password, generated=not chosen)
            private.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"New password for {member.email}, and new keys for {', '.join(member.tiers)}: "
        "rebuild and publish the site, and the old password and any browser signed in "
        "with it open nothing new (other members sign in again once). Their login:"
    )
    _print_login(project, member.email, password)


@members.command("remove")
@config_option
@click.argument("email")
def members_remove(config_file: str | None, email: str) -> None:
    """Remove a member and rotate the keys of every tier they held."""
    from . import state as private

    project = _project(config_file)
    try:
        with private.locked(project.state_dir):
            current = private.load(project.state_dir)
            gone = current.member(email).email
            tiers = current.remove(email)
            private.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Removed {gone}; new keys for {', '.join(tiers)}. Rebuild and publish the site "
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
    """Export members as CSV (email, name, tier, expires): no passwords, no keys.

    A cell that starts with =, +, -, @, a tab or a carriage return gets a ' before it,
    so that a spreadsheet shows it as text instead of running it as a formula.
    """
    from . import state as private
    from .members import export_csv

    project = _project(config_file)
    try:
        if output:
            _check_folder(Path(output))
        text = export_csv(private.load(project.state_dir))
        if output:
            _write(Path(output), text)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if not output:
        click.echo(text, nl=False)


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise MemberkitError(
            f"{path}: the folder {path.parent} does not exist; create it or choose another"
        )


def _write(path: Path, text: str) -> None:
    from . import state as private

    try:
        private.write_private(path, text.encode())
    except OSError as error:
        raise MemberkitError(f"{path}: cannot write it ({error.strerror})") from None


class _Progress:
    """Key derivation's progress on stderr: a counter that updates in place on a
    terminal (every 1% or every second); elsewhere only the final line."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.shown = (-1, 0.0)  # the percentage shown last, and when
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done == 0:
            self.started, self.total = now, total
            return
        if not self.tty:
            return
        percent = done * 100 // total
        if percent == self.shown[0] and now - self.shown[1] < 1 and done < total:
            return
        left = (now - self.started) / done * (total - done)
        eta = f", about {_duration(left)} left" if done < total else ""
        click.echo(
            f"\r  deriving keys: {done:,}/{total:,} ({percent}%{eta})\033[K", err=True, nl=False
        )
        self.shown = (percent, now)

    def finish(self) -> None:
        if not self.total:
            return
        if self.tty:
            click.echo("", err=True)
        cores = os.cpu_count() or 1
        click.echo(
            f"Derived the keys of {self.total:,} new member(s) in "
            f"{_duration(time.monotonic() - self.started)} on {cores} core(s)",
            err=True,
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


@members.command("import")
@config_option
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--passwords-out",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where to write the new members' passwords and login links (CSV, owner-only).",
)
@click.option(
    "--columns",
    metavar="FIELD=Header,...",
    help="Which columns hold what, for a CSV memberkit does not recognise, e.g. "
    "'email=Customer Email,name=Full Name,expires=Renews On' (header names, any case).",
)
@click.option(
    "--tier",
    "tiers",
    multiple=True,
    help="Give every imported member this tier (repeatable; default: the row's tier, "
    "else the first tier).",
)
def members_import(
    config_file: str | None,
    csv_file: str,
    passwords_out: str,
    columns: str | None,
    tiers: tuple[str, ...],
) -> None:
    """Import members from a checkout's CSV export: Stripe, Lemon Squeezy, Gumroad,
    Payhip, memberkit's own format (email, name, tier, expires), or --columns."""
    from . import state as private
    from .checkout import parse_columns
    from .members import check_tiers, import_csv, passwords_csv

    project = _project(config_file)
    out = Path(passwords_out)
    if out.exists():
        raise click.ClickException(
            f"{out} already exists; choose a new file so no earlier passwords are lost"
        )
    try:
        _check_folder(out)
        mapping = parse_columns(columns) if columns else None
        check_tiers(tiers, project.tiers)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    try:
        text = Path(csv_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{csv_file}: cannot read it ({error})") from None
    progress = _Progress()
    try:
        with private.locked(project.state_dir):
            current, _ = private.load_or_create(project.state_dir)
            report = import_csv(
                current,
                text,
                known_tiers=project.tiers,
                extra_tiers=tiers,
                columns=mapping,
                progress=progress,
            )
            progress.finish()
            # The passwords first: if they cannot be written, the roster stays as it was
            # and no member is left with a password nobody knows.
            if report.added:
                logins = [(e, p, project.login_link(e, p)) for e, p in report.added]
                _write(out, passwords_csv(logins))
            if report.added or report.updated:
                try:
                    private.save(current, project.state_dir)
                except BaseException:
                    out.unlink(missing_ok=True)  # its passwords open nothing
                    raise
    except MemberkitError as error:
        raise click.ClickException(f"{csv_file}: {error}") from None
    for note in report.notes:
        click.echo(f"note: {csv_file}: {note}", err=True)
    for problem in report.errors:
        click.secho(f"error: {csv_file}: {problem}", fg="red", err=True)
    click.echo(
        f"Read {report.source}. Imported {len(report.added)} new and "
        f"{len(report.updated)} existing member(s)"
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
    with private.locked(project.state_dir):
        current, created = private.load_or_create(project.state_dir)
        if not created and current.members:
            return
        password = private.generate_password()
        current.add(
            DEMO_EMAIL,
            password,
            name="Demo Member",
            tiers=project.tiers,
            expires=None,
            generated=True,
        )
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
