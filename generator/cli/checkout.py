"""`memberkit members sync`: the checkout's buyers into the roster, with their welcomes.

The reading is `members.stripe_checkout` or `members.lemonsqueezy_checkout`, applying
it `members.sync`; this command finds the key and the settings, holds the state's lock
from reading to writing, writes the roster, the ledger and each new member's welcome in
one change of the state, then sends those welcomes (--send) or leaves them in the
outbox for `memberkit members resend --all`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from generator.cli.context import Project, created_note, open_project
from generator.cli.mailing import Mailing, deliver, finish, prepare
from generator.cli.options import config_option, link_days_option, mail_options, shown_place
from generator.errors import MemberkitError

if TYPE_CHECKING:
    from generator.members.sync import Reader

KEY_ENV = "MEMBERKIT_CHECKOUT_KEY"
API_ENV = "MEMBERKIT_CHECKOUT_API"


@click.command("sync")
@config_option
@link_days_option
@mail_options
def sync(config_file: str | None, link_days: int, send: bool, dry_run: str | None) -> None:
    """Bring the roster up to date with the checkout (checkout_api in mkdocs.yml).

    New buyers become members, each with a password and a login link whose welcome
    waits in the outbox (--send sends it now); refunds, lost disputes and ended
    subscriptions take away what their purchase gave; a subscription set to cancel
    gives its last day. Reads only: the key in MEMBERKIT_CHECKOUT_KEY may be read-only.
    Running it again with nothing new changes nothing and sends nothing.
    """
    from generator.members import mail, store
    from generator.members.purchases import Ledger
    from generator.members.sync import CHECKOUT_NAMES, admit, apply

    project = open_project(config_file)
    today = dt.date.today()
    try:
        checkout = open_checkout(project)
        name = CHECKOUT_NAMES[checkout.name]
        mailing = prepare(project, "welcome", send, dry_run)
        with project.store.locked():
            current, created = project.store.load_or_create()
            ledger = current.sync
            notes = []
            if ledger is None or ledger.checkout != checkout.name:
                if ledger is not None:
                    notes.append(
                        f"the state was synced with {CHECKOUT_NAMES[ledger.checkout]} before; "
                        f"{name} is read from its beginning"
                    )
                ledger = Ledger(checkout.name)
            before = current.to_json()
            reading = checkout.read(ledger)
            notes.extend(reading.notes)
            outcome = apply(current, ledger, reading, today)
            current.sync = ledger
            added = admit(current, list(outcome.joiners.values()), today, link_days=link_days)
            letters = []
            if added:
                writer = mailing or _queueing(project)
                letters = [writer.welcome(a.member, a.password, a.link) for a in added]
            changes: dict[str, bytes | None] = {}
            if current.to_json() != before:
                changes[store.STATE_FILE] = current.to_json().encode()
            for email in outcome.removed:  # a welcome not sent yet opens nothing now
                if project.store.read(mail.outbox_file(email)) is not None:
                    changes[mail.outbox_file(email)] = None
            for letter in letters:
                changes[mail.outbox_file(mail.recipient(letter))] = letter.as_bytes()
            if changes and not dry_run:
                project.store.change(changes)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    for note in notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    if created and changes and not dry_run:
        click.echo(created_note(project.store))
    for line in outcome.said:
        click.echo(f"  {line}")
    for one in added:
        click.echo(f"  {one.member.email}: joins ({', '.join(one.member.tiers)})")
    summary = (
        f"{len(added)} new member(s), {len(outcome.removed)} removed, "
        f"{len(outcome.said) - len(outcome.removed)} other change(s)"
    )
    if not outcome.changed:
        summary = "nothing new"
    prefix = "Dry run: would have synced" if dry_run else "Synced"
    click.echo(f"{prefix} with {name}: {summary}.")
    if dry_run and mailing:
        deliver(mailing, letters, outbox=False)
        return
    if not letters:
        return
    if mailing is None:
        click.echo(
            f"{len(letters)} welcome email(s) wait in "
            f"{shown_place(project.store.label(mail.OUTBOX_DIR + '/'))}: "
            "'memberkit members resend --all' sends them (or sync with --send)"
        )
        return
    finish(deliver(mailing, letters, outbox=True))


def _queueing(project: Project) -> Mailing:
    """How welcomes are written when they are not sent now: as they will go out later,
    from the sender of mkdocs.yml or MEMBERKIT_MAIL_FROM."""
    from generator.members import mail

    return Mailing(
        project,
        "welcome",
        mail.sender(project.mail_from),
        mail.Template.load(project.root, "welcome"),
    )


def open_checkout(project: Project, environ: Mapping[str, str] = os.environ) -> Reader:
    """The reader of the checkout mkdocs.yml names, with its key and address."""
    if not project.checkout_api:
        raise MemberkitError(
            f"{project.config_name}: set checkout_api under plugins.memberkit to stripe or "
            "lemonsqueezy to sync members from your checkout"
        )
    if not project.tiers:
        raise MemberkitError(f"{project.config_name}: tiers is empty; name at least one tier")
    for ident, tier in project.checkout_tiers.items():
        if tier not in project.tiers:
            raise MemberkitError(
                f"{project.config_name}: checkout_tiers gives {ident!r} the tier {tier!r}, "
                f"which is not one of tiers ({', '.join(project.tiers)})"
            )
    key = environ.get(KEY_ENV, "").strip()
    if not key:
        raise MemberkitError(
            f"set {KEY_ENV} to your checkout's API key (see the README, 'Buyers in on their "
            "own': a restricted, read-only key is enough)"
        )
    base = environ.get(API_ENV, "").strip() or None
    if base is not None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MemberkitError(f"{API_ENV} must be an http:// or https:// address, not {base!r}")
    if project.checkout_api == "stripe":
        from generator.members.stripe_checkout import StripeCheckout

        return StripeCheckout(key, base, project.checkout_tiers, project.tiers[0])
    from generator.members.lemonsqueezy_checkout import LemonSqueezyCheckout

    return LemonSqueezyCheckout(key, base, project.checkout_tiers, project.tiers[0])
