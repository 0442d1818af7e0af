"""Reading a Stripe account for `members sync`, through Stripe's own `stripe` package.

The Events API, from the last event applied on (`ending_before` the ledger's cursor,
oldest first), of these types only:

- `checkout.session.completed`, `checkout.session.async_payment_succeeded`: a session
  whose `payment_status` is `paid` (or `no_payment_required`, a 100% discount) admits
  `customer_details.email`, named `customer_details.name`. A session completed but not
  paid yet (a bank debit on its way) admits no one until its `async_payment_succeeded`.
  Its tiers come from its line items' price and product (`checkout_tiers`).
- `charge.refunded` with `refunded: true` (the whole amount): the purchase paid by the
  charge's payment intent ends; a partial refund changes nothing.
- `charge.dispute.closed` with `status: lost`: the purchase of its payment intent ends.
- `customer.subscription.updated`: `canceled`, `unpaid` or `incomplete_expired` ends the
  purchase; `cancel_at`, or `cancel_at_period_end` with the period's end, sets its last
  day; neither clears it (a renewal changes nothing). Current API versions keep
  `current_period_end` on the subscription's items, older ones on the subscription.
- `customer.subscription.deleted`: the purchase ends.

Stripe keeps events 30 days. A cursor older than that is gone: the reader says so and
catches up from the Checkout Sessions completed since and every subscription's status.
No MkDocs import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from generator.errors import MemberkitError
from generator.members.purchases import Ledger, Purchase
from generator.members.sync import (
    Admit,
    Change,
    EndOn,
    Malformed,
    Noted,
    Reader,
    Reading,
    Revoke,
    day_of,
)

EVENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "charge.refunded",
    "charge.dispute.closed",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
PAID = ("paid", "no_payment_required")
#: Subscription statuses that end access (Stripe's Subscription object, `status`).
OVER = ("canceled", "unpaid", "incomplete_expired")
PAGE = 100
#: What a restricted key needs, as the Dashboard names it.
PERMISSIONS = "Events, Checkout Sessions and Subscriptions: Read"

T = TypeVar("T")


class StripeCheckout(Reader):
    name = "stripe"
    default_base = "https://api.stripe.com"

    def __init__(
        self, key: str, base: str | None, tiers: Mapping[str, str], default_tier: str
    ) -> None:
        import stripe

        super().__init__(key, base, tiers, default_tier)
        self.client = stripe.StripeClient(
            key,
            base_addresses={"api": self.base},
            max_network_retries=2,
        )

    # -- reading ---------------------------------------------------------------------

    def read(self, ledger: Ledger) -> Reading:
        return self._call(lambda: self._read(ledger))

    def _read(self, ledger: Ledger) -> Reading:
        import stripe

        params: Any = {"types": list(EVENT_TYPES), "limit": PAGE}
        if ledger.cursor is None:  # the first sync: every event Stripe still keeps
            events = list(reversed(list(self._pages(self.client.v1.events.list(params)))))
        else:
            try:
                after: Any = {**params, "ending_before": ledger.cursor}
                page = self.client.v1.events.list(after)
                events = list(self._pages(page))  # oldest first, after the cursor
            except stripe.InvalidRequestError as error:
                if error.code != "resource_missing":
                    raise
                return self._catch_up(ledger)
        changes = [self._change(_plain(event)) for event in events]
        reading = Reading([c for c in changes if c is not None])
        if events:
            newest = _plain(events[-1])
            reading.cursor = _text(newest, "id", "an event")
            reading.since = _time(newest, "created", reading.cursor)
        return reading

    def _catch_up(self, ledger: Ledger) -> Reading:
        """The cursor is gone (older than Stripe keeps events): read the sessions
        completed since it and the subscriptions as they are now."""
        since = ledger.since or 0
        shown = dt.datetime.fromtimestamp(since, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        newest = self.client.v1.events.list({"types": list(EVENT_TYPES), "limit": 1})
        reading = Reading(
            [],
            notes=[
                f"Stripe no longer has the last event this site applied ({ledger.cursor}; it "
                "keeps events 30 days): caught up from the checkout sessions completed since "
                f"{shown} and every subscription's status. Refunds and lost disputes of that "
                "time are not seen: check them in the Stripe Dashboard and remove those "
                "buyers with 'memberkit members remove EMAIL'"
            ],
        )
        if newest.data:
            top = _plain(newest.data[0])
            reading.cursor = _text(top, "id", "an event")
            reading.since = _time(top, "created", reading.cursor)
        sessions = self.client.v1.checkout.sessions.list(
            {"status": "complete", "created": {"gte": since}, "limit": PAGE}
        )
        for raw in reversed(list(self._pages(sessions))):
            session = _plain(raw)
            created = _time(session, "created", "a checkout session")
            reading.changes.append(self._session(session, None, created))
        subscriptions = self.client.v1.subscriptions.list({"status": "all", "limit": PAGE})
        for raw in self._pages(subscriptions):
            subscription = _plain(raw)
            reading.changes.append(self._subscription(subscription, None, 0, deleted=False))
        return reading

    def _pages(self, page: Any) -> Iterator[Any]:
        """Every item of a list, page after page (Stripe's client pages on its own)."""
        return iter(page.auto_paging_iter())

    # -- what each event says ------------------------------------------------------------

    def _change(self, event: dict[str, Any]) -> Change | None:
        key = _text(event, "id", "an event")
        kind = _text(event, "type", key)
        created = _time(event, "created", key)
        data = event.get("data")
        thing = data.get("object") if isinstance(data, dict) else None
        if not isinstance(thing, dict):
            raise Malformed(f"Stripe's event {key} ({kind}) has no data.object")
        if kind.startswith("checkout.session."):
            return self._session(thing, key, created)
        if kind == "charge.refunded":
            if thing.get("refunded") is not True:
                return Noted(key, created)  # a partial refund: the purchase stands
            return Revoke(
                key,
                created,
                "refunded in full",
                payment=_id(thing.get("payment_intent")),
                customer=_id(thing.get("customer")),
            )
        if kind == "charge.dispute.closed":
            if thing.get("status") != "lost":
                return Noted(key, created)
            return Revoke(key, created, "dispute lost", payment=_id(thing.get("payment_intent")))
        if kind.startswith("customer.subscription."):
            return self._subscription(thing, key, created, deleted=kind.endswith(".deleted"))
        return Noted(key, created)

    def _session(self, session: dict[str, Any], key: str | None, created: int) -> Change:
        session_id = _text(session, "id", "a checkout session")
        if session.get("status") != "complete" or session.get("payment_status") not in PAID:
            return Noted(key, created)
        details = session.get("customer_details") or {}
        email = (details.get("email") if isinstance(details, dict) else None) or session.get(
            "customer_email"
        )
        if not isinstance(email, str) or not email:
            raise Malformed(f"Stripe's checkout session {session_id} gives no customer email")
        name = details.get("name") if isinstance(details, dict) else None
        purchase = Purchase(
            id=session_id,
            tiers=self._tiers_of(session_id),
            payment=_id(session.get("payment_intent")),
            subscription=_id(session.get("subscription")),
            customer=_id(session.get("customer")),
        )
        return Admit(key, created, email, name if isinstance(name, str) else "", purchase)

    def _subscription(
        self, subscription: dict[str, Any], key: str | None, created: int, *, deleted: bool
    ) -> Change:
        sub_id = _text(subscription, "id", "a subscription")
        status = subscription.get("status")
        if deleted or status in OVER:
            why = "subscription ended" if deleted else f"subscription {status}"
            return Revoke(key, created, why, subscription=sub_id, ended=True)
        end = subscription.get("cancel_at")
        if end is None and subscription.get("cancel_at_period_end") is True:
            end = _period_end(subscription, sub_id)
        if end is None:
            return EndOn(key, created, "subscription renews", None, subscription=sub_id)
        if not isinstance(end, int):
            raise Malformed(f"Stripe's subscription {sub_id}: cancel_at is not a time")
        day = day_of(end)
        return EndOn(key, created, f"subscription ends on {day}", day, subscription=sub_id)

    def _tiers_of(self, session_id: str) -> list[str]:
        """The tiers a session's line items are mapped to (checkout_tiers), else the
        first tier. Read only when checkout_tiers maps anything."""
        if not self.tiers:
            return [self.default_tier]
        idents = []
        items = self.client.v1.checkout.sessions.line_items.list(session_id, {"limit": PAGE})
        for raw in self._pages(items):
            price = _plain(raw).get("price") or {}
            idents += [i for i in (_id(price.get("id")), _id(price.get("product"))) if i]
        return self.tiers_for(idents)

    # -- failures --------------------------------------------------------------------------

    def _call(self, work: Callable[[], T]) -> T:
        """Run `work`; whatever Stripe or the network says goes wrong is one line."""
        import stripe

        try:
            return work()
        except MemberkitError:
            raise
        except stripe.AuthenticationError as error:
            raise MemberkitError(
                f"Stripe refused the key in MEMBERKIT_CHECKOUT_KEY ({_said(error)}); set it to "
                f"a restricted key with {PERMISSIONS}"
            ) from None
        except stripe.PermissionError as error:
            raise MemberkitError(
                f"the key in MEMBERKIT_CHECKOUT_KEY lacks a permission ({_said(error)}); "
                f"give it {PERMISSIONS}"
            ) from None
        except stripe.APIConnectionError as error:
            raise MemberkitError(
                f"cannot reach Stripe at {self.base} ({_said(error)}); nothing was changed, "
                "try again later"
            ) from None
        except stripe.StripeError as error:
            status = f"HTTP {error.http_status}: " if error.http_status else ""
            raise MemberkitError(
                f"Stripe at {self.base} answered {status}{_said(error)}; nothing was changed"
            ) from None
        except (KeyError, AttributeError) as error:
            raise Malformed(
                f"Stripe at {self.base} answered something memberkit cannot read (no "
                f"{error.args[0] if error.args else 'field'!r} where Stripe's reference has "
                "one); nothing was changed"
            ) from None
        except (TypeError, ValueError) as error:
            raise Malformed(
                f"Stripe at {self.base} answered something memberkit cannot read ({error}); "
                "nothing was changed"
            ) from None


def _said(error: Any) -> str:
    message = getattr(error, "user_message", None) or str(error) or type(error).__name__
    return " ".join(str(message).split())[:300]


def _plain(thing: Any) -> dict[str, Any]:
    """A Stripe object as plain JSON data."""
    if isinstance(thing, dict) and not hasattr(thing, "to_dict"):
        return thing
    data = thing.to_dict()
    if not isinstance(data, dict):
        raise Malformed("Stripe answered something that is not an object")
    return data


def _text(thing: Mapping[str, Any], name: str, what: str) -> str:
    value = thing.get(name)
    if not isinstance(value, str) or not value:
        raise Malformed(f"Stripe's answer is not what memberkit reads: {what} has no {name}")
    return value


def _time(thing: Mapping[str, Any], name: str, what: str) -> int:
    value = thing.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(f"Stripe's answer is not what memberkit reads: {what} has no {name}")
    return value


def _id(value: Any) -> str | None:
    """An id, whether the field holds it or the object it names (expanded)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _period_end(subscription: Mapping[str, Any], sub_id: str) -> int:
    """When the current period ends: on the items (current API versions), or on the
    subscription itself (versions before 2025-03-31)."""
    items = subscription.get("items")
    data: Sequence[Any] = items.get("data", []) if isinstance(items, dict) else []
    found = [i.get("current_period_end") for i in data if isinstance(i, dict)]
    ends = [e for e in found if isinstance(e, int)]
    if ends:
        return max(ends)
    end = subscription.get("current_period_end")
    if isinstance(end, int):
        return end
    raise Malformed(f"Stripe's subscription {sub_id} gives no current_period_end")
