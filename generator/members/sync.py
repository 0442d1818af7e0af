"""`members sync`: what a checkout's API says, applied to the roster once.

A checkout's reader (`stripe_checkout`, `lemonsqueezy_checkout`) turns what its API
says into changes, oldest first: `Admit` (a paid purchase admits a buyer), `Revoke`
(a refund, a lost dispute, a subscription over: the purchase admits no one any more)
and `EndOn` (a subscription set to end on a day, or no longer). `apply` makes them on
the state: a purchase is recorded on its member (`purchases`), so a refund takes away
only what that purchase gave; the ledger remembers each event and purchase applied, so
nothing is applied twice, and a refunded purchase shown again admits no one.

New buyers come back as `Joiner`s: `admit` gives them a password and a login link (a
PBKDF2 run each, on every core) and adds them. Nothing here writes the state: the
command writes the roster and the new members' welcomes in one change. No MkDocs import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from generator.errors import MemberkitError
from generator.members.checks import check_email, check_name
from generator.members.purchases import ByHand, Ledger, Purchase, settle
from generator.members.state import LINK_DAYS, Member, State, new_logins

#: The names of the checkouts, as an owner reads them.
CHECKOUT_NAMES = {"stripe": "Stripe", "lemonsqueezy": "Lemon Squeezy"}


class Malformed(MemberkitError):
    """The checkout's answer is not what its reference describes."""


@dataclass(frozen=True)
class Admit:
    """A paid purchase: its buyer becomes a member, or keeps their login and gains it."""

    key: str | None  # the event (or order) that says so, recorded once applied
    created: int
    email: str
    name: str
    purchase: Purchase


@dataclass(frozen=True)
class Revoke:
    """A purchase admits no one any more: refunded, disputed and lost, ended.

    It is found by its id, its payment, or its subscription; failing those, a charge of
    the customer's subscription (a renewal's refund) ends that customer's subscriptions.
    `ended`: the subscription is over (not paid back): a buyer it leaves with nothing is
    told at sign-in that their membership ended and how to renew; a refunded or disputed
    one is simply removed.
    """

    key: str | None
    created: int
    why: str
    purchase: str | None = None
    payment: str | None = None
    subscription: str | None = None
    customer: str | None = None
    ended: bool = False


@dataclass(frozen=True)
class EndOn:
    """A purchase's last day from now on (None: it renews, no end)."""

    key: str | None
    created: int
    why: str
    expires: str | None
    purchase: str | None = None
    subscription: str | None = None


@dataclass(frozen=True)
class Noted:
    """An event read that changes nothing (a checkout not paid yet, a partial refund):
    recorded, so that it is not read again."""

    key: str | None
    created: int


Change = Admit | Revoke | EndOn | Noted


@dataclass
class Reading:
    """What a checkout's reader found since the ledger's place."""

    changes: list[Change]
    cursor: str | None = None  # the newest event read, where the next sync starts
    since: int | None = None
    notes: list[str] = field(default_factory=list)  # what the owner should know


class Reader:
    """A checkout's reader: its API key, its address (None: the checkout's own), and
    `checkout_tiers` with the first tier for anything they do not name."""

    name = ""  # one of purchases.CHECKOUTS
    default_base = ""

    def __init__(
        self, key: str, base: str | None, tiers: Mapping[str, str], default_tier: str
    ) -> None:
        self.key = key
        self.base = (base or self.default_base).rstrip("/")
        self.tiers = dict(tiers)
        self.default_tier = default_tier

    def read(self, ledger: Ledger) -> Reading:
        """What the checkout says since the ledger's place, oldest first."""
        raise NotImplementedError

    def tiers_for(self, idents: Iterable[str]) -> list[str]:
        """The tiers `checkout_tiers` gives what was bought, else the first tier."""
        return sorted({self.tiers[i] for i in idents if i in self.tiers}) or [self.default_tier]


@dataclass
class Joiner:
    """A buyer who is no member yet: added once their keys are derived."""

    email: str
    name: str
    purchases: list[Purchase]


@dataclass
class Outcome:
    joiners: dict[str, Joiner] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # one line per change to the roster
    applied: int = 0  # events and purchases applied

    @property
    def changed(self) -> bool:
        return bool(self.joiners or self.removed or self.said)


def apply(state: State, ledger: Ledger, reading: Reading, today: dt.date) -> Outcome:
    """Make the changes of `reading` on `state` and `ledger`, each at most once."""
    outcome = Outcome()
    for change in reading.changes:
        if change.key is not None and ledger.seen(change.key):
            continue
        if isinstance(change, Admit):
            _admit(state, ledger, change, outcome, today)
        elif isinstance(change, Revoke):
            _revoke(state, change, outcome, today)
        elif isinstance(change, EndOn):
            _end_on(state, change, outcome, today)
        if change.key is not None:
            ledger.record(change.key, change.created)
            outcome.applied += 1
    if reading.cursor is not None:
        ledger.cursor = reading.cursor
    if reading.since is not None and (ledger.since is None or reading.since > ledger.since):
        ledger.since = reading.since
    ledger.prune()
    return outcome


def _admit(state: State, ledger: Ledger, change: Admit, outcome: Outcome, today: dt.date) -> None:
    purchase = change.purchase
    if ledger.seen(purchase.id):  # applied before: refunded since, or removed by hand
        return
    ledger.record(purchase.id, change.created)
    try:
        email = check_email(change.email)
    except MemberkitError as error:
        outcome.said.append(f"{purchase.id}: not admitted: {error}")
        return
    state.ensure_tiers(purchase.tiers)
    member = state.find(email)
    if member is None:
        joiner = outcome.joiners.get(email)
        if joiner is None:
            try:
                name = check_name(change.name)
            except MemberkitError:  # a name no page can show: the email's first part
                name = ""
            outcome.joiners[email] = Joiner(email, name, [purchase])
        elif all(p.id != purchase.id for p in joiner.purchases):
            joiner.purchases.append(purchase)
        return
    if any(p.id == purchase.id for p in member.purchases):
        return
    before = (member.tiers, member.expires)
    if not member.purchases:  # a member the owner added: keep what they were given
        member.by_hand = ByHand(list(member.tiers), member.expires)
    member.purchases.append(purchase)
    settle(member, today)
    outcome.said.append(
        f"{member.email}: bought again ({purchase.id}); keeps their password"
        + _access_change(before, member)
    )


def _revoke(state: State, change: Revoke, outcome: Outcome, today: dt.date) -> None:
    def matches(p: Purchase) -> bool:
        return (
            (change.purchase is not None and p.id == change.purchase)
            or (change.payment is not None and p.payment == change.payment)
            or (change.subscription is not None and p.subscription == change.subscription)
        )

    found = _holders(state, outcome, matches)
    if not found and change.customer is not None:
        # A renewal's charge names no purchase: it ends the customer's subscriptions.
        found = _holders(
            state,
            outcome,
            lambda p: p.customer == change.customer and p.subscription is not None,
        )
    for holder, ended in found:
        holder.purchases = [p for p in holder.purchases if p not in ended]
        ids = ", ".join(p.id for p in ended)
        if isinstance(holder, Joiner):
            if not holder.purchases:
                del outcome.joiners[holder.email]
            continue
        if holder.purchases:
            before = (holder.tiers, holder.expires)
            settle(holder, today)
            outcome.said.append(
                f"{holder.email}: {change.why} ({ids})" + _access_change(before, holder)
            )
        elif holder.by_hand is not None:
            hand = holder.by_hand
            holder.tiers, holder.expires, holder.by_hand = list(hand.tiers), hand.expires, None
            outcome.said.append(
                f"{holder.email}: {change.why} ({ids}); keeps what you gave them by hand "
                f"({', '.join(holder.tiers)}, until {holder.expires or 'no end date'})"
            )
        elif change.ended:
            # Their last day: the one the subscription was set to end on, else today.
            last_day = min(holder.expires or today.isoformat(), today.isoformat())
            state.end(holder.email, last_day)
            outcome.removed.append(holder.email)
            outcome.said.append(
                f"{holder.email}: removed, {change.why} ({ids}); "
                f"signing in says it ended on {last_day}"
            )
        else:
            state.remove(holder.email)
            outcome.removed.append(holder.email)
            outcome.said.append(f"{holder.email}: removed, {change.why} ({ids})")


def _end_on(state: State, change: EndOn, outcome: Outcome, today: dt.date) -> None:
    def matches(p: Purchase) -> bool:
        return (change.purchase is not None and p.id == change.purchase) or (
            change.subscription is not None and p.subscription == change.subscription
        )

    for holder, found in _holders(state, outcome, matches):
        for purchase in found:
            purchase.expires = change.expires
        if isinstance(holder, Joiner):
            continue
        before = (holder.tiers, holder.expires)
        settle(holder, today)
        if before != (holder.tiers, holder.expires):
            outcome.said.append(f"{holder.email}: {change.why}" + _access_change(before, holder))


def _holders(
    state: State, outcome: Outcome, matches: Callable[[Purchase], bool]
) -> list[tuple[Member | Joiner, list[Purchase]]]:
    found: list[tuple[Member | Joiner, list[Purchase]]] = []
    holders: list[Member | Joiner] = [*state.members.values(), *outcome.joiners.values()]
    for holder in holders:
        hits = [p for p in holder.purchases if matches(p)]
        if hits:
            found.append((holder, hits))
    return found


def _access_change(before: tuple[list[str], str | None], member: Member) -> str:
    tiers, expires = before
    said = []
    if tiers != member.tiers:
        said.append(f"tiers {', '.join(tiers)} -> {', '.join(member.tiers)}")
    if expires != member.expires:
        said.append(f"end date {expires or 'none'} -> {member.expires or 'none'}")
    return f"; {'; '.join(said)}" if said else ""


@dataclass(frozen=True)
class Admitted:
    """A new member and the login their welcome carries."""

    member: Member
    password: str
    link: tuple[str, str]  # the login link's secret and last day


def admit(
    state: State,
    joiners: Sequence[Joiner],
    today: dt.date,
    *,
    link_days: int = LINK_DAYS,
    workers: int | None = None,
) -> list[Admitted]:
    """Add each joiner with a generated password and a login link (PBKDF2 on every core)."""
    logins = new_logins(state, [j.email for j in joiners], workers=workers)
    added = []
    for joiner, login in zip(joiners, logins, strict=True):
        tiers = sorted({t for p in joiner.purchases for t in p.tiers})
        member = state.add(
            joiner.email,
            login.password,
            name=joiner.name,
            tiers=tiers,
            expires=None,
            keys=login.keys,
            generated=True,
        )
        member.purchases = list(joiner.purchases)
        settle(member, today)
        link = state.issue_link(
            member.email, today, link_days, secret=login.link_secret, keys=login.link_keys
        )
        added.append(Admitted(member, login.password, link))
    return added


def day_of(timestamp: int) -> str:
    """The UTC day of a Unix time, as the last day of access."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()
