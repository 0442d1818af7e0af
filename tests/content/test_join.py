"""Visitors are invited to join: the join box, the join page, the checkout link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.content import join

from ..conftest import run_memberkit
from ..publish.test_found import set_plugin_option

JOIN_TEXT = "All six guides in full and twelve ready-made documents. Cancel at any time."
PRICE = "$19 a month"


def join_box(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    found = re.findall(r'<aside class="mk1-join".*?</aside>', text, re.DOTALL)
    assert len(found) == 1, f"{page} has {len(found)} join boxes"
    return found[0]


def hrefs(fragment: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', fragment)


def set_site_url(project: Path, url: str) -> None:
    config = project / "mkdocs.yml"
    text, found = re.subn(r"(?m)^site_url: .*$", f"site_url: {url}", config.read_text())
    assert found == 1
    config.write_text(text)


def test_join_box_is_escaped_plain_html() -> None:
    box = join.join_box('Join for <b>$19</b> & "more"', "../join/?a=1&b=2", "mailto:x@y.example")
    assert "Join for &lt;b&gt;$19&lt;/b&gt; &amp; &quot;more&quot;" in box
    assert hrefs(box) == ["../join/?a=1&amp;b=2", "mailto:x@y.example"]
    assert ">Join now</a>" in box and "Forgot your password?" in box


def test_the_join_box_shows_the_price_first_and_only_when_there_is_one() -> None:
    box = join.join_box("Every guide. memberkit:price, no more.", "j", "h", "€9 <a> week")
    assert box.index('<p class="mk1-join__price">€9 &lt;a&gt; week</p>') < box.index("Every guide")
    assert "Every guide. €9 &lt;a&gt; week, no more." in box
    assert "mk1-join__price" not in join.join_box("Every guide.", "j", "h")


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (19, "is 19, a number: write the price as visitors read it, in quotes"),
        (["$19"], "is ['$19'], a list: write the price"),
        ("  ", "is empty: write your price"),
        ("$19 a month\nor $190 a year", "must be one short line"),
        ("$" + "9" * 60, "must be one short line (at most 60 characters)"),
    ],
)
def test_a_price_that_is_no_short_line_of_text_is_refused(value: object, said: str) -> None:
    problem = join.price_problem(value) or ""
    assert problem.startswith("mkdocs.yml: plugins.memberkit.price ") and said in problem
    assert 'e.g. price: "$19 a month"' in problem


def test_pages_show_the_price_where_they_say_so() -> None:
    html = '<p title="memberkit:price">Join for memberkit:price</p>'
    assert join.fill_price(html, '"$5"') == '<p title="&quot;$5&quot;">Join for &quot;$5&quot;</p>'
    assert join.fill_price(html, None) == html
    assert join.price_problem("$19 a month") is None
    # Said without a price set: a warning that names the page and the setting.
    assert join.price_mark_problems("docs/join.md", html, None) == [
        (
            "warning",
            "docs/join.md shows memberkit:price, but mkdocs.yml sets no price: add it under "
            'plugins.memberkit, e.g. price: "$19 a month"',
        )
    ]
    assert join.price_mark_problems("docs/join.md", html, "$5") == []
    assert join.price_mark_problems("docs/join.md", "<p>Join</p>", None) == []


@pytest.mark.parametrize(
    ("url", "placeholder"),
    [
        ("https://example.com/checkout", True),
        ("https://buy.example.org/x", True),
        ("https://shop.test/x", True),
        ("https://buy.stripe.com/abc", False),
        ("https://myexample.com/x", False),
    ],
)
def test_placeholder_addresses(url: str, placeholder: bool) -> None:
    assert join.is_placeholder(url) is placeholder


def test_the_placeholder_checkout_warns_once_the_site_has_its_real_address() -> None:
    placeholder = join.CHECKOUT_PLACEHOLDER
    level, message = join.checkout_problem("join.md", placeholder, "https://shop.biz/") or ("", "")
    assert level == "warning" and "plugins.memberkit.checkout_url is still" in message
    assert join.checkout_problem("join.md", placeholder, "https://members.example.com/")[0] == (  # type: ignore[index]
        "info"
    )
    assert join.checkout_problem("join.md", placeholder, "http://127.0.0.1:8000/")[0] == "info"  # type: ignore[index]
    assert join.checkout_problem("join.md", "https://buy.stripe.com/x", "https://shop.biz/") is None
    # With no join page, the join link is the checkout itself, and the warning says so.
    level, message = join.checkout_problem(placeholder, "", "https://shop.biz/") or ("", "")
    assert "plugins.memberkit.join_url is still" in message
    assert join.checkout_problem("https://buy.stripe.com/x", placeholder, "https://a.biz/") is None


def test_a_new_sites_placeholders_warn_once_the_site_has_its_real_address() -> None:
    text = "Join [Site name] for [Price] a month"
    problems = join.text_placeholder_problems("docs/join.md", text, "https://shop.biz/")
    assert problems == [
        (
            "warning",
            "docs/join.md still holds the placeholder [Site name]: "
            "replace it with your site's name before you publish",
        ),
        (
            "warning",
            "docs/join.md still holds the placeholder [Price]: "
            "replace it with your price before you publish",
        ),
    ]
    local = join.text_placeholder_problems("docs/join.md", text, "http://127.0.0.1:8000/")
    assert [level for level, _ in local] == ["info", "info"]
    assert join.text_placeholder_problems("x", "Join for $12 a month", "https://a.biz/") == []
    # Only the placeholder as written: a price in brackets of one's own is no placeholder.
    assert join.text_placeholder_problems("x", "[Price list]", "https://a.biz/") == []


def test_members_parts_come_with_a_public_join_box(bundled_site: Path) -> None:
    page = bundled_site / "guides/task-briefs/index.html"
    text = page.read_text(encoding="utf-8")
    box = join_box(page)
    # Right after the sealed part, outside it: the browser replaces only the sealed part.
    assert re.search(r"</noscript></div>\s*<aside class=\"mk1-join\"", text)
    assert JOIN_TEXT in box and f'<p class="mk1-join__price">{PRICE}</p>' in box
    assert hrefs(box) == ["../../join/", "../../join/#forgot-your-password"]
    template = join_box(bundled_site / "templates/weekly-report/index.html")
    assert hrefs(template) == ["../../join/", "../../join/#forgot-your-password"]
    sign_in = join_box(bundled_site / "login/index.html")
    assert hrefs(sign_in) == ["../join/", "../join/#forgot-your-password"]
    assert re.search(
        r"data-mk1-signin>\s*</div>\s*<aside", (bundled_site / "login/index.html").read_text()
    )
    for public in ("index.html", "three-mistakes/index.html", "join/index.html"):
        assert 'class="mk1-join"' not in (bundled_site / public).read_text(encoding="utf-8")
    # Crawlers read it; the site's own search does not answer with it on every page.
    index = (bundled_site / "search/search_index.json").read_text(encoding="utf-8")
    assert JOIN_TEXT not in index and "Ask for a new one" not in index


def test_the_join_page_sells_and_its_button_goes_to_the_checkout(bundled_site: Path) -> None:
    page = (bundled_site / "join/index.html").read_text(encoding="utf-8")
    article = page[page.index("<article") : page.index("</article>")]
    assert "$19 a month" in article and "What members get" in article
    # The price in the offer's title and on its button, from the one setting.
    assert f'<p class="admonition-title">{PRICE}, cancel at any time</p>' in article
    assert f">Join for {PRICE}</a>" in article
    home = (bundled_site / "index.html").read_text(encoding="utf-8")
    assert f'class="mk-hero__offer mk1-for-visitors"><strong>{PRICE}</strong>' in home
    for page in bundled_site.rglob("*.html"):
        assert join.PRICE_MARK not in page.read_text(encoding="utf-8"), page
    assert 'id="forgot-your-password"' in article
    buttons = re.findall(r'<a class="md-button md-button--primary" href="([^"]*)"', article)
    assert buttons and set(buttons) == {join.CHECKOUT_PLACEHOLDER}
    assert 'href="./"' not in article and 'href="."' not in article
    # Everywhere else, join links lead to the join page.
    home = (bundled_site / "index.html").read_text(encoding="utf-8")
    assert 'href="join/">Join the membership' in home
    assert join.CHECKOUT_PLACEHOLDER not in home


def test_the_placeholder_checkout_fails_a_strict_build_for_a_real_address(project: Path) -> None:
    set_site_url(project, "https://members.outsource-without-regret.biz/")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert (
        "warning: memberkit: mkdocs.yml: plugins.memberkit.checkout_url is still the placeholder "
        "https://example.com/checkout"
    ) in result.stderr
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "checkout_url: https://example.com/checkout", "checkout_url: https://buy.stripe.com/x"
        )
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    page = (project / "site/join/index.html").read_text(encoding="utf-8")
    assert 'href="https://buy.stripe.com/x"' in page


def test_join_text_help_contact_and_a_checkout_as_the_join_link(project: Path) -> None:
    config = project / "mkdocs.yml"
    text = config.read_text()
    text = re.sub(r"(?m)^      join_text: .*$", '      join_text: "Members: $5/week."', text)
    text = re.sub(r"(?m)^      help_contact: .*$", "      help_contact: mailto:help@shop.biz", text)
    config.write_text(text.replace("join_url: join.md", "join_url: https://buy.stripe.com/x"))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    box = join_box(project / "site/guides/task-briefs/index.html")
    assert "Members: $5/week." in box
    assert hrefs(box) == ["https://buy.stripe.com/x", "mailto:help@shop.biz"]
    home = (project / "site/index.html").read_text(encoding="utf-8")
    assert 'href="https://buy.stripe.com/x">Join the membership' in home


def test_help_contact_defaults_to_the_join_page(project: Path) -> None:
    config = project / "mkdocs.yml"
    config.write_text(re.sub(r"(?m)^      help_contact: .*\n", "", config.read_text()))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    box = join_box(project / "site/guides/task-briefs/index.html")
    assert hrefs(box) == ["../../join/", "../../join/"]


def test_a_help_contact_that_is_no_page_is_an_error(project: Path) -> None:
    set_plugin_option(project, "      help_contact: contact.md")
    config = project / "mkdocs.yml"
    config.write_text(re.sub(r"(?m)^      help_contact: join.md.*\n", "", config.read_text()))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert "plugins.memberkit.help_contact is 'contact.md', which is neither a URL" in (
        result.stderr
    )


def test_without_a_price_none_is_shown_and_a_page_asking_for_one_says_where(
    project: Path,
) -> None:
    config = project / "mkdocs.yml"
    config.write_text(re.sub(r"(?m)^      price: .*\n", "", config.read_text()))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert (
        "warning: memberkit: docs/join.md shows memberkit:price, but mkdocs.yml sets no price: "
        'add it under plugins.memberkit, e.g. price: "$19 a month"'
    ) in result.stderr
    for page in ("docs/index.md", "docs/join.md", "snippets/join-cta.md"):
        path = project / page
        path.write_text(path.read_text(encoding="utf-8").replace(join.PRICE_MARK, "$7"))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    box = join_box(project / "site/guides/task-briefs/index.html")
    assert "mk1-join__price" not in box and JOIN_TEXT in box


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("price: 19", "is 19, a number: write the price as visitors read it, in quotes"),
        ('price: ""', "is empty"),
    ],
)
def test_a_malformed_price_stops_the_build_naming_the_setting(
    project: Path, setting: str, said: str
) -> None:
    config = project / "mkdocs.yml"
    text, found = re.subn(r"(?m)^      price: .*$", f"      {setting}", config.read_text())
    assert found == 1
    config.write_text(text)
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert f"mkdocs.yml: plugins.memberkit.price {said}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_price_in_a_heading_reaches_the_contents_search_and_title(project: Path) -> None:
    """`memberkit:price` in a heading and in a page's title: the table of contents, the
    navigation, the tab's title and the search show the price, not the mark."""
    join_page = project / "docs/join.md"
    join_page.write_text(join_page.read_text() + "\n## What memberkit:price buys\n\nIt all.\n")
    (project / "docs/pricing.md").write_text("# Membership at memberkit:price\n\nEvery guide.\n")
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("  - Join: join.md\n", "  - Join: join.md\n  - pricing.md\n")
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    site = project / "site"
    joined = (site / "join/index.html").read_text()
    # In the table of contents (the heading's own text is filled in the page itself).
    assert re.search(r'href="#what-[^"]*"[^>]*>\s*<span class="md-ellipsis">\s*What \$19', joined)
    pricing = (site / "pricing/index.html").read_text()
    assert "<title>Membership at $19 a month" in pricing
    assert re.search(r'md-ellipsis">\s*Membership at \$19 a month', joined)  # in the navigation
    search = (site / "search/search_index.json").read_text()
    assert "What $19 a month buys" in search and "Membership at $19 a month" in search
    for page in (joined, pricing, search):
        assert join.PRICE_MARK not in page
