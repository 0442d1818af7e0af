"""`memberkit members sync` against a stand-in of Lemon Squeezy's API (tests/checkouts.py):
the same rules as Stripe's, read from its orders and subscriptions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ..checkouts import LemonSqueezyStandIn, running
from ..conftest import copy_project, run_memberkit
from ..mailserver import mail_server
from .test_sync_stripe import configure, fails_cleanly, outbox, roster, state_files, sync

PREMIUM_VARIANT = 42


@pytest.fixture
def api() -> Any:
    with running(LemonSqueezyStandIn()) as stand_in:
        yield stand_in


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return configure(
        copy_project(tmp_path / "project", with_state=False),
        "lemonsqueezy",
        f"{{'{PREMIUM_VARIANT}': premium}}",
    )


def test_a_paid_order_makes_a_member_once(project: Path, api: Any) -> None:
    api.order("Ana@Example.com", "Ana Lima")
    api.order("gold@example.com", "Gold", variant=PREMIUM_VARIANT)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    members = roster(project).members
    assert sorted(members) == ["ana@example.com", "gold@example.com"]
    assert (members["ana@example.com"].name, members["ana@example.com"].tiers) == (
        "Ana Lima",
        ["members"],
    )
    assert members["gold@example.com"].tiers == ["premium"]
    assert outbox(project) == ["ana@example.com.eml", "gold@example.com.eml"]
    before = state_files(project)
    again = sync(project, api)
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stderr
    assert state_files(project) == before


def test_pending_and_failed_orders_make_no_member_until_paid(project: Path, api: Any) -> None:
    pending = api.order("later@example.com", status="pending")
    api.order("failed@example.com", status="failed")
    assert sync(project, api).returncode == 0
    assert roster(project).members == {}
    api.pay(pending)
    assert sync(project, api).returncode == 0
    assert list(roster(project).members) == ["later@example.com"]


def test_a_refund_removes_the_buyer_and_a_partial_refund_does_not(project: Path, api: Any) -> None:
    refunded = api.order("ana@example.com", "Ana")
    partly = api.order("bo@example.com", "Bo")
    assert sync(project, api).returncode == 0
    api.refund(refunded)
    api.partial_refund(partly)
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert "ana@example.com: removed" in result.stdout
    assert list(roster(project).members) == ["bo@example.com"]
    assert roster(project).ended == {}  # paid back: not told to renew
    again = sync(project, api)  # the refunded order is still there: nobody comes back
    assert again.returncode == 0 and "nothing new" in again.stdout


def test_a_cancelled_subscription_gives_ends_at_and_an_expired_one_ends_access(
    project: Path, api: Any
) -> None:
    made = api.order("bo@example.com", "Bo", subscription=True)
    assert sync(project, api).returncode == 0
    assert roster(project).members["bo@example.com"].expires is None
    api.renew(made)  # a renewal changes nothing
    renewed = sync(project, api)
    assert renewed.returncode == 0 and "nothing new" in renewed.stdout
    ends = api.cancel(made)
    assert sync(project, api).returncode == 0
    assert roster(project).members["bo@example.com"].expires == ends[:10]
    api.set_status(made, "expired")
    assert sync(project, api).returncode == 0
    assert roster(project).members == {}
    # Over, not paid back: told at sign-in that it ended, on its last day at the latest.
    last_day = min(ends[:10], dt.date.today().isoformat())
    assert roster(project).ended["bo@example.com"].expires == last_day


def test_an_unpaid_subscription_ends_access_and_past_due_does_not(project: Path, api: Any) -> None:
    made = api.order("bo@example.com", "Bo", subscription=True)
    assert sync(project, api).returncode == 0
    api.set_status(made, "past_due")
    assert sync(project, api).returncode == 0
    assert "bo@example.com" in roster(project).members
    api.set_status(made, "unpaid")
    assert sync(project, api).returncode == 0
    assert roster(project).members == {}


def test_a_member_who_buys_again_keeps_their_password(project: Path, api: Any) -> None:
    api.order("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    kept = roster(project).members["ana@example.com"]
    second = api.order("ana@example.com", "Ana", variant=PREMIUM_VARIANT)
    assert sync(project, api).returncode == 0
    member = roster(project).members["ana@example.com"]
    assert member.kek == kept.kek and member.tiers == ["members", "premium"]
    api.refund(second)
    assert sync(project, api).returncode == 0
    assert roster(project).members["ana@example.com"].tiers == ["members"]


def test_orders_are_read_page_after_page(project: Path, api: Any) -> None:
    for number in range(130):
        api.order(f"buyer{number}@example.com")
    assert sync(project, api).returncode == 0
    assert len(roster(project).members) == 130
    assert any("page%5Bnumber%5D=2" in r for r in api.requests)


@pytest.mark.parametrize(
    ("breakage", "said"),
    [
        ("malformed", "answered something that is not JSON"),
        ("shape", "Lemon Squeezy's"),
        ("500", "answered HTTP 500"),
        ("bad key", "Lemon Squeezy refused the key in MEMBERKIT_CHECKOUT_KEY (Unauthenticated.)"),
        ("unreachable", "cannot reach Lemon Squeezy at http://127.0.0.1:9"),
    ],
)
def test_a_failure_is_one_line_and_changes_nothing(
    project: Path, api: Any, breakage: str, said: str
) -> None:
    fails_cleanly(project, api, breakage, said, api.order)


def test_send_mails_each_buyer_once(project: Path, api: Any, tmp_path: Path) -> None:
    api.order("ana@example.com", "Ana")
    made = api.order("bo@example.com", "Bo", subscription=True)
    with mail_server(tmp_path / "mail") as (inbox, url, env):
        for _ in range(2):
            result = sync(project, api, "--send", MEMBERKIT_SMTP=url, **env)
            assert result.returncode == 0, result.stderr
            api.renew(made)
        api.order("ana@example.com", "Ana")
        result = sync(project, api, "--send", MEMBERKIT_SMTP=url, **env)
        assert result.returncode == 0, result.stderr
    assert sorted(r[0] for r in inbox.recipients) == ["ana@example.com", "bo@example.com"]


def test_the_api_address_must_be_a_web_address(project: Path, api: Any) -> None:
    result = run_memberkit(
        "members",
        "sync",
        cwd=project,
        env={"MEMBERKIT_CHECKOUT_KEY": api.key, "MEMBERKIT_CHECKOUT_API": "file:///etc"},
    )
    assert result.returncode == 1
    assert "MEMBERKIT_CHECKOUT_API must be an http:// or https:// address" in result.stderr
    assert api.requests == []


def test_a_buyer_removed_by_hand_is_not_added_back(project: Path, api: Any) -> None:
    api.order("ana@example.com", "Ana")
    assert sync(project, api).returncode == 0
    removed = run_memberkit("members", "remove", "ana@example.com", cwd=project)
    assert removed.returncode == 0, removed.stderr
    result = sync(project, api)
    assert result.returncode == 0, result.stderr
    assert roster(project).members == {}
