"""What a checkout's purchases give a member, kept apart from what the owner gave by hand.

`memberkit members sync` records on each member the purchases that admit them
(`Purchase`: the checkout's id of it, the tiers it grants, its last day), and, when
a member the owner added by hand buys, what the owner had given them (`ByHand`). So a
refund takes away only what that purchase gave: a buyer with no purchase left and
nothing given by hand leaves the roster; a member the owner added stays with what
the owner gave them. `Ledger` is where the sync stands with the checkout: the last
event read and what was applied lately, so that nothing is applied twice.

No MkDocs import; the state's model (`state`) holds these records and `store` reads
them back field by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.members.state import Member

#: The checkouts `members sync` reads.
CHECKOUTS = ("stripe", "lemonsqueezy")
#: How long an applied event or purchase is remembered: longer than Stripe keeps events
#: (30 days), so that whatever the checkout can still show again is known as applied.
REMEMBER_DAYS = 35


@dataclass
class Purchase:
    """One purchase that admits a member, as the checkout names it."""

    id: str  # the checkout's id: a Checkout Session (cs_...) or a Lemon Squeezy order
    tiers: list[str]
    expires: str | None = None  # YYYY-MM-DD, its last day; None: until it is ended
    payment: str | None = None  # Stripe: the payment intent a refund or dispute names
    subscription: str | None = None  # the subscription that renews it, if any
    customer: str | None = None  # Stripe: the customer a subscription's charges name


@dataclass
class ByHand:
    """What the owner gave a member before their first purchase was recorded."""

    tiers: list[str]
    expires: str | None = None


@dataclass
class Ledger:
    """Where `members sync` stands with the checkout.

    `cursor` is the newest event applied (Stripe; Lemon Squeezy has no events) and
    `since` its time, or the newest order's; `applied` holds the ids of the events and
    purchases applied in the last REMEMBER_DAYS days, with their time, so that one the
    checkout shows again is not applied twice (and a refunded purchase not re-admitted).
    """

    checkout: str  # one of CHECKOUTS
    cursor: str | None = None
    since: int | None = None  # Unix time
    applied: dict[str, int] = field(default_factory=dict)

    def seen(self, key: str) -> bool:
        return key in self.applied

    def record(self, key: str, created: int) -> None:
        self.applied[key] = created
        if self.since is None or created > self.since:
            self.since = created

    def prune(self) -> None:
        """Forget what is older than REMEMBER_DAYS before the newest thing seen."""
        if self.since is None:
            return
        oldest = self.since - REMEMBER_DAYS * 86400
        self.applied = {k: t for k, t in sorted(self.applied.items()) if t >= oldest}


def access_of(grants: Iterable[tuple[list[str], str | None]]) -> tuple[list[str], str | None]:
    """The tiers and last day that several grants give together: every tier of any of
    them, until the latest end (none if one of them has none)."""
    tiers: set[str] = set()
    ends: list[str | None] = []
    for held, expires in grants:
        tiers.update(held)
        ends.append(expires)
    if not ends or None in ends:
        return sorted(tiers), None
    return sorted(tiers), max(e for e in ends if e)


def settle(member: Member, today: dt.date) -> None:
    """Set a member's tiers and end date from their purchases and what was given by
    hand (an end date by hand already past gives nothing any more)."""
    grants = [(p.tiers, p.expires) for p in member.purchases]
    hand = member.by_hand
    if hand is not None and hand.expires is not None and hand.expires < today.isoformat():
        member.by_hand = hand = None
    if hand is not None:
        grants.append((hand.tiers, hand.expires))
    if grants:
        member.tiers, member.expires = access_of(grants)
