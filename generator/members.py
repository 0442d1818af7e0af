"""Member management on top of the private state: import, export, login links.

No MkDocs import; the CLI passes in the tiers declared in mkdocs.yml.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import mk1
from .errors import MemberkitError
from .state import State, check_date, check_email, generate_password

CSV_COLUMNS = ("email", "name", "tier", "expires")


def login_link(base_url: str, email: str, password: str) -> str:
    """A one-click sign-in link; the secret rides in the fragment, never sent to a server."""
    payload = mk1.b64url(json.dumps({"e": email, "p": password}, separators=(",", ":")).encode())
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
    added: list[tuple[str, str]] = field(default_factory=list)  # (email, password)
    updated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line N: ..."


def import_csv(
    state: State,
    text: str,
    *,
    known_tiers: Sequence[str],
    progress: Callable[[str], None] = lambda email: None,
) -> ImportReport:
    """Apply the good rows of a checkout export to `state`; report bad rows by line.

    New members get a generated password; existing ones get the row's name, expiry
    and any new tier. Nothing is saved here: the caller saves the state once.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "email" not in header:
        raise MemberkitError(
            f"the CSV needs a header row with the columns {', '.join(CSV_COLUMNS)}"
        )
    reader.fieldnames = header
    rows: dict[str, tuple[int, str, list[str], str | None]] = {}
    for row in reader:
        line = reader.line_num
        try:
            email = check_email((row.get("email") or "").strip())
            tiers = (row.get("tier") or "").replace(";", " ").split() or [known_tiers[0]]
            check_tiers(tiers, known_tiers)
            expires = (row.get("expires") or "").strip() or None
            if expires:
                check_date(expires)
        except MemberkitError as error:
            report.errors.append(f"line {line}: {error}")
            continue
        name = (row.get("name") or "").strip()
        if email in rows:  # one row per tier is how some checkouts export
            _, old_name, old_tiers, old_expires = rows[email]
            rows[email] = (line, name or old_name, old_tiers + tiers, expires or old_expires)
        else:
            rows[email] = (line, name, tiers, expires)
    for email, (line, name, tiers, expires) in rows.items():
        try:
            if email in state.members:
                member = state.members[email]
                member.name = name or member.name
                member.expires = expires
                state.ensure_tiers(tiers)
                member.tiers = sorted(set(member.tiers) | set(tiers))
                report.updated.append(email)
            else:
                progress(email)
                password = generate_password()
                state.add(email, password, name=name, tiers=tiers, expires=expires)
                report.added.append((email, password))
        except MemberkitError as error:
            report.errors.append(f"line {line}: {error}")
    return report


def export_csv(state: State) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for member in sorted(state.members.values(), key=lambda m: m.email):
        writer.writerow([member.email, member.name, " ".join(member.tiers), member.expires or ""])
    return buffer.getvalue()
