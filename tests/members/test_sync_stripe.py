"""`memberkit members sync` against a stand-in of Stripe's API (tests/checkouts.py): who
joins, who leaves, what a subscription's end does, that nothing is applied twice, and
that a failure changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.members import store
from generator.members.state import State

from ..checkouts import StripeStandIn, running
from ..conftest import copy_project, run_memberkit
from ..mailserver import mail_server

SENDER = "Outsource Without Regret <hello@example.com>"
PREMIUM_PRICE = "price_1MemberkitPremium"


@pytest.fixture
def api() -> Any:
    with running(StripeStandIn()) as stand_in:
        yield stand_in


def configure(project: Path, checkout: str, tiers: str = "") -> Path:
    config = project / "mkdocs.yml"
    text = config.read_text().replace(
        "      tiers: [members]\n", "      tiers: [members, premium]\n"
    )
    settings = f"      checkout_api: {checkout}\n" + (
        f"      checkout_tiers: {tiers}\n" if tiers else ""
    )
    config.write_text(
        text.replace("      join_url: join.md\n", "      join_url: join.md\n" + settings)
    )
    return project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return configure(
        copy_project(tmp_path / "project", with_state=False),
        "stripe",
        f"{{{PREMIUM_PRICE}: premium}}",
    )


def environment(api: Any, **more: str) -> dict[str, str]:
    """The sync's environment: the stand-in's address and key, and every other host
    unreachable (a proxy that answers nothing), so no request leaves this machine."""
    return {
        "MEMBERKIT_PBKDF2_ITERATIONS": "100000",
        "MEMBERKIT_MAIL_FROM": SENDER,
        "MEMBERKIT_CHECKOUT_KEY": api.key,
        "MEMBERKIT_CHECKOUT_API": api.url,
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1",
        **more,
    }


def sync(project: Path, api: Any, *args: str, **env: str) -> Any:
    return run_memberkit("members", "sync", *args, cwd=project, env=environment(api, **env))


def roster(project: Path) -> State:
    return store.load(project / store.STATE_DIR)


def state_files(project: Path) -> dict[str, bytes]:
    folder = project / store.STATE_DIR
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != store.LOCK_FILE
    }


def outbox(project: Path) -> list[str]:
    return sorted(p.name for p in (project / store.STATE_DIR / "outbox").glob("*.eml"))


def test_a_paid_checkout_makes_a_member_and_queues_their_welcome(project: Path, api: Any) -> None:
    api.checkout("Ana@Example.com", "Ana Lima")
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert "ana@example.com: joins (members)" in result.stdout
    member = roster(project).members["ana@example.com"]
    assert (member.name, member.tiers, member.expires) == ("Ana Lima", ["members"], None)
    assert [p.id for p in member.purchases] == [api.events[0]["data"]["object"]["id"]]
    assert member.by_hand is None
    assert outbox(project) == ["ana@example.com.eml"]
    assert "members resend --all" in result.stdout


def test_unpaid_expired_and_failed_checkouts_make_no_member(project: Path, api: Any) -> None:
    pending = api.checkout("later@example.com", "Paying Later", later=True)
    failing = api.checkout("fails@example.com", paid=False)
    api.fail_payment(failing)
    api.abandon("left@example.com")
    first = sync(project, api)
    assert first.returncode == 0, first.stderr
    assert roster(project).members == {}
    assert outbox(project) == []
    api.pay_later(pending)  # the bank debit arrives: async_payment_succeeded
    second = sync(project, api)
    assert second.returncode == 0, second.stderr
    assert list(roster(project).members) == ["later@example.com"]


def test_a_second_sync_with_nothing_new_changes_nothing(project: Path, api: Any) -> None:
    api.checkout("ana@example.com", "Ana")
    sub = api.checkout("bo@example.com", "Bo", subscription=True)
    api.renew(sub)
    assert sync(project, api).returncode == 0
    before = state_files(project)
    again = sync(project, api)
    assert again.returncode == 0, again.stderr
    assert "Synced with Stripe: nothing new." in again.stdout
    assert state_files(project) == before  # not a byte rewritten


def test_the_tier_follows_the_price_and_the_first_tier_is_the_default(
    project: Path, api: Any
) -> None:
    api.checkout("gold@example.com", price=PREMIUM_PRICE)
    api.checkout("plain@example.com", price="price_1SomethingElse")
    assert sync(project, api).returncode == 0
    members = roster(project).members
    assert members["gold@example.com"].tiers == ["premium"]
    assert members["plain@example.com"].tiers == ["members"]
    # The name, when the checkout asked for none: the email's first part.
    assert members["plain@example.com"].name == "plain"


@pytest.mark.parametrize("how", ["refund", "dispute"])
def test_a_full_refund_or_a_lost_dispute_removes_the_buyer(
    project: Path, api: Any, how: str
) -> None:
    session = api.checkout("ana@example.com", "Ana")
    api.checkout("bo@example.com", "Bo")
    assert sync(project, api).returncode == 0
    getattr(api, how)(session)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert "ana@example.com: removed" in result.stdout
    assert list(roster(project).members) == ["bo@example.com"]
    assert outbox(project) == ["bo@example.com.eml"]  # Ana's unsent welcome went with her
    # Paid back: signing in does not tell her to renew.
    assert roster(project).ended == {}


def test_a_partial_refund_or_a_won_dispute_changes_nothing(project: Path, api: Any) -> None:
    session = api.checkout("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    api.refund(session, full=False)
    api.dispute(session, status="won")
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert list(roster(project).members) == ["ana@example.com"]


def test_a_buyer_refunded_before_the_sync_never_joins(project: Path, api: Any) -> None:
    session = api.checkout("ana@example.com", "Ana")
    api.refund(session)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert roster(project).members == {} and outbox(project) == []


def test_a_subscription_set_to_cancel_gives_its_end_and_a_deletion_ends_access(
    project: Path, api: Any
) -> None:
    session = api.checkout("bo@example.com", "Bo", subscription=True)
    assert sync(project, api).returncode == 0
    end = api.cancel_at_period_end(session)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    day = dt.datetime.fromtimestamp(end, dt.UTC).date().isoformat()
    assert roster(project).members["bo@example.com"].expires == day
    api.cancel_at_period_end(session, on=False)  # the buyer changes their mind
    assert sync(project, api).returncode == 0
    assert roster(project).members["bo@example.com"].expires is None
    api.cancel_at_period_end(session)
    assert sync(project, api).returncode == 0
    api.delete_subscription(session)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert roster(project).members == {}
    # Over, not paid back: signing in tells Bo it ended on its last day, and how to renew
    # (the day it was set to end on, or today if it was ended before that).
    last_day = min(day, dt.date.today().isoformat())
    assert f"signing in says it ended on {last_day}" in result.stdout
    ended = roster(project).ended["bo@example.com"]
    assert (ended.name, ended.expires) == ("Bo", last_day)


def test_the_period_end_is_read_from_the_items_of_the_subscription(project: Path, api: Any) -> None:
    """Current API versions have no current_period_end on the subscription itself."""
    session = api.checkout("bo@example.com", "Bo", subscription=True)
    sub = api.subscriptions[session["subscription"]]
    assert "current_period_end" not in sub
    sub["items"]["data"][0]["current_period_end"] = 4102444800  # 2100-01-01
    api.cancel_at_period_end(session)
    assert sync(project, api).returncode == 0
    assert roster(project).members["bo@example.com"].expires == "2100-01-01"


@pytest.mark.parametrize("status", ["unpaid", "canceled"])
def test_an_unpaid_or_canceled_subscription_ends_access(
    project: Path, api: Any, status: str
) -> None:
    session = api.checkout("bo@example.com", "Bo", subscription=True)
    assert sync(project, api).returncode == 0
    api.set_status(session, "past_due")  # Stripe retries: access stays
    assert sync(project, api).returncode == 0
    assert "bo@example.com" in roster(project).members
    api.set_status(session, status)
    assert sync(project, api).returncode == 0
    assert roster(project).members == {}
    assert roster(project).ended["bo@example.com"].expires == dt.date.today().isoformat()


def test_a_renewal_keeps_the_member_as_they_are(project: Path, api: Any) -> None:
    session = api.checkout("bo@example.com", "Bo", subscription=True)
    assert sync(project, api).returncode == 0
    before = roster(project).members["bo@example.com"]
    api.renew(session)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    after = roster(project).members["bo@example.com"]
    assert (after.lookup, after.expires, after.tiers) == (before.lookup, None, ["members"])
    assert outbox(project) == ["bo@example.com.eml"]  # no second welcome


def test_a_refunded_renewal_ends_the_customers_subscription(project: Path, api: Any) -> None:
    session = api.checkout("bo@example.com", "Bo", subscription=True)
    api.checkout("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    api.refund_renewal(session)
    assert sync(project, api).returncode == 0
    assert list(roster(project).members) == ["ana@example.com"]
    assert roster(project).ended == {}  # paid back: not told to renew


def test_a_member_who_buys_again_keeps_their_password(project: Path, api: Any) -> None:
    first = api.checkout("ana@example.com", "Ana", subscription=True)
    assert sync(project, api).returncode == 0
    api.cancel_at_period_end(first)
    assert sync(project, api).returncode == 0
    kept = roster(project).members["ana@example.com"]
    assert kept.expires is not None
    again = api.checkout("ana@example.com", "Ana", price=PREMIUM_PRICE)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert "keeps their password" in result.stdout
    member = roster(project).members["ana@example.com"]
    assert (member.lookup, member.kek) == (kept.lookup, kept.kek)
    assert (member.tiers, member.expires) == (["members", "premium"], None)
    # Refunding the second purchase takes away only what it gave.
    api.refund(again)
    assert sync(project, api).returncode == 0
    member = roster(project).members["ana@example.com"]
    assert (member.tiers, member.expires) == (["members"], kept.expires)


def test_a_refund_leaves_what_the_owner_gave_by_hand(project: Path, api: Any) -> None:
    added = run_memberkit(
        "members",
        "add",
        "vip@example.com",
        "--name",
        "Vip",
        "--expires",
        "2099-12-31",
        cwd=project,
        env=environment(api),
    )
    assert added.returncode == 0, added.stderr
    session = api.checkout("vip@example.com", "Vip", price=PREMIUM_PRICE)
    assert sync(project, api).returncode == 0
    member = roster(project).members["vip@example.com"]
    assert (member.tiers, member.expires) == (["members", "premium"], None)
    api.refund(session)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert "keeps what you gave them by hand" in result.stdout
    member = roster(project).members["vip@example.com"]
    assert (member.tiers, member.expires, member.purchases) == (["members"], "2099-12-31", [])


def test_a_buyer_removed_by_hand_is_not_added_back(project: Path, api: Any) -> None:
    api.checkout("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    removed = run_memberkit(
        "members", "remove", "ana@example.com", cwd=project, env=environment(api)
    )
    assert removed.returncode == 0, removed.stderr
    assert sync(project, api).returncode == 0
    assert roster(project).members == {}


def test_a_cursor_stripe_no_longer_keeps_catches_up_from_sessions_and_subscriptions(
    project: Path, api: Any
) -> None:
    kept = api.checkout("bo@example.com", "Bo", subscription=True)
    assert sync(project, api).returncode == 0
    api.forget_events()  # 30 days later: every event the cursor knew is gone
    api.checkout("cy@example.com", "Cy")
    api.subscriptions[kept["subscription"]]["status"] = "canceled"
    api.forget_events()
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert "no longer has the last event" in result.stderr
    assert list(roster(project).members) == ["cy@example.com"]
    assert any(r.startswith("/v1/checkout/sessions?") for r in api.requests)
    again = sync(project, api)
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stderr
    api.checkout("dee@example.com", "Dee")  # events flow again from the new cursor
    assert sync(project, api).returncode == 0
    assert sorted(roster(project).members) == ["cy@example.com", "dee@example.com"]


def test_events_are_read_page_after_page_oldest_first(project: Path, api: Any) -> None:
    for number in range(120):
        api.checkout(f"buyer{number}@example.com")
    session = api.checkout("late@example.com")
    api.refund(session)  # after its checkout: read in that order, it never joins
    assert sync(project, api).returncode == 0
    members = roster(project).members
    assert len(members) == 120 and "late@example.com" not in members
    for number in range(120, 230):
        api.checkout(f"buyer{number}@example.com")
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert len(roster(project).members) == 230
    pages = [r for r in api.requests if r.startswith("/v1/events?")]
    assert sum("ending_before" in p for p in pages) >= 2  # two pages after the cursor


@pytest.mark.parametrize(
    ("breakage", "said"),
    [
        ("malformed", "Stripe at http://127.0.0.1"),
        ("shape", "answered something memberkit cannot read"),
        ("500", "answered HTTP 500"),
        ("bad key", "Stripe refused the key in MEMBERKIT_CHECKOUT_KEY"),
        ("unreachable", "cannot reach Stripe at http://127.0.0.1:9"),
    ],
)
def test_a_failure_is_one_line_and_changes_nothing(
    project: Path, api: Any, breakage: str, said: str
) -> None:
    fails_cleanly(project, api, breakage, said, api.checkout)


def fails_cleanly(
    project: Path, api: Any, breakage: str, said: str, sell: Callable[[str, str], Any]
) -> None:
    """After one good sync and a new sale, `breakage` makes the next sync fail: one
    line saying `said`, exit 1, the state as it was."""
    sell("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    sell("bo@example.com", "Bo")
    before = state_files(project)
    env = {}
    if breakage == "bad key":
        env["MEMBERKIT_CHECKOUT_KEY"] = "wrong"
    elif breakage == "unreachable":
        env["MEMBERKIT_CHECKOUT_API"] = "http://127.0.0.1:9"
    else:
        api.broken = breakage
    result = sync(project, api, **env)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and said in line, line
    assert "Traceback" not in result.stderr
    assert state_files(project) == before


def test_settings_are_checked_before_anything_is_read(project: Path, api: Any) -> None:
    result = sync(project, api, MEMBERKIT_CHECKOUT_KEY="")
    assert result.returncode == 1 and "set MEMBERKIT_CHECKOUT_KEY" in result.stderr
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace(": premium}", ": gold}"))
    result = sync(project, api)
    assert result.returncode == 1
    assert "checkout_tiers gives 'price_1MemberkitPremium' the tier 'gold'" in result.stderr
    assert api.requests == []


def test_send_mails_each_new_member_once(project: Path, api: Any, tmp_path: Path) -> None:
    api.checkout("ana@example.com", "Ana Lima")
    sub = api.checkout("bo@example.com", "Bo", subscription=True)
    with mail_server(tmp_path / "mail") as (inbox, url, env):
        first = sync(project, api, "--send", MEMBERKIT_SMTP=url, **env)
        assert first.returncode == 0, first.stderr
        api.renew(sub)
        api.checkout("ana@example.com", "Ana Lima")  # buys again: keeps her login
        second = sync(project, api, "--send", MEMBERKIT_SMTP=url, **env)
        assert second.returncode == 0, second.stderr
        third = sync(project, api, "--send", MEMBERKIT_SMTP=url, **env)
        assert third.returncode == 0, third.stderr
    assert sorted(r[0] for r in inbox.recipients) == ["ana@example.com", "bo@example.com"]
    assert outbox(project) == []
    text = inbox.messages[0].get_body(("plain",))
    assert text is not None and re.search(r"#login=[A-Za-z0-9_-]+", text.get_content())


def test_a_welcome_left_by_a_failed_send_waits_in_the_outbox(project: Path, api: Any) -> None:
    api.checkout("ana@example.com", "Ana")
    result = sync(project, api, "--send", MEMBERKIT_SMTP="smtp://127.0.0.1:9")
    assert result.returncode == 1
    assert "waits in" in result.stderr and "members resend ana@example.com" in result.stderr
    assert list(roster(project).members) == ["ana@example.com"]
    assert outbox(project) == ["ana@example.com.eml"]
    again = sync(project, api, "--send", MEMBERKIT_SMTP="smtp://127.0.0.1:9")
    assert again.returncode == 0 and "nothing new" in again.stdout  # not sent twice


def test_dry_run_writes_the_emails_and_changes_nothing(
    project: Path, api: Any, tmp_path: Path
) -> None:
    api.checkout("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    before = state_files(project)
    api.checkout("bo@example.com", "Bo")
    preview = tmp_path / "preview"
    result = sync(project, api, "--dry-run", str(preview))
    assert result.returncode == 0, result.stderr
    assert "Dry run" in result.stdout and "bo@example.com: joins" in result.stdout
    assert [p.name for p in preview.iterdir()] == ["bo@example.com.eml"]
    assert state_files(project) == before
    assert sync(project, api).returncode == 0
    assert sorted(roster(project).members) == ["ana@example.com", "bo@example.com"]


def test_the_ledger_survives_sealing_and_stays_small(project: Path, api: Any) -> None:
    api.checkout("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    key = run_memberkit("state", "key", cwd=project).stdout.strip()
    sealed = run_memberkit("state", "seal", cwd=project, env={"MEMBERKIT_STATE_KEY": key})
    assert sealed.returncode == 0, sealed.stderr
    api.checkout("bo@example.com", "Bo")
    result = sync(project, api, MEMBERKIT_STATE_KEY=key)
    assert result.returncode == 0, result.stderr
    assert "bo@example.com: joins" in result.stdout
    again = sync(project, api, MEMBERKIT_STATE_KEY=key)
    assert "nothing new" in again.stdout, again.stderr
    opened = run_memberkit("state", "unseal", cwd=project, env={"MEMBERKIT_STATE_KEY": key})
    assert opened.returncode == 0, opened.stderr
    state = roster(project)
    assert state.sync is not None and state.sync.cursor == api.events[-1]["id"]
    # What is remembered is bounded by time: an applied id older than the window goes.
    raw = json.loads((project / store.STATE_DIR / store.STATE_FILE).read_text())
    raw["sync"]["applied"]["evt_long_ago"] = raw["sync"]["since"] - 90 * 86400
    (project / store.STATE_DIR / store.STATE_FILE).write_text(json.dumps(raw))
    api.checkout("cy@example.com", "Cy")
    assert sync(project, api).returncode == 0
    assert "evt_long_ago" not in roster(project).sync.applied  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("sync/checkout", "paypal", "sync.checkout must be one of stripe, lemonsqueezy"),
        ("sync/cursor", 7, "sync.cursor must be an event id or null"),
        ("sync/since", "yesterday", "sync.since must be a Unix time or null"),
        ("sync/applied", ["evt_1"], "sync.applied must be an object of id: Unix time"),
        ("sync/colour", "blue", "sync has an unknown field 'colour'"),
        ("members/ana@example.com/purchases", {}, "members.ana@example.com.purchases must be"),
        ("members/ana@example.com/purchases/0/tiers", ["gold"], "names 'gold', which has no"),
        ("members/ana@example.com/purchases/0/id", "", "purchases[0].id must be the checkout"),
        ("members/ana@example.com/purchases/0/expires", "soon", "purchases[0].expires must be"),
        ("members/ana@example.com/purchases/0/payment", 5, "purchases[0].payment must be an id"),
        ("members/ana@example.com/by_hand", {"tiers": []}, "by_hand.tiers must be a list"),
    ],
)
def test_a_hand_edited_ledger_or_purchase_is_refused_by_field(
    project: Path, api: Any, path: str, value: object, message: str
) -> None:
    from generator.errors import MemberkitError

    api.checkout("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    state_file = project / store.STATE_DIR / store.STATE_FILE
    data = json.loads(state_file.read_text())
    data["members"]["ana@example.com"]["by_hand"] = {"tiers": ["members"], "expires": None}
    state_file.write_text(json.dumps(data))
    assert roster(project).members["ana@example.com"].by_hand is not None  # read as written
    *parents, last = path.split("/")
    at: Any = data
    for key in parents:
        at = at[int(key)] if isinstance(at, list) else at[key]
    at[last] = value
    state_file.write_text(json.dumps(data))
    with pytest.raises(MemberkitError, match="is damaged") as caught:
        roster(project)
    assert message in str(caught.value)
