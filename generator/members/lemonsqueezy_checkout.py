"""Reading a Lemon Squeezy store for `members sync`, from its JSON:API.

Lemon Squeezy has no list of events: every sync reads all orders (`GET /v1/orders`,
newest first) and all subscriptions (`GET /v1/subscriptions`), page by page
(`page[number]`, `page[size]`, following `links.next`), and says what each one means now:

- an order `paid` and not `refunded` admits `user_email`, named `user_name`, once: an
  order is applied when it is first seen paid (the ledger remembers it), so a member the
  owner removes is not added again. Its tiers come from its first item's variant,
  product or price (`checkout_tiers`).
- an order `refunded`, or `fraudulent`, ends its purchase (a partial refund does not).
- the order's subscription, if any: `expired` or `unpaid` ends the purchase;
  `cancelled` gives its `ends_at` as the last day; any other status (`active`,
  `on_trial`, `past_due`, `paused`) clears it, so a renewal changes nothing.

No MkDocs import.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from generator.errors import MemberkitError
from generator.members.purchases import REMEMBER_DAYS, Ledger, Purchase
from generator.members.sync import (
    Admit,
    Change,
    EndOn,
    Malformed,
    Reader,
    Reading,
    Revoke,
    day_of,
)

API = "https://api.lemonsqueezy.com"
PAGE = 100
TIMEOUT = 30.0
#: Order statuses that admit (Lemon Squeezy's Order object, `status`).
PAID = ("paid", "partial_refund")
REFUNDED = ("refunded", "fraudulent")
#: Subscription statuses that end access.
OVER = ("expired", "unpaid")


class LemonSqueezyCheckout(Reader):
    name = "lemonsqueezy"
    default_base = API

    def read(self, ledger: Ledger) -> Reading:
        orders = self._all("/v1/orders")
        subscriptions: dict[str, dict[str, Any]] = {}
        for item in self._all("/v1/subscriptions"):
            attributes = _attributes(item, "subscription")
            order = attributes.get("order_id")
            if order is not None:
                subscriptions[str(order)] = item
        reading = Reading([])
        # Orders come newest first; an order older than what the ledger remembers was
        # seen by an earlier sync (or is history from before the first one).
        oldest = None if ledger.since is None else ledger.since - REMEMBER_DAYS * 86400
        for order in reversed(orders):
            reading.changes.extend(self._order(order, subscriptions, oldest))
            created = _created(order)
            if reading.since is None or created > reading.since:
                reading.since = created
        return reading

    def _order(
        self, order: dict[str, Any], subscriptions: Mapping[str, dict[str, Any]], oldest: int | None
    ) -> list[Change]:
        number = _ident(order, "order")
        attributes = _attributes(order, f"order {number}")
        created = _created(order)
        key = f"order-{number}"
        subscription = subscriptions.get(number)
        changes: list[Change] = []
        status = attributes.get("status")
        if status in REFUNDED or attributes.get("refunded") is True:
            return [Revoke(None, created, f"order {status or 'refunded'}", purchase=key)]
        expires, over = None, ""
        sub_key = None
        if subscription is not None:
            sub_key = f"subscription-{_ident(subscription, 'subscription')}"
            sub = _attributes(subscription, sub_key)
            state = sub.get("status")
            if state in OVER:
                over = f"subscription {state}"
            elif state == "cancelled":
                ends = sub.get("ends_at")
                if not isinstance(ends, str):
                    raise Malformed(f"Lemon Squeezy's {sub_key} is cancelled with no ends_at")
                expires = day_of(_timestamp(ends, sub_key))
        if status in PAID and not over and (oldest is None or created >= oldest):
            email = attributes.get("user_email")
            if not isinstance(email, str) or not email:
                raise Malformed(f"Lemon Squeezy's order {number} has no user_email")
            name = attributes.get("user_name")
            purchase = Purchase(
                id=key,
                tiers=self._tiers_of(attributes, subscription),
                expires=expires,
                subscription=sub_key,
            )
            changes.append(
                Admit(None, created, email, name if isinstance(name, str) else "", purchase)
            )
        if over:
            changes.append(Revoke(None, created, over, purchase=key, ended=True))
        else:
            why = f"subscription ends on {expires}" if expires else "subscription renews"
            changes.append(EndOn(None, created, why, expires, purchase=key))
        return changes

    def _tiers_of(self, order: Mapping[str, Any], subscription: dict[str, Any] | None) -> list[str]:
        if not self.tiers:
            return [self.default_tier]
        item = order.get("first_order_item")
        sources = [item if isinstance(item, dict) else {}]
        if subscription is not None:
            sources.append(subscription.get("attributes") or {})
        return self.tiers_for(
            str(source[name])
            for source in sources
            for name in ("variant_id", "product_id", "price_id")
            if source.get(name) is not None
        )

    # -- the API -----------------------------------------------------------------------

    def _all(self, path: str) -> list[dict[str, Any]]:
        """Every resource of a list, following `links.next` (on this API's host only:
        the key goes nowhere else)."""
        url: str | None = f"{self.base}{path}?{urlencode({'page[size]': PAGE})}"
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        while url:
            if url in seen:
                raise Malformed(f"Lemon Squeezy's {path} pages point back to {url}")
            seen.add(url)
            answer = self._get(url)
            data = answer.get("data")
            if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
                raise Malformed(f"Lemon Squeezy's {path}: the answer has no list of data")
            found.extend(data)
            links = answer.get("links")
            url = links.get("next") if isinstance(links, dict) else None
            if url is not None and not (isinstance(url, str) and _same_host(url, self.base)):
                raise Malformed(f"Lemon Squeezy's {path}: links.next leads elsewhere ({url!r})")
        return found

    def _get(self, url: str) -> dict[str, Any]:
        request = Request(
            url,
            headers={
                "Accept": "application/vnd.api+json",
                "Authorization": f"Bearer {self.key}",
                "User-Agent": "memberkit",
            },
        )
        try:
            with urlopen(request, timeout=TIMEOUT) as response:
                body = response.read()
        except HTTPError as error:
            said = _error_detail(error)
            if error.code == 401:
                raise MemberkitError(
                    f"Lemon Squeezy refused the key in MEMBERKIT_CHECKOUT_KEY ({said}); set it "
                    "to an API key of your store (Settings > API)"
                ) from None
            raise MemberkitError(
                f"Lemon Squeezy at {self.base} answered HTTP {error.code} ({said}); nothing "
                "was changed"
            ) from None
        except (TimeoutError, URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise MemberkitError(
                f"cannot reach Lemon Squeezy at {self.base} ({reason}); nothing was changed, "
                "try again later"
            ) from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise Malformed(
                f"Lemon Squeezy at {self.base} answered something that is not JSON; nothing "
                "was changed"
            ) from None
        if not isinstance(answer, dict):
            raise Malformed(f"Lemon Squeezy at {self.base} answered JSON that is no object")
        return answer


def _error_detail(error: HTTPError) -> str:
    """The first error's detail of a JSON:API error answer, else the HTTP reason."""
    try:
        errors = json.loads(error.read()).get("errors")
        first = errors[0]
        text = first.get("detail") or first.get("title")
        if isinstance(text, str) and text:
            return " ".join(text.split())[:300]
    except (ValueError, AttributeError, IndexError, KeyError, TypeError, OSError):
        pass
    return f"{error.code} {error.reason}"


def _same_host(url: str, base: str) -> bool:
    one, two = urlsplit(url), urlsplit(base)
    return (one.scheme, one.netloc) == (two.scheme, two.netloc)


def _ident(resource: Mapping[str, Any], what: str) -> str:
    value = resource.get("id")
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise Malformed(f"Lemon Squeezy's answer: a {what} has no id")
    return str(value)


def _attributes(resource: Mapping[str, Any], what: str) -> dict[str, Any]:
    attributes = resource.get("attributes")
    if not isinstance(attributes, dict):
        raise Malformed(f"Lemon Squeezy's answer: {what} has no attributes")
    return attributes


def _created(order: Mapping[str, Any]) -> int:
    attributes = _attributes(order, "an order")
    value = attributes.get("created_at")
    if not isinstance(value, str):
        raise Malformed(f"Lemon Squeezy's order {order.get('id')} has no created_at")
    return _timestamp(value, f"order {order.get('id')}")


def _timestamp(value: str, what: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Malformed(f"Lemon Squeezy's {what}: {value!r} is not a date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())
