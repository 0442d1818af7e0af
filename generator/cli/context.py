"""What the member commands read from the site, and the files and progress they write."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import click

from generator.cli.options import shown_place
from generator.errors import MemberkitError
from generator.members import store
from generator.members.sealed import KEY_ENV
from generator.members.store import StateStore


def site_dir_of(config_file: str | None) -> Path:
    from generator.engine.build import BuildFailed, load_site_config

    try:
        return Path(load_site_config(config_file)[1].site_dir)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    except BuildFailed as error:
        raise click.ClickException(f"mkdocs.yml: {error}") from None


class Project:
    """What the member commands need from mkdocs.yml: tiers, site, sender, and where the
    private state is kept (`store`: its folder, or sealed in memberkit.state)."""

    def __init__(self, config_file: str | None) -> None:
        from generator.engine.build import BuildFailed, load_site_config
        from generator.members.keeping import locate

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
        self.checkout_api: str | None = plugin.config.checkout_api
        self.checkout_tiers: dict[str, str] = dict(plugin.config.checkout_tiers)
        self.config_name = path.name
        self.store = locate(path.parent)

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


def created_note(keep: StateStore) -> str:
    """What a command says when it made the private state."""
    if keep.is_sealed:
        return (
            f"Created the private state, sealed in {shown_place(keep.label())} (commit it; keep "
            f"{KEY_ENV} secret and backed up: nothing opens the state without it)"
        )
    return f"Created the private state in {shown_place(keep.label())} (keep it out of git)"


def open_project(config_file: str | None) -> Project:
    try:
        return Project(config_file)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None


def read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line: str = sys.stdin.readline()
    return line.rstrip("\r\n")


def print_login(project: Project, email: str, password: str, link: tuple[str, str]) -> None:
    from generator.members.addresses import shown_form

    secret, last_day = link
    readable = shown_form(email)
    click.echo(f"  email:      {email}" + (f" (or {readable})" if readable != email else ""))
    click.echo(f"  password:   {password}")
    click.echo(f"  login link: {project.login_link(email, secret)}")
    click.echo(f"  the link works until {last_day}, from the next build on")
    if not project.site_url:
        click.echo("  (set site_url in mkdocs.yml to print links to the published site)")
    click.echo("Send these to the member now: the password is not stored and not shown again.")


def check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise MemberkitError(
            f"{path}: the folder {path.parent} does not exist; create it or choose another"
        )


def write_file(path: Path, text: str) -> None:

    try:
        store.write_private(path, text.encode())
    except OSError as error:
        raise MemberkitError(f"{path}: cannot write it ({error.strerror})") from None


class Progress:
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
        eta = f", about {duration(left)} left" if done < total else ""
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
            f"{duration(time.monotonic() - self.started)} on {cores} core(s)",
            err=True,
        )


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
