"""`memberkit members import` reads the exports of Stripe, Lemon Squeezy, Gumroad, Payhip.

The sample files are written from each checkout's documented (or, where it documents
none, assumed: see generator/members/checkout.py) header row, with rows as a real store has them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from generator.errors import MemberkitError
from generator.members import state as private
from generator.members.roster import import_csv

from ..conftest import copy_project, run_memberkit

TODAY = dt.date(2026, 6, 15)
SOON, LATER, PAST = "2026-07-01", "2027-01-31", "2026-05-01"

STRIPE_CUSTOMERS = """\
id,Description,Email,Name,Created (UTC),Card ID,Card Last4,Card Brand,Delinquent
cus_Q1a2b3c4,,ana@example.com,Ana Lima,2026-01-04 10:12:55,card_1Aa,4242,Visa,false
cus_Q1a2b3c5,Wholesale,ben@example.org,,2026-02-11 08:01:02,card_1Ab,1881,Mastercard,true
cus_Q1a2b3c6,,not-an-email,Bad Row,2026-03-01 09:00:00,,,,false
"""

STRIPE_SUBSCRIPTIONS = f"""\
id,Customer ID,Customer Description,Customer Email,Customer Name,Plan,Product,Quantity,\
Interval,Amount,Status,Created (UTC),Start (UTC),Current Period Start (UTC),\
Current Period End (UTC),Trial Start (UTC),Trial End (UTC),Coupon,Canceled At (UTC),\
Cancel At Period End,Cancel At (UTC),Ended At (UTC)
sub_1,cus_1,,ana@example.com,Ana Lima,price_m,Membership,1,month,19.00,active,\
2026-01-04 10:12,2026-01-04 10:12,2026-06-04 10:12,{SOON} 10:12,,,,,false,,
sub_2,cus_2,,cy@example.com,Cy Ode,price_m,Membership,1,month,19.00,active,\
2026-02-01 09:00,2026-02-01 09:00,2026-06-01 09:00,{SOON} 09:00,,,,2026-06-10 12:00,true,,
sub_3,cus_3,,dee@example.com,Dee Ray,price_y,Membership,1,year,190.00,canceled,\
2025-03-01 09:00,2025-03-01 09:00,2026-03-01 09:00,2027-03-01 09:00,,,,2026-04-01 00:00,\
false,,2026-04-01 00:00
sub_4,cus_4,,eve@example.com,Eve Tan,price_m,Membership,1,month,19.00,trialing,\
2026-06-10 09:00,2026-06-10 09:00,2026-06-10 09:00,2026-06-24 09:00,2026-06-10 09:00,\
2026-06-24 09:00,,,false,,
"""

LEMON_SUBSCRIBERS = """\
identifier,name,email,status,status_formatted,country,country_formatted,email_sends,\
email_opens,email_clicks,unsubscribed_at,created_at
7301,Ana Lima,ana@example.com,subscribed,Subscribed,BR,Brazil,4,3,1,,2026-01-04 10:12:55
7302,Ben Ode,ben@example.org,unsubscribed,Unsubscribed,DE,Germany,2,0,0,2026-03-01,2026-02-11
"""

LEMON_SUBSCRIPTIONS = f"""\
id,store_id,customer_id,order_id,product_name,variant_name,user_name,user_email,status,\
status_formatted,card_brand,trial_ends_at,renews_at,ends_at,created_at,updated_at
1,11,21,31,Membership,Monthly,Ana Lima,ana@example.com,active,Active,visa,,\
2026-07-04T10:12:55.000000Z,,2026-01-04T10:12:55.000000Z,2026-06-04T10:12:55.000000Z
2,11,22,32,Membership,Monthly,Cy Ode,cy@example.com,cancelled,Cancelled,visa,,,\
{LATER}T09:00:00.000000Z,2026-02-01T09:00:00.000000Z,2026-06-02T09:00:00.000000Z
3,11,23,33,Membership,Monthly,Dee Ray,dee@example.com,expired,Expired,visa,,,\
2026-04-01T00:00:00.000000Z,2025-03-01T09:00:00.000000Z,2026-04-01T00:00:00.000000Z
"""

GUMROAD_SALES = f"""\
Purchase ID,Item Name,Buyer Name,Purchase Email,Buyer Email,Do not contact?,Purchase Date,\
Purchase Time (UTC timezone),Sale Price ($),Refunded?,Partial Refund ($),Fully Refunded?,\
Disputed?,Dispute Won?,Access Revoked?,Recurring Charge?,Recurrence,Cancellation Date,\
Subscription End Date
Xq1==,Membership,Ana Lima,ana@example.com,,0,2026-05-04,2026-05-04 10:12:55 UTC,19.0,\
0,0.0,0,0,0,0,1,monthly,,
Xq2==,Membership,Ana Lima,ana@example.com,,0,2026-06-04,2026-06-04 10:12:55 UTC,19.0,\
0,0.0,0,0,0,0,1,monthly,,
Xq3==,Membership,Cy Ode,cy@example.com,,0,2026-06-01,2026-06-01 09:00:00 UTC,19.0,\
0,0.0,0,0,0,0,0,monthly,2026-06-05 11:00:00 UTC,{SOON}
Xq4==,Membership,Dee Ray,dee@example.com,,1,2026-06-02,2026-06-02 09:00:00 UTC,19.0,\
1,0.0,1,0,0,0,0,monthly,,
Xq5==,Membership,Eve Tan,eve@example.com,,0,2026-03-02,2026-03-02 09:00:00 UTC,19.0,\
0,0.0,0,0,0,0,0,monthly,2026-04-01 00:00:00 UTC,{PAST}
Xq6==,Lifetime,Fay Ng,fay@example.com,,0,2026-06-03,2026-06-03 09:00:00 UTC,99.0,\
0,0.0,0,1,0,0,0,,,
Totals,,,,,,,,274.0,,0.0,,,,,,,,
"""

PAYHIP_SALES = """\
Transaction ID,Date,Product Name,Customer Name,Customer Email,Price,Currency,Coupon,\
Payhip Fee,Amount Refunded
ZGjVj5x4GN,2026-06-01 10:00,Membership,Ana Lima,ana@example.com,19.00,USD,,0.95,0
ZGjVj5x4GO,2026-06-02 11:00,Membership,Ben Ode,ben@example.org,19.00,USD,SPRING,0.95,19.00
"""


def imported(text: str, state: private.State | None = None, **options: object):
    current = state or private.State.new(100_000)
    current.ensure_tiers(["members", "premium"])
    report = import_csv(current, text, known_tiers=["members", "premium"], today=TODAY, **options)  # type: ignore[arg-type]
    return current, report


def test_stripe_customers_export() -> None:
    state, report = imported(STRIPE_CUSTOMERS)
    assert report.source == "a Stripe customers export"
    assert [e for e, _ in report.added] == ["ana@example.com", "ben@example.org"]
    assert state.members["ana@example.com"].name == "Ana Lima"
    assert state.members["ben@example.org"].name == "ben"  # no name: the email's local part
    assert state.members["ana@example.com"].expires is None
    assert report.errors == ["line 4: 'not-an-email' is not an email address"]


def test_stripe_subscriptions_export() -> None:
    state, report = imported(STRIPE_SUBSCRIPTIONS)
    assert report.source == "a Stripe subscriptions export"
    assert set(state.members) == {"ana@example.com", "cy@example.com", "eve@example.com"}
    assert state.members["ana@example.com"].expires is None  # renews: no end
    assert state.members["cy@example.com"].expires == SOON  # cancels at the period's end
    assert state.members["eve@example.com"].expires is None  # a trial renews too
    assert report.notes == ["line 4: dee@example.com: subscription canceled; not imported"]
    assert report.errors == []


def test_lemon_squeezy_subscribers_export() -> None:
    state, report = imported(LEMON_SUBSCRIBERS)
    assert report.source == "a Lemon Squeezy subscribers export"
    # Its status is about marketing email, not access: both are imported.
    assert state.members["ben@example.org"].name == "Ben Ode"
    assert len(report.added) == 2


def test_lemon_squeezy_subscriptions_export() -> None:
    state, report = imported(LEMON_SUBSCRIPTIONS)
    assert report.source == "a Lemon Squeezy orders or subscriptions export"
    assert state.members["ana@example.com"].expires is None
    assert state.members["cy@example.com"].expires == LATER  # cancelled: until ends_at
    assert "dee@example.com" not in state.members
    assert report.notes == ["line 4: dee@example.com: expired; not imported"]


def test_gumroad_sales_export() -> None:
    state, report = imported(GUMROAD_SALES)
    assert report.source == "a Gumroad sales export"
    assert set(state.members) == {"ana@example.com", "cy@example.com"}
    assert state.members["ana@example.com"].name == "Ana Lima"  # two charges, one member
    assert state.members["cy@example.com"].expires == SOON
    assert report.notes == [
        "line 5: dee@example.com: refunded; not imported",
        f"line 6: eve@example.com: ended on {PAST}; not imported",
        "line 7: fay@example.com: disputed; not imported",
    ]
    assert report.errors == []  # the Totals row is not a buyer


def test_payhip_export() -> None:
    state, report = imported(PAYHIP_SALES)
    assert report.source == "a Payhip export"
    assert set(state.members) == {"ana@example.com"}
    assert report.notes == ["line 3: ben@example.org: refunded; not imported"]


def test_an_ended_member_already_in_the_roster_is_pointed_out() -> None:
    state = private.State.new(100_000)
    state.add(
        "dee@example.com", "a long enough secret", name="Dee", tiers=["members"], expires=None
    )
    _, report = imported(LEMON_SUBSCRIPTIONS, state)
    assert report.notes == [
        "line 4: dee@example.com: expired; still a member here: "
        "'memberkit members remove dee@example.com' ends it"
    ]
    assert "dee@example.com" in state.members  # an import never removes


def test_any_csv_with_columns_and_a_tier_for_every_row() -> None:
    text = (
        "Full Name,Customer Email,Plan,Renews On\n"
        f"Ana Lima,ANA@example.com,Gold,{LATER}\n"
        "Ben Ode,ben@example.org,Gold,\n"
        f"Cy Ode,cy@example.com,Gold,{PAST}\n"
        "Dee Ray,dee@example.com,Gold,next year\n"
    )
    columns = {"email": "customer email", "name": "full name", "expires": "renews on"}
    state, report = imported(text, columns=columns, extra_tiers=["premium"])
    assert report.source == "a CSV read with --columns"
    assert state.members["ana@example.com"].tiers == ["premium"]
    assert state.members["ana@example.com"].expires == LATER
    assert state.members["ben@example.org"].name == "Ben Ode"
    assert report.errors == [
        f"line 4: the expiry date {PAST} is in the past; give today or a later date, "
        "or leave it empty",
        "line 5: 'next year' is not a date; write it as YYYY-MM-DD",
    ]


def test_own_format_rows_per_tier_add_up() -> None:
    text = f"email,name,tier,expires\nana@x.org,Ana,members,{SOON}\nana@x.org,,premium,{LATER}\n"
    state, _ = imported(text)
    assert state.members["ana@x.org"].tiers == ["members", "premium"]
    assert state.members["ana@x.org"].expires == LATER  # the latest end wins
    text = f"email,name,tier,expires\nana@x.org,Ana,members,{SOON}\nana@x.org,,premium,\n"
    state, _ = imported(text)
    assert state.members["ana@x.org"].expires is None  # a row without an end wins


def test_an_unknown_header_names_what_memberkit_reads() -> None:
    with pytest.raises(MemberkitError) as caught:
        imported("Customer,Mail Address\nAna,ana@x.org\n")
    message = str(caught.value)
    assert "(customer, mail address) is not one memberkit knows" in message
    assert "Stripe, Lemon Squeezy, Gumroad and Payhip" in message and "--columns" in message


def test_existing_members_get_the_exports_name_expiry_and_tiers() -> None:
    state = private.State.new(100_000)
    state.add("cy@example.com", "a long enough secret", name="C", tiers=["premium"], expires=None)
    lookup = state.members["cy@example.com"].lookup
    _, report = imported(STRIPE_SUBSCRIPTIONS, state)
    assert "cy@example.com" in report.updated
    member = state.members["cy@example.com"]
    assert (member.name, member.expires, member.tiers) == ("Cy Ode", SOON, ["members", "premium"])
    assert member.lookup == lookup  # the password stays


def test_a_file_without_end_dates_leaves_the_members_end_dates_and_says_what_changed() -> None:
    state = private.State.new(100_000)
    state.add(
        "ana@example.com", "a long enough secret", name="Ana", tiers=["members"], expires=SOON
    )
    state.add(
        "ben@example.org", "another long secret", name="Ben", tiers=["members"], expires=LATER
    )
    plain = "Email,Name\nana@example.com,Ana Lima\nben@example.org,Ben\n"
    _, report = imported(plain, state)
    assert state.members["ana@example.com"].expires == SOON
    assert state.members["ben@example.org"].expires == LATER
    assert report.notes == [
        "line 2: ana@example.com: name 'Ana' -> 'Ana Lima'",
        "line 3: ben@example.org: unchanged",
    ]
    _, report = imported(f"email,name,tier,expires\nben@example.org,Ben,premium,{SOON}\n", state)
    assert state.members["ben@example.org"].expires == SOON
    assert report.notes == [f"line 2: ben@example.org: end date {LATER} -> {SOON}; tiers + premium"]


# -- through the command line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "source", "added"),
    [
        (GUMROAD_SALES, "a Gumroad sales export", ["ana@example.com", "cy@example.com"]),
        (PAYHIP_SALES, "a Payhip export", ["ana@example.com"]),
    ],
)
def test_import_command_reads_a_checkout_export(
    tmp_path: Path, sample: str, source: str, added: list[str]
) -> None:
    project = copy_project(tmp_path / "project", with_state=False)
    # Real dates: today is today in a subprocess.
    shift = (dt.date.today() - TODAY).days
    for day in (SOON, PAST):
        moved = (dt.date.fromisoformat(day) + dt.timedelta(days=shift)).isoformat()
        sample = sample.replace(day, moved)
    export, out = tmp_path / "export.csv", tmp_path / "logins.csv"
    export.write_text("\ufeff" + sample)  # as a spreadsheet saves it
    result = run_memberkit(
        "members",
        "import",
        str(export),
        "--passwords-out",
        str(out),
        "--tier",
        "members",
        cwd=project,
        env={"MEMBERKIT_PBKDF2_ITERATIONS": "100000"},
    )
    assert result.returncode == 0, result.stderr
    assert f"Read {source}. Imported {len(added)} new" in result.stdout
    assert "note: " in result.stderr and "not imported" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["email"] for r in rows] == added
    roster = json.loads((project / ".memberkit" / "state.json").read_text())["members"]
    assert sorted(roster) == added


def test_import_command_columns_option(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", with_state=False)
    export = tmp_path / "list.csv"
    export.write_text("Full Name;Customer Email\n".replace(";", ",") + "Ana Lima,ana@x.org\n")
    result = run_memberkit(
        "members",
        "import",
        str(export),
        "--passwords-out",
        str(tmp_path / "o.csv"),
        "--columns",
        "email=Customer Email,name=FULL NAME",
        cwd=project,
        env={"MEMBERKIT_PBKDF2_ITERATIONS": "100000"},
    )
    assert result.returncode == 0, result.stderr
    bad = run_memberkit(
        "members",
        "import",
        str(export),
        "--passwords-out",
        str(tmp_path / "p.csv"),
        "--columns",
        "email=Mail",
        cwd=project,
    )
    assert bad.returncode != 0
    assert "--columns names 'mail', which is not in the header row" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_quote_left_open_names_the_rows_it_swallowed() -> None:
    text = 'email,name\nana@x.org,Ana\nben@x.org,"Ben\ncy@x.org,Cy\ndee@x.org,Dee\n'
    state, report = imported(text)
    assert set(state.members) == {"ana@x.org"}
    assert report.errors == [
        "line 3: a quote opened here is never closed, so lines 3 to 5 were read as one row "
        "and none of them was imported; close the quote (or remove it) and import again"
    ]
    # A cell of several lines with no email in them is a cell like any other.
    text = 'email,name,notes\nana@x.org,Ana,"Paid by\nbank transfer"\nben@x.org,Ben,\n'
    state, report = imported(text, columns={"email": "email", "name": "name"})
    assert set(state.members) == {"ana@x.org", "ben@x.org"} and report.errors == []
