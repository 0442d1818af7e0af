"""The `memberkit` command: thin click commands over the core and MkDocs."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from generator import __version__
from generator.errors import MemberkitError
from generator.members import checks, store

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
    from generator.engine.build import BuildFailed, build_site, console_logging

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

    from generator.engine.build import console_logging, find_config

    try:
        path = find_config(config_file)
        _demo_member(config_file, dev_addr)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if audience:
        from generator.engine.plugin import PREVIEW_ENV

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
    from generator.engine.build import BuildFailed, check_site, console_logging

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
    from generator.publish.hosting import nginx_server

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

    from generator.content.access import validate_tiers
    from generator.content.schedule import today
    from generator.documents.model import load_library
    from generator.engine.build import BuildFailed, console_logging, load_site_config
    from generator.publish.report import page_line, render

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
    from generator.engine.build import BuildFailed, load_site_config

    try:
        return Path(load_site_config(config_file)[1].site_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    except BuildFailed as error:
        raise click.ClickException(f"mkdocs.yml: {error}") from None


# -- members -----------------------------------------------------------------


class Project:
    """What the member commands need from mkdocs.yml: tiers, site, sender, the state folder."""

    def __init__(self, config_file: str | None) -> None:
        from generator.engine.build import BuildFailed, load_site_config
        from generator.members.store import state_dir

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
        self.mail_from: str = plugin.config.mail_from
        self.join: str = plugin.config.join_url
        self.state_dir = state_dir(path.parent)

    def link_base(self) -> str:
        return self.site_url or "http://127.0.0.1:8000/"

    def login_link(self, email: str, secret: str) -> str:
        from generator.members.roster import login_link

        return login_link(self.link_base(), email, secret)

    def join_url(self) -> str:
        """join_url of mkdocs.yml as an address: a checkout link, or the join page."""
        if re.match(r"^[a-z][a-z0-9+.-]*:", self.join):
            return self.join
        page = re.sub(r"(^|/)index$", "", self.join.strip("/").removesuffix(".md"))
        base = self.link_base().rstrip("/") + "/"
        return base + (page + "/" if page else "")


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


def _print_login(project: Project, email: str, password: str, link: tuple[str, str]) -> None:
    secret, last_day = link
    click.echo(f"  email:      {email}")
    click.echo(f"  password:   {password}")
    click.echo(f"  login link: {project.login_link(email, secret)}")
    click.echo(f"  the link works until {last_day}, from the next build on")
    if not project.site_url:
        click.echo("  (set site_url in mkdocs.yml to print links to the published site)")
    click.echo("Send these to the member now: the password is not stored and not shown again.")


def link_days_option(func: F) -> F:
    from generator.members.state import LINK_DAYS

    return click.option(
        "--link-days",
        default=LINK_DAYS,
        show_default=True,
        type=click.IntRange(1, 366),
        metavar="N",
        help="How many days the login link works (the password keeps working).",
    )(func)


def mail_options(func: F) -> F:
    func = click.option(
        "--dry-run",
        metavar="FOLDER",
        type=click.Path(file_okay=False),
        help="Write the emails as .eml files into FOLDER instead of sending them.",
    )(func)
    return click.option(
        "--send",
        is_flag=True,
        help="Email each member their login (server: MEMBERKIT_SMTP; template: emails/welcome.md).",
    )(func)


@dataclass
class Mailing:
    """How a command delivers its emails: sent through the server, or written as files."""

    project: Project
    kind: str  # "welcome" or "reminder"
    sender: str
    template: Any = None  # mail.Template; None when resending ready messages
    server: Any = None  # mail.Server; None for a dry run
    folder: Path | None = None  # the dry run's folder

    def compose(self, member: Any, values: dict[str, str]) -> Any:
        from generator.members.mail import compose

        base = {
            "name": member.name,
            "email": member.email,
            "site_name": self.project.site_name,
            "site_url": self.project.link_base(),
            "expires": member.expires or "no end date",
        }
        return compose(
            self.template,
            {**base, **values},
            sender=self.sender,
            to=member.email,
            name=member.name,
        )

    def welcome(self, member: Any, password: str, link: tuple[str, str]) -> Any:
        secret, last_day = link
        values = {
            "password": password,
            "login_link": self.project.login_link(member.email, secret),
            "link_expires": last_day,
        }
        return self.compose(member, values)


def _mailing(
    project: Project, kind: str, send: bool, dry_run: str | None, *, template: bool = True
) -> Mailing | None:
    """Check everything sending needs before the roster changes: nothing half-done."""
    from generator.members import mail

    if not send and not dry_run:
        return None
    loaded = mail.Template.load(project.root, kind) if template else None
    if dry_run:
        folder = Path(dry_run)
        if not folder.parent.is_dir():
            raise MemberkitError(f"--dry-run {dry_run}: the folder {folder.parent} does not exist")
        folder.mkdir(mode=0o700, exist_ok=True)
        configured = project.mail_from or os.environ.get(mail.FROM_ENV, "")
        sender = mail.sender(configured or f"{project.site_name} <owner@example.invalid>")
        return Mailing(project, kind, sender, loaded, folder=folder)
    return Mailing(project, kind, mail.sender(project.mail_from), loaded, mail.Server.from_env())


def _deliver(
    mailing: Mailing,
    messages: list[Any],
    *,
    outbox: bool,
    sent: Callable[[str], None] = lambda email: None,
) -> int:
    """Send (or write) each message; report each failure. Returns how many failed.

    A welcome (`outbox`) is put in the outbox before it is sent and taken out once
    the server has it: a failure loses nothing, `memberkit members resend` retries.
    """
    from generator.members.mail import Outbox, Postman, recipient, write_eml

    if mailing.folder is not None:
        for message in messages:
            click.echo(f"Wrote {_shown(write_eml(mailing.folder, message)).rstrip(os.sep)}")
        return 0
    box = Outbox(mailing.project.state_dir) if outbox else None
    failed = 0
    with Postman(mailing.server) as postman:
        for message in messages:
            email = recipient(message)
            if box:
                box.put(message)
            try:
                postman.send(message)
            except MemberkitError as error:
                failed += 1
                kept = (
                    f"; it waits in {_shown(box.folder)} until "
                    f"'memberkit members resend {email}' sends it"
                    if box
                    else ""
                )
                click.secho(f"error: {email}: not sent: {error}{kept}", fg="red", err=True)
                continue
            if box:
                box.discard(email)
            sent(email)
            click.echo(f"Sent the {mailing.kind} email to {email}")
    return failed


def _finish(failed: int, what: str = "email") -> None:
    if failed:
        raise click.ClickException(f"{failed} {what}(s) not sent; see above")


@cli.group()
def members() -> None:
    """Add, list, remove, import and email members (kept in the private state, .memberkit/)."""


@members.command("add")
@config_option
@click.argument("email")
@click.option("--name", default="", help="The member's name, shown after sign-in.")
@click.option(
    "--tier",
    "tiers",
    multiple=True,
    metavar="TIER",
    help="Tier to grant (repeatable; default: the first tier).",
)
@click.option(
    "--expires", metavar="YYYY-MM-DD", help="Last day of access, today or later (default: none)."
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of generating one.",
)
@link_days_option
@mail_options
def members_add(
    config_file: str | None,
    email: str,
    name: str,
    tiers: tuple[str, ...],
    expires: str | None,
    password_stdin: bool,
    link_days: int,
    send: bool,
    dry_run: str | None,
) -> None:
    """Add a member and print their login once (--send also emails it to them)."""
    import datetime as dt

    from generator.members import checks, store
    from generator.members.roster import check_tiers

    project = _project(config_file)
    try:
        mailing = _mailing(project, "welcome", send, dry_run)
        granted = check_tiers(tiers or project.tiers[:1], project.tiers)
        today = dt.date.today()
        checks.check_expiry(expires, today)
        chosen = _read_password(password_stdin)
        password = chosen or checks.generate_password()
        with store.locked(project.state_dir):
            current, created = store.load_or_create(project.state_dir)
            member = current.add(
                email, password, name=name, tiers=granted, expires=expires, generated=not chosen
            )
            link = current.issue_link(member.email, today, link_days)
            store.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if created:
        click.echo(f"Created the private state in {_shown(project.state_dir)} (keep it out of git)")
    click.echo(f"Added {member.email} ({', '.join(member.tiers)}). Their login:")
    _print_login(project, member.email, password, link)
    if mailing:
        _finish(_deliver(mailing, [mailing.welcome(member, password, link)], outbox=True))


@members.command("reset")
@config_option
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@link_days_option
@mail_options
def members_reset(
    config_file: str | None,
    email: str,
    password_stdin: bool,
    link_days: int,
    send: bool,
    dry_run: str | None,
) -> None:
    """Give a member a new password and login link, and the tiers they hold new keys.

    After the next build, the old password and link, and any browser still signed in
    with them, open nothing published from then on; other members read on.
    """
    import datetime as dt

    from generator.members.mail import Outbox

    project = _project(config_file)
    try:
        mailing = _mailing(project, "welcome", send, dry_run)
        chosen = _read_password(password_stdin)
        password = chosen or checks.generate_password()
        with store.locked(project.state_dir):
            current = store.load(project.state_dir)
            member = current.reset(email, password, generated=not chosen)
            link = current.issue_link(member.email, dt.date.today(), link_days)
            store.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    Outbox(project.state_dir).discard(member.email)  # an unsent welcome holds the old one
    click.echo(
        f"New password and login link for {member.email}, and new keys for "
        f"{', '.join(member.tiers)}: rebuild and publish the site, and the old password, "
        "the old link and any browser signed in with them open nothing new (other members "
        "read on). Their login:"
    )
    _print_login(project, member.email, password, link)
    if mailing:
        _finish(_deliver(mailing, [mailing.welcome(member, password, link)], outbox=True))


@members.command("remove")
@config_option
@click.argument("email")
def members_remove(config_file: str | None, email: str) -> None:
    """Remove a member and rotate the keys of every tier they held."""
    from generator.members.mail import Outbox

    project = _project(config_file)
    try:
        with store.locked(project.state_dir):
            current = store.load(project.state_dir)
            gone = current.member(email).email
            tiers = current.remove(email)
            store.save(current, project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    Outbox(project.state_dir).discard(gone)
    click.echo(
        f"Removed {gone}; new keys for {', '.join(tiers)}. Rebuild and publish the site "
        "to lock them out; other members read on."
    )


@members.command("list")
@config_option
def members_list(config_file: str | None) -> None:
    """List members: email, name, tiers, expiry."""
    import datetime as dt

    project = _project(config_file)
    try:
        current = store.load(project.state_dir)
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
    from generator.members.roster import export_csv

    project = _project(config_file)
    try:
        if output:
            _check_folder(Path(output))
        text = export_csv(store.load(project.state_dir))
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

    try:
        store.write_private(path, text.encode())
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
    metavar="TIER",
    help="Give every imported member this tier (repeatable; default: the row's tier, "
    "else the first tier).",
)
@link_days_option
@mail_options
def members_import(
    config_file: str | None,
    csv_file: str,
    passwords_out: str,
    columns: str | None,
    tiers: tuple[str, ...],
    link_days: int,
    send: bool,
    dry_run: str | None,
) -> None:
    """Import members from a checkout's CSV export: Stripe, Lemon Squeezy, Gumroad,
    Payhip, memberkit's own format (email, name, tier, expires), or --columns."""
    from generator.members.checkout import parse_columns
    from generator.members.roster import check_tiers, import_csv, passwords_csv

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
        mailing = _mailing(project, "welcome", send, dry_run)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    try:
        text = Path(csv_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{csv_file}: cannot read it ({error})") from None
    progress = _Progress()
    try:
        with store.locked(project.state_dir):
            current, _ = store.load_or_create(project.state_dir)
            report = import_csv(
                current,
                text,
                known_tiers=project.tiers,
                extra_tiers=tiers,
                columns=mapping,
                progress=progress,
                link_days=link_days,
            )
            progress.finish()
            # The passwords first: if they cannot be written, the roster stays as it was
            # and no member is left with a password nobody knows.
            if report.added:
                logins = []
                for email, password in report.added:
                    secret, last_day = report.links[email]
                    logins.append((email, password, project.login_link(email, secret), last_day))
                _write(out, passwords_csv(logins))
            if report.added or report.updated:
                try:
                    store.save(current, project.state_dir)
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
    failed = 0
    if mailing and report.added:
        letters = [mailing.welcome(current.members[e], p, report.links[e]) for e, p in report.added]
        failed = _deliver(mailing, letters, outbox=True)
    if report.errors:
        raise click.ClickException(
            f"{len(report.errors)} row(s) skipped; fix them and import again"
            + (f"; {failed} email(s) not sent" if failed else "")
        )
    _finish(failed)


@members.command("resend")
@config_option
@click.argument("emails", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="Every email waiting in the outbox.")
@click.option(
    "--dry-run",
    metavar="FOLDER",
    type=click.Path(file_okay=False),
    help="Write the emails as .eml files into FOLDER instead of sending them.",
)
def members_resend(
    config_file: str | None, emails: tuple[str, ...], everyone: bool, dry_run: str | None
) -> None:
    """Send the welcome emails that could not be sent (they wait in the outbox).

    memberkit keeps no password: a member whose welcome has left the outbox gets a new
    one with 'memberkit members reset EMAIL --send'.
    """
    from generator.members.mail import Outbox
    from generator.protection import mk1

    project = _project(config_file)
    box = Outbox(project.state_dir)
    if not emails and not everyone:
        raise click.UsageError("name the members' emails, or --all")
    wanted = box.waiting() if everyone else [mk1.normalize_email(e) for e in emails]
    if not wanted:
        click.echo("The outbox is empty: every welcome email has been sent.")
        return
    try:
        mailing = _mailing(project, "welcome", True, dry_run, template=False)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    assert mailing is not None
    messages, missing = [], []
    for email in wanted:
        message = box.get(email)
        if message is None:
            missing.append(email)
            click.secho(
                f"error: {email}: no unsent welcome email in the outbox; memberkit keeps no "
                f"password, so 'memberkit members reset {email} --send' gives them a new one "
                "and sends it",
                fg="red",
                err=True,
            )
        else:
            messages.append(message)
    failed = _deliver(mailing, messages, outbox=True) if messages else 0
    _finish(failed + len(missing))


@members.command("remind")
@config_option
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=click.IntRange(0, 366),
    help="Remind members whose access ends within this many days.",
)
@click.option(
    "--again", is_flag=True, help="Remind also members already reminded of the same end date."
)
@mail_options
def members_remind(
    config_file: str | None, days: int, again: bool, send: bool, dry_run: str | None
) -> None:
    """List, or email (--send), members whose membership ends within --days days.

    The message is emails/reminder.md. Each member is reminded once for an end date:
    running this every day reminds nobody twice (--again does).
    """
    import datetime as dt

    project = _project(config_file)
    today = dt.date.today()
    try:
        mailing = _mailing(project, "reminder", send, dry_run)
        current = store.load(project.state_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    due = [
        m
        for m in sorted(current.members.values(), key=lambda m: (m.expires or "", m.email))
        if m.expires and today <= dt.date.fromisoformat(m.expires) <= today + dt.timedelta(days)
    ]
    reminded = _Reminders(project.state_dir)
    todo = [m for m in due if again or reminded.get(m.email) != m.expires]
    if mailing is None:
        for member in due:
            left = (dt.date.fromisoformat(member.expires or "") - today).days
            done = " (reminded)" if reminded.get(member.email) == member.expires else ""
            click.echo(f"{member.email:<32} ends {member.expires} (in {left} day(s)){done}")
        click.echo(
            f"{len(due)} member(s) end within {days} day(s); {len(todo)} not yet reminded. "
            "Email them with --send, or preview with --dry-run FOLDER.",
            err=True,
        )
        return
    letters = [mailing.compose(m, {"join_url": project.join_url()}) for m in todo]
    sent: dict[str, str] = {}
    failed = _deliver(
        mailing,
        letters,
        outbox=False,
        sent=lambda email: sent.update({email: current.members[email].expires or ""}),
    )
    if sent:
        with store.locked(project.state_dir):
            reminded.record(sent, current.members)
    if not todo:
        click.echo(f"Nobody to remind: {len(due)} member(s) end within {days} day(s), all told.")
    _finish(failed)


class _Reminders:
    """Who was reminded of which end date (reminders.json in the state folder)."""

    FILE = "reminders.json"

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / self.FILE
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        self.told: dict[str, str] = (
            {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
            if isinstance(data, dict)
            else {}
        )

    def get(self, email: str) -> str | None:
        return self.told.get(email)

    def record(self, sent: dict[str, str], members: Any) -> None:

        told = {**self.told, **sent}
        kept = {email: day for email, day in told.items() if email in members}
        store.write_private(self.path, (json.dumps(kept, indent=1, sort_keys=True) + "\n").encode())
        self.told = kept


DEMO_EMAIL = "demo@example.com"


def _demo_member(config_file: str | None, dev_addr: str) -> None:
    """First run: no roster yet, so create one with a demo member and print its login."""
    import datetime as dt

    from generator.members.roster import login_link

    project = Project(config_file)
    with store.locked(project.state_dir):
        current, created = store.load_or_create(project.state_dir)
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
        store.save(current, project.state_dir)
    local = f"http://{dev_addr}/"
    click.echo(f"Created a demo member in {_shown(project.state_dir)} to try the members' area:")
    click.echo(f"  email:      {DEMO_EMAIL}")
    click.echo(f"  password:   {password}")
    click.echo(f"  login link: {login_link(local, DEMO_EMAIL, secret)} (until {last_day})")
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
