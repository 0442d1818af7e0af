"""`memberkit members`: add, reset, remove, list, export, import and email members.

Eight commands of one group, each thin (what they share is in `context` and
`mailing`): the group's length is its number of commands and their help texts.
"""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli import context
from generator.cli.context import (
    Progress,
    check_folder,
    created_note,
    open_project,
    print_login,
    read_password,
)
from generator.cli.mailing import Reminders, deliver, finish, prepare
from generator.cli.options import config_option, link_days_option, mail_options
from generator.errors import MemberkitError
from generator.members import checks


@click.group()
def members() -> None:
    """Add, list, remove, import, sync from the checkout and email members (kept in the
    private state: .memberkit/, or sealed in memberkit.state)."""


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

    from generator.members.roster import check_tiers

    project = open_project(config_file)
    try:
        mailing = prepare(project, "welcome", send, dry_run)
        granted = check_tiers(tiers or project.tiers[:1], project.tiers)
        today = dt.date.today()
        checks.check_expiry(expires, today)
        chosen = read_password(password_stdin)
        password = chosen or checks.generate_password()
        with project.store.locked():
            current, created = project.store.load_or_create()
            member = current.add(
                email, password, name=name, tiers=granted, expires=expires, generated=not chosen
            )
            link = current.issue_link(member.email, today, link_days)
            project.store.save(current)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if created:
        click.echo(created_note(project.store))
    click.echo(f"Added {member.email} ({', '.join(member.tiers)}). Their login:")
    print_login(project, member.email, password, link)
    if mailing:
        finish(deliver(mailing, [mailing.welcome(member, password, link)], outbox=True))


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

    project = open_project(config_file)
    try:
        mailing = prepare(project, "welcome", send, dry_run)
        chosen = read_password(password_stdin)
        password = chosen or checks.generate_password()
        with project.store.locked():
            current = project.store.load()
            member = current.reset(email, password, generated=not chosen)
            link = current.issue_link(member.email, dt.date.today(), link_days)
            project.store.save(current)
            Outbox(project.store).discard(member.email)  # an unsent welcome holds the old one
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"New password and login link for {member.email}, and new keys for "
        f"{', '.join(member.tiers)}: rebuild and publish the site, and the old password, "
        "the old link and any browser signed in with them open nothing new (other members "
        "read on). Their login:"
    )
    print_login(project, member.email, password, link)
    if mailing:
        finish(deliver(mailing, [mailing.welcome(member, password, link)], outbox=True))


@members.command("remove")
@config_option
@click.argument("email")
def members_remove(config_file: str | None, email: str) -> None:
    """Remove a member and rotate the keys of every tier they held."""
    from generator.members.mail import Outbox

    project = open_project(config_file)
    try:
        with project.store.locked():
            current = project.store.load()
            ended = current.find_ended(email)
            gone = current.member(email).email if ended is None else ended.email
            tiers = current.remove(email)
            project.store.save(current)
            Outbox(project.store).discard(gone)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if ended is not None and not tiers:
        click.echo(
            f"Forgot {gone}, whose membership ended on {ended.expires}: after the next build "
            "and upload, signing in no longer says so."
        )
        return
    click.echo(
        f"Removed {gone}; new keys for {', '.join(tiers)}. Rebuild and publish the site "
        "to lock them out; other members read on."
    )


@members.command("list")
@config_option
def members_list(config_file: str | None) -> None:
    """List members: email, name, tiers, expiry. Then those whose membership ended,
    whom signing in still tells so: email, name, their last day."""
    import datetime as dt

    project = open_project(config_file)
    try:
        current = project.store.load()
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
    ended = sorted(current.ended.values(), key=lambda e: e.email)
    for former in ended:
        click.echo(f"{former.email:<32} {former.name:<24} {'-':<16} {former.expires} (ended)")
    counted = f"{len(rows)} member(s)"
    if ended:
        counted += f"; {len(ended)} whose membership ended, told so if they sign in"
    click.echo(counted, err=True)


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

    project = open_project(config_file)
    try:
        if output:
            check_folder(Path(output))
        text = export_csv(project.store.load())
        if output:
            context.write_file(Path(output), text)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    if not output:
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

    project = open_project(config_file)
    out = Path(passwords_out)
    if out.exists():
        raise click.ClickException(
            f"{out} already exists; choose a new file so no earlier passwords are lost"
        )
    try:
        check_folder(out)
        mapping = parse_columns(columns) if columns else None
        check_tiers(tiers, project.tiers)
        mailing = prepare(project, "welcome", send, dry_run)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    try:
        text = Path(csv_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{csv_file}: cannot read it ({error})") from None
    progress = Progress()
    try:
        with project.store.locked():
            current, _ = project.store.load_or_create()
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
                context.write_file(out, passwords_csv(logins))
            if report.added or report.updated:
                try:
                    project.store.save(current)
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
        failed = deliver(mailing, letters, outbox=True)
    if report.errors:
        raise click.ClickException(
            f"{len(report.errors)} row(s) skipped; fix them and import again"
            + (f"; {failed} email(s) not sent" if failed else "")
        )
    finish(failed)


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
    from generator.members.addresses import same_address
    from generator.members.mail import Outbox

    project = open_project(config_file)
    box = Outbox(project.store)
    if not emails and not everyone:
        raise click.UsageError("name the members' emails, or --all")
    try:
        wanted = box.waiting() if everyone else [same_address(e) for e in emails]
        if not wanted:
            click.echo("The outbox is empty: every welcome email has been sent.")
            return
        mailing = prepare(project, "welcome", True, dry_run, template=False)
        assert mailing is not None
        found = {email: box.get(email) for email in wanted}
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    messages, missing = [], []
    for email, message in found.items():
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
    failed = deliver(mailing, messages, outbox=True) if messages else 0
    finish(failed + len(missing))


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

    project = open_project(config_file)
    today = dt.date.today()
    try:
        mailing = prepare(project, "reminder", send, dry_run)
        current = project.store.load()
        reminded = Reminders(project.store)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    due = [
        m
        for m in sorted(current.members.values(), key=lambda m: (m.expires or "", m.email))
        if m.expires and today <= dt.date.fromisoformat(m.expires) <= today + dt.timedelta(days)
    ]
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
    failed = deliver(
        mailing,
        letters,
        outbox=False,
        sent=lambda email: sent.update({email: current.members[email].expires or ""}),
    )
    if sent:
        try:
            reminded.record(sent, current.members)
        except MemberkitError as error:
            raise click.ClickException(str(error)) from None
    if not todo:
        click.echo(f"Nobody to remind: {len(due)} member(s) end within {days} day(s), all told.")
    finish(failed)
