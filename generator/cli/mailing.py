"""How commands send their emails (or write them, for a dry run), and who was reminded."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from generator.cli.context import Project
from generator.cli.options import shown, shown_place
from generator.errors import MemberkitError
from generator.members.store import StateStore


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
        from generator.members.addresses import same_address, shown_form
        from generator.members.mail import compose

        base = {
            "name": member.name,
            "email": shown_form(member.email),  # an international domain as people write it
            "site_name": self.project.site_name,
            "site_url": self.project.link_base(),
            "expires": member.expires or "no end date",
        }
        return compose(
            self.template,
            {**base, **values},
            sender=self.sender,
            to=same_address(member.email),  # its ASCII form: every mail server takes it
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


def prepare(
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


def deliver(
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
            click.echo(f"Wrote {shown(write_eml(mailing.folder, message)).rstrip(os.sep)}")
        return 0
    box = Outbox(mailing.project.store) if outbox else None
    failed = 0
    with Postman(mailing.server) as postman:
        for message in messages:
            email = recipient(message)
            try:
                if box:
                    box.put(message)
            except MemberkitError as error:  # not kept in the outbox: not sent either
                failed += 1
                click.secho(f"error: {email}: not sent: {error}", fg="red", err=True)
                continue
            try:
                postman.send(message)
            except MemberkitError as error:
                failed += 1
                kept = (
                    f"; it waits in {shown_place(box.where)} until "
                    f"'memberkit members resend {email}' sends it"
                    if box
                    else ""
                )
                click.secho(f"error: {email}: not sent: {error}{kept}", fg="red", err=True)
                continue
            try:
                if box:
                    box.discard(email)
            except MemberkitError as error:
                click.secho(
                    f"warning: {email}: sent, but left in the outbox ({error}); do not resend it",
                    fg="yellow",
                    err=True,
                )
            sent(email)
            click.echo(f"Sent the {mailing.kind} email to {email}")
    return failed


def finish(failed: int, what: str = "email") -> None:
    if failed:
        raise click.ClickException(f"{failed} {what}(s) not sent; see above")


class Reminders:
    """Who was reminded of which end date (reminders.json in the private state)."""

    FILE = "reminders.json"

    def __init__(self, keep: StateStore) -> None:
        self.store = keep
        try:
            data = json.loads(keep.read(self.FILE) or b"{}")
        except ValueError:
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
        self.store.change({self.FILE: (json.dumps(kept, indent=1, sort_keys=True) + "\n").encode()})
        self.told = kept
