"""Stand-ins of the checkouts' APIs on 127.0.0.1, for `memberkit members sync`.

Each is a small HTTP server (a thread of the test process) that a test fills with a
checkout history through the helpers a shop's day is made of (a checkout paid, a
refund, a subscription set to cancel...), and that answers the requests the sync makes
as the provider documents them:

- Stripe: the shapes of Stripe's OpenAPI description and its example objects
  (`openapi/fixtures3.json` of github.com/stripe/openapi: `event`, `checkout.session`,
  `subscription` with `current_period_end` on its items, `charge`, `dispute`, `item`);
  lists as `{"object": "list", "data", "has_more", "url"}`, newest first, paged with
  `limit`, `starting_after` and `ending_before` (an unknown cursor is Stripe's 400
  `resource_missing`), filtered by `types[]`, `status` and `created[gte]`; errors as
  `{"error": {"type", "message", "code", "param"}}`, 401 for a key it does not know.
- Lemon Squeezy: JSON:API documents as its API reference shows them (`orders` and
  `subscriptions`, `attributes`, `links.next`, `meta.page`), newest first, paged with
  `page[number]` and `page[size]`; a 401 `errors` document for a key it does not know.

`requests` keeps every request's path and query, so tests can see what was asked.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

DAY = 86400
_serial = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(7)}{next(_serial):04d}"


@dataclass
class Answer:
    status: int
    body: bytes
    kind: str = "application/json"


class StandIn:
    """The HTTP side both stand-ins share: a server, the key it accepts, a way to break."""

    #: Set to make every answer fail: "malformed" (not JSON), "shape" (JSON missing its
    #: fields) or "500".
    broken: str | None = None

    def __init__(self, key: str) -> None:
        self.key = key
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.url = ""

    def start(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with stand_in.lock:
                    stand_in.requests.append(self.path)
                    answer = stand_in.answer(self.path, self.headers.get("Authorization", ""))
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.kind)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, path: str, authorization: str) -> Answer:
        raise NotImplementedError

    def broken_answer(self) -> Answer | None:
        if self.broken == "malformed":
            return Answer(200, b"<html><body>Bad gateway</body></html>", "text/html")
        if self.broken == "shape":
            return Answer(200, json.dumps({"object": "list", "data": [{"id": 7}]}).encode())
        if self.broken == "500":
            return self.error(500, "api_error", "Something went wrong on the server.")
        return None

    def error(self, status: int, kind: str, message: str, **more: str) -> Answer:
        raise NotImplementedError


# -- Stripe -------------------------------------------------------------------------------


@dataclass
class StripeSub:
    """A subscription made by a checkout, as the stand-in keeps it."""

    data: dict[str, Any]
    session: dict[str, Any]


class StripeStandIn(StandIn):
    def __init__(self, key: str = "rk_test_memberkit_read_only") -> None:
        super().__init__(key)
        self.events: list[dict[str, Any]] = []  # oldest first, as they happened
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, list[dict[str, Any]]] = {}
        self.clock = int(time.time()) - 10 * DAY

    def tick(self, seconds: int = 60) -> int:
        self.clock += seconds
        return self.clock

    # -- a shop's day ----------------------------------------------------------------

    def checkout(
        self,
        email: str,
        name: str | None = None,
        *,
        subscription: bool = False,
        paid: bool = True,
        later: bool = False,
        price: str = "price_1MemberkitBasic",
        product: str = "prod_MemberkitBasic",
    ) -> dict[str, Any]:
        """A buyer completes a checkout: paid at once, not paid (`paid=False`: the
        async payment fails later, see `fail_payment`), or paid later (`later=True`:
        `async_payment_succeeded` follows, see `pay_later`)."""
        created = self.tick()
        customer = _id("cus")
        session_id = _id("cs_test")
        session: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": 1900,
            "amount_total": 1900,
            "cancel_url": "https://example.com/cancel",
            "client_reference_id": None,
            "created": created,
            "currency": "usd",
            "customer": customer,
            "customer_creation": "always",
            "customer_details": {
                "address": {
                    "city": None,
                    "country": "NL",
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": email,
                "name": name,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
            "customer_email": None,
            "expires_at": created + DAY,
            "invoice": None,
            "livemode": False,
            "metadata": {},
            "mode": "subscription" if subscription else "payment",
            "payment_intent": None if subscription else _id("pi"),
            "payment_link": "plink_1MemberkitJoin",
            "payment_method_types": ["card"],
            "payment_status": "paid" if paid and not later else "unpaid",
            "status": "complete",
            "subscription": None,
            "success_url": "https://example.com/success",
            "url": None,
        }
        if subscription:
            sub = self._subscription(customer, price, product, created)
            session["subscription"] = sub["id"]
            session["invoice"] = _id("in")
        self.sessions[session_id] = session
        self.line_items[session_id] = [self._line_item(price, product)]
        self._event("checkout.session.completed", session)
        return session

    def pay_later(self, session: dict[str, Any]) -> None:
        session["payment_status"] = "paid"
        self.tick()
        self._event("checkout.session.async_payment_succeeded", session)

    def fail_payment(self, session: dict[str, Any]) -> None:
        self.tick()
        self._event("checkout.session.async_payment_failed", session)

    def abandon(self, email: str) -> dict[str, Any]:
        """A checkout opened and left: it expires, unpaid."""
        session = self.checkout(email, paid=False)
        self.events.pop()  # an abandoned checkout never completes
        session.update(status="expired", payment_status="unpaid", customer_details=None)
        self.tick()
        self._event("checkout.session.expired", session)
        return session

    def refund(self, session: dict[str, Any], *, full: bool = True) -> None:
        charge = self._charge(session)
        charge["amount_refunded"] = charge["amount"] if full else 500
        charge["refunded"] = full
        self.tick()
        self._event("charge.refunded", charge)

    def refund_renewal(self, session: dict[str, Any]) -> None:
        """A renewal's charge of a subscription, refunded in full: it names the customer
        and a payment intent of the renewal's invoice, not the checkout's."""
        charge = self._charge(session, payment_intent=_id("pi"))
        charge.update(amount_refunded=charge["amount"], refunded=True)
        self.tick()
        self._event("charge.refunded", charge)

    def dispute(self, session: dict[str, Any], status: str = "lost") -> None:
        charge = self._charge(session)
        dispute = {
            "id": _id("dp"),
            "object": "dispute",
            "amount": 1900,
            "balance_transactions": [],
            "charge": charge["id"],
            "created": self.tick(),
            "currency": "usd",
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": session["payment_intent"],
            "reason": "fraudulent",
            "status": status,
        }
        self._event("charge.dispute.closed", dispute)

    def cancel_at_period_end(self, session: dict[str, Any], on: bool = True) -> int:
        sub = self.subscriptions[session["subscription"]]
        sub["cancel_at_period_end"] = on
        sub["canceled_at"] = self.clock if on else None
        self.tick()
        self._event("customer.subscription.updated", sub)
        return int(sub["items"]["data"][0]["current_period_end"])

    def renew(self, session: dict[str, Any]) -> None:
        sub = self.subscriptions[session["subscription"]]
        item = sub["items"]["data"][0]
        item["current_period_start"] = item["current_period_end"]
        item["current_period_end"] += 30 * DAY
        self.tick()
        self._event("customer.subscription.updated", sub)
        self._event("invoice.paid", {"id": _id("in"), "object": "invoice"})

    def set_status(self, session: dict[str, Any], status: str) -> None:
        sub = self.subscriptions[session["subscription"]]
        sub["status"] = status
        self.tick()
        self._event("customer.subscription.updated", sub)

    def delete_subscription(self, session: dict[str, Any]) -> None:
        sub = self.subscriptions[session["subscription"]]
        sub.update(status="canceled", ended_at=self.tick(), canceled_at=self.clock)
        self._event("customer.subscription.deleted", sub)

    def forget_events(self) -> None:
        """Stripe keeps events 30 days: every event so far is gone."""
        self.events.clear()

    # -- objects -----------------------------------------------------------------------

    def _event(self, kind: str, thing: dict[str, Any]) -> None:
        self.events.append(
            {
                "id": _id("evt"),
                "object": "event",
                "api_version": "2025-03-31.basil",
                "created": self.clock,
                "data": {"object": json.loads(json.dumps(thing))},
                "livemode": False,
                "pending_webhooks": 0,
                "request": {"id": None, "idempotency_key": None},
                "type": kind,
            }
        )

    def _subscription(self, customer: str, price: str, product: str, now: int) -> dict[str, Any]:
        sub_id = _id("sub")
        sub = {
            "id": sub_id,
            "object": "subscription",
            "billing_cycle_anchor": now,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "collection_method": "charge_automatically",
            "created": now,
            "currency": "usd",
            "customer": customer,
            "ended_at": None,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": _id("si"),
                        "object": "subscription_item",
                        "created": now,
                        "current_period_start": now,
                        "current_period_end": now + 30 * DAY,
                        "metadata": {},
                        "price": self._price(price, product),
                        "quantity": 1,
                        "subscription": sub_id,
                    }
                ],
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": {},
            "start_date": now,
            "status": "active",
        }
        self.subscriptions[sub_id] = sub
        return sub

    def _price(self, price: str, product: str) -> dict[str, Any]:
        return {
            "id": price,
            "object": "price",
            "active": True,
            "currency": "usd",
            "product": product,
            "type": "one_time",
            "unit_amount": 1900,
        }

    def _line_item(self, price: str, product: str) -> dict[str, Any]:
        return {
            "id": _id("li"),
            "object": "item",
            "amount_subtotal": 1900,
            "amount_total": 1900,
            "currency": "usd",
            "description": "Membership",
            "price": self._price(price, product),
            "quantity": 1,
        }

    def _charge(self, session: dict[str, Any], payment_intent: str | None = None) -> dict[str, Any]:
        return {
            "id": _id("ch"),
            "object": "charge",
            "amount": 1900,
            "amount_captured": 1900,
            "amount_refunded": 0,
            "billing_details": {"email": None, "name": None},
            "captured": True,
            "created": self.clock,
            "currency": "usd",
            "customer": session["customer"],
            "disputed": False,
            "livemode": False,
            "paid": True,
            "payment_intent": payment_intent or session["payment_intent"],
            "refunded": False,
            "status": "succeeded",
        }

    # -- the API ------------------------------------------------------------------------

    def error(self, status: int, kind: str, message: str, **more: str) -> Answer:
        body = {"error": {"type": kind, "message": message, **more}}
        return Answer(status, json.dumps(body).encode())

    def answer(self, path: str, authorization: str) -> Answer:
        if authorization != f"Bearer {self.key}":
            shown = authorization.removeprefix("Bearer ")[-4:]
            return self.error(
                401, "invalid_request_error", f"Invalid API Key provided: rk_test_****{shown}"
            )
        broken = self.broken_answer()
        if broken is not None:
            return broken
        parts = urlsplit(path)
        query = parse_qsl(parts.query)
        params = dict(query)
        if parts.path == "/v1/events":
            types = {v for k, v in query if k == "types[]" or k.startswith("types[")}
            events = [e for e in reversed(self.events) if not types or e["type"] in types]
            return self._list(parts.path, events, params, "event")
        if parts.path == "/v1/checkout/sessions":
            found = [s for s in self.sessions.values() if s["status"] == "complete"]
            if "status" in params:
                found = [s for s in found if s["status"] == params["status"]]
            if "created[gte]" in params:
                found = [s for s in found if s["created"] >= int(params["created[gte]"])]
            found.sort(key=lambda s: s["created"], reverse=True)
            return self._list(parts.path, found, params, "checkout session")
        if parts.path.startswith("/v1/checkout/sessions/") and parts.path.endswith("/line_items"):
            session_id = parts.path.split("/")[4]
            if session_id not in self.line_items:
                return self.error(
                    404,
                    "invalid_request_error",
                    f"No such checkout session: '{session_id}'",
                    code="resource_missing",
                    param="session",
                )
            return self._list(parts.path, self.line_items[session_id], params, "line item")
        if parts.path == "/v1/subscriptions":
            found = list(self.subscriptions.values())
            if params.get("status") != "all":
                found = [s for s in found if s["status"] != "canceled"]
            found.sort(key=lambda s: s["created"], reverse=True)
            return self._list(parts.path, found, params, "subscription")
        return self.error(
            404,
            "invalid_request_error",
            f"Unrecognized request URL (GET: {parts.path}).",
        )

    def _list(
        self, url: str, items: list[dict[str, Any]], params: dict[str, str], what: str
    ) -> Answer:
        """A page of `items` (newest first), as Stripe's cursors pick it."""
        limit = min(max(int(params.get("limit", 10)), 1), 100)
        ids = [item["id"] for item in items]
        for cursor in ("starting_after", "ending_before"):
            if cursor in params and params[cursor] not in ids:
                return self.error(
                    400,
                    "invalid_request_error",
                    f"No such {what}: '{params[cursor]}'",
                    code="resource_missing",
                    param=cursor,
                )
        if "starting_after" in params:
            rest = items[ids.index(params["starting_after"]) + 1 :]
            page, more = rest[:limit], len(rest) > limit
        elif "ending_before" in params:
            before = items[: ids.index(params["ending_before"])]
            page, more = before[-limit:], len(before) > limit
        else:
            page, more = items[:limit], len(items) > limit
        body = {"object": "list", "data": page, "has_more": more, "url": url}
        return Answer(200, json.dumps(body).encode())


# -- Lemon Squeezy ----------------------------------------------------------------------


def _iso(moment: int) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


@dataclass
class LemonOrder:
    order: dict[str, Any]
    subscription: dict[str, Any] | None = field(default=None)


class LemonSqueezyStandIn(StandIn):
    def __init__(self, key: str = "lemon-test-api-key") -> None:
        super().__init__(key)
        self.orders: list[dict[str, Any]] = []  # oldest first
        self.subscriptions: list[dict[str, Any]] = []
        self.clock = int(time.time()) - 10 * DAY
        self.numbers = itertools.count(1001)

    def tick(self, seconds: int = 60) -> int:
        self.clock += seconds
        return self.clock

    # -- a shop's day ------------------------------------------------------------------

    def order(
        self,
        email: str,
        name: str = "",
        *,
        subscription: bool = False,
        status: str = "paid",
        variant: int = 11,
        product: int = 7,
    ) -> LemonOrder:
        created = self.tick()
        number = next(self.numbers)
        order = {
            "type": "orders",
            "id": str(number),
            "attributes": {
                "store_id": 1,
                "customer_id": number + 5000,
                "identifier": secrets.token_hex(16),
                "order_number": number,
                "user_name": name,
                "user_email": email,
                "currency": "USD",
                "currency_rate": "1.0000",
                "subtotal": 1900,
                "discount_total": 0,
                "tax": 0,
                "total": 1900,
                "subtotal_usd": 1900,
                "total_usd": 1900,
                "tax_name": None,
                "tax_rate": "0.00",
                "tax_inclusive": False,
                "status": status,
                "status_formatted": status.replace("_", " ").title(),
                "refunded": False,
                "refunded_at": None,
                "subtotal_formatted": "$19.00",
                "total_formatted": "$19.00",
                "first_order_item": {
                    "id": number + 9000,
                    "order_id": number,
                    "product_id": product,
                    "variant_id": variant,
                    "price_id": variant * 100,
                    "product_name": "Membership",
                    "variant_name": "Default",
                    "price": 1900,
                    "created_at": _iso(created),
                    "updated_at": _iso(created),
                    "test_mode": True,
                },
                "urls": {"receipt": f"https://example.com/receipt/{number}"},
                "created_at": _iso(created),
                "updated_at": _iso(created),
                "test_mode": True,
            },
            "relationships": {},
            "links": {"self": f"{self.url}/v1/orders/{number}"},
        }
        self.orders.append(order)
        made = LemonOrder(order)
        if subscription:
            sub_id = len(self.subscriptions) + 1
            made.subscription = {
                "type": "subscriptions",
                "id": str(sub_id),
                "attributes": {
                    "store_id": 1,
                    "customer_id": number + 5000,
                    "order_id": number,
                    "order_item_id": number + 9000,
                    "product_id": product,
                    "variant_id": variant,
                    "product_name": "Membership",
                    "variant_name": "Monthly",
                    "user_name": name,
                    "user_email": email,
                    "status": "active",
                    "status_formatted": "Active",
                    "pause": None,
                    "cancelled": False,
                    "trial_ends_at": None,
                    "billing_anchor": 1,
                    "renews_at": _iso(created + 30 * DAY),
                    "ends_at": None,
                    "created_at": _iso(created),
                    "updated_at": _iso(created),
                    "test_mode": True,
                },
                "relationships": {},
                "links": {"self": f"{self.url}/v1/subscriptions/{sub_id}"},
            }
            self.subscriptions.append(made.subscription)
        return made

    def refund(self, made: LemonOrder) -> None:
        attributes = made.order["attributes"]
        attributes.update(status="refunded", status_formatted="Refunded", refunded=True)
        attributes["refunded_at"] = _iso(self.tick())

    def partial_refund(self, made: LemonOrder) -> None:
        made.order["attributes"].update(status="partial_refund", refunded_amount=500)

    def pay(self, made: LemonOrder) -> None:
        made.order["attributes"].update(status="paid", status_formatted="Paid")

    def cancel(self, made: LemonOrder) -> str:
        """The buyer cancels: access until the period ends (`ends_at`)."""
        assert made.subscription is not None
        attributes = made.subscription["attributes"]
        ends = attributes["renews_at"]
        attributes.update(status="cancelled", cancelled=True, ends_at=ends)
        return str(ends)

    def set_status(self, made: LemonOrder, status: str) -> None:
        assert made.subscription is not None
        made.subscription["attributes"]["status"] = status

    def renew(self, made: LemonOrder) -> None:
        assert made.subscription is not None
        attributes = made.subscription["attributes"]
        renews = dt.datetime.fromisoformat(attributes["renews_at"]).timestamp()
        attributes["renews_at"] = _iso(int(renews) + 30 * DAY)

    # -- the API -------------------------------------------------------------------------

    def error(self, status: int, kind: str, message: str, **more: str) -> Answer:
        body = {
            "jsonapi": {"version": "1.0"},
            "errors": [{"detail": message, "status": str(status), "title": kind}],
        }
        return Answer(status, json.dumps(body).encode(), "application/vnd.api+json")

    def answer(self, path: str, authorization: str) -> Answer:
        if authorization != f"Bearer {self.key}":
            return self.error(401, "Unauthorized", "Unauthenticated.")
        broken = self.broken_answer()
        if broken is not None:
            return broken
        parts = urlsplit(path)
        params = dict(parse_qsl(parts.query))
        if parts.path == "/v1/orders":
            return self._page(parts.path, list(reversed(self.orders)), params)
        if parts.path == "/v1/subscriptions":
            return self._page(parts.path, list(reversed(self.subscriptions)), params)
        return self.error(404, "Not Found", "The route could not be found.")

    def _page(self, path: str, items: list[dict[str, Any]], params: dict[str, str]) -> Answer:
        size = min(max(int(params.get("page[size]", 10)), 1), 100)
        number = max(int(params.get("page[number]", 1)), 1)
        last = max((len(items) + size - 1) // size, 1)
        page = items[(number - 1) * size : number * size]

        def link(n: int) -> str:
            query = urlencode({"page[number]": n, "page[size]": size, "sort": "-createdAt"})
            return f"{self.url}{path}?{query}"

        links = {"first": link(1), "last": link(last)}
        if number < last:
            links["next"] = link(number + 1)
        if number > 1:
            links["prev"] = link(number - 1)
        body = {
            "meta": {
                "page": {
                    "currentPage": number,
                    "from": (number - 1) * size + 1,
                    "lastPage": last,
                    "perPage": size,
                    "to": (number - 1) * size + len(page),
                    "total": len(items),
                }
            },
            "jsonapi": {"version": "1.0"},
            "links": links,
            "data": page,
        }
        return Answer(200, json.dumps(body).encode(), "application/vnd.api+json")


@contextmanager
def running(stand_in: StandIn) -> Iterator[StandIn]:
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()
