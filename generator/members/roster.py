"""Member management on top of the private state: import, export, login links.

No MkDocs import; the CLI passes in the tiers declared in mkdocs.yml.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from generator.errors import MemberkitError
from generator.members.checkout import OWN_COLUMNS, Entry, read_export, write_csv
from generator.members.checks import check_email, check_name
from generator.members.state import LINK_DAYS, State, new_logins
from generator.protection import mk1

CSV_COLUMNS = OWN_COLUMNS


def login_link(base_url: str, email: str, secret: str) -> str:
    """A one-click sign-in link: the email and the link's own secret (never the password;
    see `State.issue_link`), in the fragment, which the browser never sends to a server."""
    payload = mk1.b64url(json.dumps({"e": email, "l": secret}, separators=(",", ":")).encode())
    return f"{base_url.rstrip('/')}/login/#login={payload}"


def check_tiers(tiers: Sequence[str], known: Sequence[str]) -> list[str]:
    unknown = [t for t in tiers if t not in known]
    if unknown:
        raise MemberkitError(
            f"unknown tier {unknown[0]!r}; tiers in mkdocs.yml: {', '.join(known)}"
        )
    return list(tiers)


@dataclass
class ImportReport:
    source: str = ""  # which kind of export it was read as
    added: list[tuple[str, str]] = field(default_factory=list)  # (email, password)
    links: dict[str, tuple[str, str]] = field(default_factory=dict)  # email: (secret, last day)
    updated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line N: ...": rows skipped
    notes: list[str] = field(default_factory=list)  # "line N: ...": rows that grant nothing


@dataclass
class _Joiner:
    """One email's rows of an export, merged: what the roster gets."""

    line: int
    email: str
    name: str
    tiers: list[str]
    expires: str | None


def import_csv(
    state: State,
    text: str,
    *,
    known_tiers: Sequence[str],
    extra_tiers: Sequence[str] = (),
    columns: Mapping[str, str] | None = None,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    link_days: int = LINK_DAYS,
) -> ImportReport:
    """Apply the good rows of a checkout export to `state`; report bad rows by line.

    New members get a generated password and a login link that lasts `link_days` (a
    PBKDF2 each, on every core); existing ones get the row's name, its end date when it
    gives one (a file without end dates leaves theirs as they are) and any new tier,
    each change said in a note. A row that grants nothing (refunded, ended) is
    a note, not an error. Nothing is saved here: the caller writes the new passwords
    first, then saves the state once.
    """
    today = today or dt.date.today()
    reading = read_export(text, columns=columns, today=today)
    report = ImportReport(source=reading.source.name, errors=list(reading.errors))
    joiners = _merge(reading.entries, state, known_tiers, extra_tiers, report)
    new: list[_Joiner] = []
    for joiner in joiners:
        member = state.find(joiner.email)
        if member is not None:
            changes = []
            if joiner.name and joiner.name != member.name:
                changes.append(f"name {member.name!r} -> {joiner.name!r}")
                member.name = joiner.name
            # No end date in the file (no such column, or an empty cell): theirs stays.
            if joiner.expires is not None and joiner.expires != member.expires:
                changes.append(f"end date {member.expires or 'none'} -> {joiner.expires}")
                member.expires = joiner.expires
            state.ensure_tiers(joiner.tiers)
            given = sorted(set(joiner.tiers) - set(member.tiers))
            if given:
                changes.append(f"tiers + {', '.join(given)}")
                member.tiers = sorted(set(member.tiers) | set(joiner.tiers))
            report.updated.append(joiner.email)
            said = "; ".join(changes) if changes else "unchanged"
            report.notes.append(f"line {joiner.line}: {joiner.email}: {said}")
        else:
            new.append(joiner)
    logins = new_logins(state, [j.email for j in new], progress=progress, workers=workers)
    for joiner, login in zip(new, logins, strict=True):
        state.add(
            joiner.email,
            login.password,
            name=joiner.name,
            tiers=joiner.tiers,
            expires=joiner.expires,
            keys=login.keys,
            generated=True,
        )
        report.added.append((joiner.email, login.password))
        report.links[joiner.email] = state.issue_link(
            joiner.email, today, link_days, secret=login.link_secret, keys=login.link_keys
        )
    report.errors.sort(key=_line_number)
    report.notes.sort(key=_line_number)
    return report


def _merge(
    entries: Sequence[Entry],
    state: State,
    known_tiers: Sequence[str],
    extra_tiers: Sequence[str],
    report: ImportReport,
) -> list[_Joiner]:
    """Check each row; merge the rows of one email (one row per charge, or per tier).

    The tiers of an email's rows add up; its expiry is the latest one, and a row
    without one (no end) wins. An email whose every row grants nothing is a note.
    """
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        try:
            email = check_email(entry.email)
            if not entry.ended:
                check_name(entry.name)
                check_tiers([*entry.tiers, *extra_tiers], known_tiers)
        except MemberkitError as error:
            report.errors.append(f"line {entry.line}: {error}")
            continue
        groups.setdefault(email, []).append(entry)
    joiners = []
    for email, rows in groups.items():
        granting = [row for row in rows if not row.ended]
        if not granting:
            last = rows[-1]
            todo = (
                f"still a member here: 'memberkit members remove {email}' ends it"
                if state.find(email) is not None
                else "not imported"
            )
            report.notes.append(f"line {last.line}: {email}: {last.ended}; {todo}")
            continue
        tiers = {t for row in granting for t in row.tiers} | set(extra_tiers)
        ends = [row.expires for row in granting]
        joiners.append(
            _Joiner(
                line=granting[0].line,
                email=email,
                name=next((r.name.strip() for r in reversed(granting) if r.name.strip()), ""),
                tiers=sorted(tiers) or [known_tiers[0]],
                expires=None if None in ends else max(e for e in ends if e),
            )
        )
    return joiners


def _line_number(message: str) -> int:
    return int(message.split(":", 1)[0].removeprefix("line "))


def passwords_csv(logins: Sequence[tuple[str, str, str, str]]) -> str:
    """New members' logins (email, password, login link, the link's last day):
    owner-only, never published."""
    return write_csv(("email", "password", "login_link", "link_expires"), logins)


def export_csv(state: State) -> str:
    rows = [
        (member.email, member.name, " ".join(member.tiers), member.expires or "")
        for member in sorted(state.members.values(), key=lambda m: m.email)
    ]
    return write_csv(CSV_COLUMNS, rows)
