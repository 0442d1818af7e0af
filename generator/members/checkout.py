"""Reading the buyer lists that checkouts export, as they are downloaded.

`memberkit members import` takes the customer, subscription or sales CSV of Stripe,
Lemon Squeezy, Gumroad or Payhip, recognises which one it is by its header row, and
reads from each row what the roster needs: email, name, and where the export says so,
the last day of access or that the purchase grants nothing any more (refunded, ended).
Any other CSV is read through `--columns email=...,name=...` or in memberkit's own
format (email, name, tier, expires). No MkDocs import.

One module, over 400 lines, on purpose: a table per checkout and the one reader
that walks them, so that adding a checkout is one entry here and nothing elsewhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from generator.errors import MemberkitError

OWN_COLUMNS = ("email", "name", "tier", "expires")
FIELDS = OWN_COLUMNS  # what --columns can map
#: What a spreadsheet would run as a formula at the start of a cell (OWASP, "CSV
#: Injection"): memberkit's own CSV files put a ' before them, and reading strips it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ISO_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:$|[T ])")


@dataclass(frozen=True)
class Entry:
    """What one row of an export says about one buyer."""

    line: int
    email: str
    name: str
    tiers: tuple[str, ...]
    expires: str | None  # YYYY-MM-DD, the last day of access; None: no end
    ended: str | None  # why the row grants nothing (refunded, subscription over...)


@dataclass(frozen=True)
class Fields:
    """A row, read: the raw texts a source found, before any check."""

    email: str
    name: str = ""
    tier: str = ""
    expires: str = ""  # a date or date-time; empty: no end
    ended: str = ""  # empty: the row grants access


class Cells:
    """One row, its cells looked up by header name, case-insensitive."""

    def __init__(self, header: Sequence[str], row: Sequence[str]) -> None:
        self._cells = {
            name: _unescape(value.strip()) for name, value in zip(header, row, strict=False)
        }

    def get(self, *names: str) -> str:
        """The first non-empty cell of `names` (lowercase header names)."""
        for name in names:
            value = self._cells.get(name, "")
            if value:
                return value
        return ""

    def flag(self, name: str) -> bool:
        return self.get(name).lower() in ("1", "true", "yes", "y")


@dataclass(frozen=True)
class Source:
    """A kind of export: how to recognise its header and read its rows."""

    name: str  # as the owner would say it: "a Gumroad sales export"
    recognise: Callable[[frozenset[str]], bool]
    read: Callable[[Cells], Fields | None]  # None: not a buyer (a totals row, say)
    #: A past end date means the membership is over (a checkout's record), not a typo
    #: in the owner's own file.
    past_means_ended: bool = True


# -- Stripe ------------------------------------------------------------------------------
# Dashboard > Customers > Export, and Billing > Subscriptions > Export. Stripe's docs
# show the Dashboard exports' columns only in part: its customer export has "id",
# "Email", "Name" and "Created (UTC)" (the migration guide "Export file formats" lists
# id, email, name, description; third-party guides built on the Dashboard export, such as
# Cello's "Stripe reports", show "ID" and "Created (UTC)"). For the subscription export we
# assume the same naming: "Customer Email", "Customer Name" (when the owner adds that
# column), "Status", "Current Period End (UTC)", "Cancel At Period End", "Cancel At (UTC)"
# and "Ended At (UTC)". Status values are those of Stripe's API reference (the
# Subscription object's `status`).
_STRIPE_OVER = {"canceled", "incomplete", "incomplete_expired", "unpaid", "paused"}


def _stripe_subscription(cells: Cells) -> Fields:
    status = cells.get("status").lower()
    ended = cells.get("ended at (utc)")
    if status in _STRIPE_OVER or ended:
        return Fields(cells.get("customer email"), ended=f"subscription {status or 'ended'}")
    end = ""
    if cells.flag("cancel at period end"):
        end = cells.get("current period end (utc)")
    end = cells.get("cancel at (utc)") or end
    name = cells.get("customer name", "customer description")
    return Fields(cells.get("customer email"), name=name, expires=end)


def _stripe_customer(cells: Cells) -> Fields:
    return Fields(cells.get("email"), name=cells.get("name"))


STRIPE_SUBSCRIPTIONS = Source(
    "a Stripe subscriptions export",
    lambda h: {"customer email", "status"} <= h and "current period end (utc)" in h,
    _stripe_subscription,
)
STRIPE_CUSTOMERS = Source(
    "a Stripe customers export",
    lambda h: {"id", "email", "created (utc)"} <= h,
    _stripe_customer,
)


# -- Lemon Squeezy -----------------------------------------------------------------------
# Its help article "Exporting subscribers" documents the subscriber export: identifier,
# name, email, status, status_formatted, country, ... created_at. That `status` is the
# email-marketing status (subscribed, unsubscribed...), not a purchase: it is ignored.
# The dashboard's orders and subscriptions exports are not documented; we assume they
# use the attribute names of the API's Order and Subscription objects (docs: API
# reference, "The order object", "The subscription object"): user_email, user_name,
# status, refunded, ends_at.
_LEMON_OVER = {"expired", "unpaid", "paused", "refunded", "failed", "fraudulent", "pending"}


def _lemon_subscriber(cells: Cells) -> Fields:
    return Fields(cells.get("email"), name=cells.get("name"))


def _lemon_purchase(cells: Cells) -> Fields:
    status = cells.get("status").lower()
    email = cells.get("user_email")
    if status in _LEMON_OVER or cells.flag("refunded"):
        return Fields(email, ended=status or "refunded")
    # "cancelled": no more payments, access until ends_at (its grace period).
    return Fields(email, name=cells.get("user_name"), expires=cells.get("ends_at"))


LEMON_SUBSCRIBERS = Source(
    "a Lemon Squeezy subscribers export",
    lambda h: {"identifier", "email", "status_formatted"} <= h,
    _lemon_subscriber,
)
LEMON_PURCHASES = Source(
    "a Lemon Squeezy orders or subscriptions export",
    lambda h: "user_email" in h,
    _lemon_purchase,
)


# -- Gumroad -----------------------------------------------------------------------------
# The sales CSV ("Download CSV" on the Sales and Customers pages). Gumroad's help centre
# says only that it can be downloaded; the columns are those Gumroad's own source code
# writes (antiwork/gumroad, app/services/exports/purchase_export_service.rb): "Purchase
# ID", "Buyer Name", "Purchase Email", "Fully Refunded?", "Disputed?", "Dispute Won?",
# "Access Revoked?", "Subscription End Date" (YYYY-MM-DD), flags written as 1 or 0, one
# row per charge, and a last row whose "Purchase ID" is "Totals".


def _gumroad_sale(cells: Cells) -> Fields | None:
    if cells.get("purchase id") == "Totals":
        return None
    email = cells.get("purchase email", "buyer email")
    if cells.flag("fully refunded?"):
        return Fields(email, ended="refunded")
    if cells.flag("access revoked?"):
        return Fields(email, ended="access revoked")
    if cells.flag("disputed?") and not cells.flag("dispute won?"):
        return Fields(email, ended="disputed")
    return Fields(email, name=cells.get("buyer name"), expires=cells.get("subscription end date"))


GUMROAD_SALES = Source(
    "a Gumroad sales export",
    lambda h: {"purchase email", "buyer name"} <= h,
    _gumroad_sale,
)


# -- Payhip ------------------------------------------------------------------------------
# Payhip's help centre documents no column of its CSV exports. We assume its names
# follow the fields of its webhook payload (id, email, ..., payhip_fee, amount_refunded)
# as dashboard labels: an email column ("Customer Email", "Buyer Email" or "Email"), a
# name column ("Customer Name", "Buyer Name" or "Name"), "Transaction ID" or "Payhip
# Fee", and refunds in "Refunded", "Amount Refunded" or a "Status"/"Type" of
# refunded, cancelled or expired. Check against a real download; --columns reads any
# other layout.
_PAYHIP_EMAIL = ("customer email", "buyer email", "email")
_PAYHIP_OVER = {"refunded", "cancelled", "canceled", "expired"}


def _payhip_sale(cells: Cells) -> Fields:
    email = cells.get(*_PAYHIP_EMAIL)
    status = cells.get("status", "type").lower()
    refunded = cells.get("amount refunded", "amount_refunded")
    if cells.flag("refunded") or status in _PAYHIP_OVER or _positive(refunded):
        return Fields(email, ended=status or "refunded")
    return Fields(email, name=cells.get("customer name", "buyer name", "name"))


PAYHIP_SALES = Source(
    "a Payhip export",
    lambda h: (
        bool(h & {"payhip fee", "payhip_fee"})
        or ("transaction id" in h and bool(h & set(_PAYHIP_EMAIL)))
    ),
    _payhip_sale,
)


# -- memberkit's own format, and any CSV with --columns ---------------------------------


def _own(cells: Cells) -> Fields:
    return Fields(
        cells.get("email"),
        name=cells.get("name"),
        tier=cells.get("tier"),
        expires=cells.get("expires"),
    )


OWN = Source(
    "memberkit's own format (email, name, tier, expires)",
    lambda h: "email" in h,
    _own,
    past_means_ended=False,
)

#: Most specific first: the Stripe customer export also has "Email" and "Name".
SOURCES = (
    STRIPE_SUBSCRIPTIONS,
    STRIPE_CUSTOMERS,
    GUMROAD_SALES,
    LEMON_SUBSCRIBERS,
    LEMON_PURCHASES,
    PAYHIP_SALES,
    OWN,
)


def parse_columns(spec: str) -> dict[str, str]:
    """`email=Customer Email,name=Full Name` as {field: header name, lowercase}."""
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        field, equals, header = part.partition("=")
        field, header = field.strip().lower(), header.strip().lower()
        if not equals or not header:
            raise MemberkitError(
                f"--columns: {part.strip()!r} is not FIELD=Header Name "
                "(for example email=Customer Email)"
            )
        if field not in FIELDS:
            raise MemberkitError(
                f"--columns: unknown field {field!r}; map any of {', '.join(FIELDS)}"
            )
        mapping[field] = header
    if "email" not in mapping:
        raise MemberkitError("--columns must say which column holds the email: email=...")
    return mapping


def mapped(columns: Mapping[str, str]) -> Source:
    """A source read through the owner's --columns."""

    def read(cells: Cells) -> Fields:
        return Fields(
            cells.get(columns["email"]),
            name=cells.get(columns["name"]) if "name" in columns else "",
            tier=cells.get(columns["tier"]) if "tier" in columns else "",
            expires=cells.get(columns["expires"]) if "expires" in columns else "",
        )

    return Source("a CSV read with --columns", lambda h: True, read, past_means_ended=False)


@dataclass
class Reading:
    source: Source
    entries: list[Entry]
    errors: list[str]  # "line N: ..." for rows that cannot be read


def read_export(
    text: str,
    *,
    columns: Mapping[str, str] | None = None,
    today: dt.date,
) -> Reading:
    """Recognise the export by its header row and read every row into an Entry."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = _header(rows)
    names = frozenset(header)
    if columns:
        missing = [h for h in columns.values() if h not in names]
        if missing:
            raise MemberkitError(
                f"--columns names {missing[0]!r}, which is not in the header row "
                f"({', '.join(header)})"
            )
        source = mapped(columns)
    else:
        source = next((s for s in SOURCES if s.recognise(names)), None) or _unknown(header)
    entries: list[Entry] = []
    errors: list[str] = []
    last = _line(rows)
    for line, row in _rows(rows):
        first, last = last + 1, line
        if line > first and any(_SWALLOWED.search(cell) for cell in row):
            errors.append(
                f"line {first}: a quote opened here is never closed, so lines {first} to "
                f"{line} were read as one row and none of them was imported; close the "
                "quote (or remove it) and import again"
            )
            continue
        try:
            read = source.read(Cells(header, row))
            if read is None:
                continue
            entries.append(_entry(line, read, source, today))
        except MemberkitError as error:
            errors.append(f"line {line}: {error}")
    return Reading(source, entries, errors)


#: A cell that holds further lines with an email in them: rows swallowed by a quote
#: left open (a multi-line cell of its own, an address, holds no email).
_SWALLOWED = re.compile(r"\n[^\n]*@")


def _header(rows: Iterator[list[str]]) -> list[str]:
    try:
        first = next(rows)
    except (StopIteration, csv.Error):
        first = []
    header = [cell.strip().lower() for cell in first]
    if not any(header):
        raise MemberkitError("the file is empty; it needs a header row such as email,name")
    return header


def _rows(rows: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            raise MemberkitError(
                f"the CSV cannot be read past line {_line(rows)}: {error}"
            ) from None
        if any(cell.strip() for cell in row):
            yield _line(rows), row


def _line(rows: Iterator[list[str]]) -> int:
    return int(getattr(rows, "line_num", 0))


def _unknown(header: Sequence[str]) -> NoReturn:
    raise MemberkitError(
        f"the header row ({', '.join(header)}) is not one memberkit knows: it reads "
        "exports of Stripe, Lemon Squeezy, Gumroad and Payhip, and its own format "
        f"({','.join(OWN_COLUMNS)}); for another layout, name the columns with "
        "--columns email=...,name=...,expires=..."
    )


def _entry(line: int, read: Fields, source: Source, today: dt.date) -> Entry:
    if not read.email:
        raise MemberkitError("no email in this row")
    tiers = tuple(read.tier.replace(";", " ").replace(",", " ").split())
    if read.ended:
        return Entry(line, read.email, read.name, tiers, None, read.ended)
    expires = day_of(read.expires) if read.expires else None
    if expires is not None and dt.date.fromisoformat(expires) < today:
        if not source.past_means_ended:
            raise MemberkitError(
                f"the expiry date {expires} is in the past; give today or a later date, "
                "or leave it empty"
            )
        return Entry(line, read.email, read.name, tiers, None, f"ended on {expires}")
    return Entry(line, read.email, read.name, tiers, expires, None)


def day_of(text: str) -> str:
    """The day of a date or ISO date-time (`2027-01-31`, `2027-01-31 23:59:59`,
    `2027-01-31T23:59:59.000000Z`) as YYYY-MM-DD."""
    match = _ISO_DAY.match(text.strip())
    if match:
        try:
            return dt.date.fromisoformat(match.group(1)).isoformat()
        except ValueError:
            pass
    raise MemberkitError(f"{text!r} is not a date; write it as YYYY-MM-DD")


def _positive(amount: str) -> bool:
    try:
        return float(re.sub(r"[^0-9.\-]", "", amount) or 0) > 0
    except ValueError:
        return False


def _unescape(value: str) -> str:
    """Undo the ' that memberkit's own CSV files put before a formula-like cell."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading =, +, -, @, tab or CR gets a '
    before it (OWASP's advice against CSV injection)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def write_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A CSV whose every cell is safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
