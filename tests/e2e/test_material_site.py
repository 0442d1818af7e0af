"""The rich Material site in Chromium behind nginx: members' pages, once opened, are
mounted exactly as the same pages built without memberkit, on a page load and on
instant navigation to a second and a third page; the scripts they hold run."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..conftest import MEMBER, run_memberkit, write_state
from ..engine.test_material_sites import RICH
from .conftest import Nginx, PageWatch, instant_navigation_ready, screenshot, sign_in

#: What Material mounts in a page's article, and what the page's scripts leave.
COUNT = """() => {
  const article = document.querySelector("article");
  const all = (selector) => article.querySelectorAll(selector).length;
  return {
    copy_buttons: all(".md-code__nav .md-code__button"),
    annotations: all(".md-annotation"),
    tab_sets: all(".tabbed-set"),
    tab_extras: all(".tabbed-labels--linked") + all(".tabbed-control"),
    // Material draws a diagram into a closed shadow root of a div that takes the
    // place of its <pre>.
    diagrams: all("div.mermaid") - all("pre.mermaid"),
    table_wrappers: all(".md-typeset__scrollwrap"),
    math_typeset: all(".arithmatex[data-typeset=yes]"),
    tables_sortable: all("table[data-sortable=yes]"),
    inline_script: (document.getElementById("owner-inline") || {}).textContent || "",
    // Each list of footnotes (its items, as read) and each citation of one.
    footnotes: Array.from(article.querySelectorAll(".footnote"), (list) =>
      Array.from(list.querySelectorAll("li"), (li) => [li.id, li.innerText.trim()])),
    citations: Array.from(article.querySelectorAll("sup[id^=fnref]"), (sup) =>
      [sup.id, sup.innerText]),
    toc_titles: document.querySelectorAll(".md-sidebar--secondary .md-nav__title").length,
    toc_entries: document.querySelectorAll('[data-md-component="toc"] .md-nav__link').length,
    scripts: ["ownerScript", "secondScript", "thirdScript"]
      .filter((name) => document.body.dataset[name] === "ran"),
  };
}"""


def _build(tmp: Path, port: int, *, protected: bool) -> Path:
    project = tmp / ("protected" if protected else "plain")
    shutil.copytree(RICH, project)
    write_state(project)
    config = project / "mkdocs.yml"
    text = config.read_text().replace(
        "site_url: http://127.0.0.1:8000/", f"site_url: http://127.0.0.1:{port}/"
    )
    # No web fonts: the browser here reaches no other host.
    text = text.replace("  custom_dir: overrides\n", "  custom_dir: overrides\n  font: false\n")
    if not protected:
        text = text.replace("  - memberkit:\n", "  - memberkit:\n      enabled: false\n")
    config.write_text(text)
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    site = project / "site"
    if not protected:
        (site / "_headers").write_text("/*\n")  # no policy: the plain site
    return site


@pytest.fixture(scope="module")
def rich_sites(
    tmp_path_factory: pytest.TempPathFactory, nginx_bin: str
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("rich-e2e")
    servers = {name: Nginx(tmp / f"nginx-{name}") for name in ("protected", "plain")}
    urls = {
        name: server.serve(_build(tmp, server.port, protected=name == "protected"))
        for name, server in servers.items()
    }
    yield urls
    for server in servers.values():
        server.stop()


def _tab(browser: Any, url: str) -> tuple[Page, PageWatch, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    return tab, PageWatch(tab, url.rstrip("/")), context


def _visit(tab: Page, site: str, *, signed_in: bool) -> dict[str, dict[str, Any]]:
    """Components by a page load, then Second and Third by instant navigation, then
    Components again: what each page holds once mounted."""
    seen = {}
    tab.goto(site + "components/")
    instant_navigation_ready(tab)
    tab.evaluate("window.mkSamePage = true")
    expect(tab.get_by_role("heading", name="Code with annotations")).to_be_visible()
    # A locator, not a predicate string: the site's policy forbids eval, which polling
    # a string needs once the first check fails (a busy machine).
    expect(tab.locator("article div.mermaid").first).to_be_attached()
    seen["components (load)"] = tab.evaluate(COUNT)
    # Improved tooltips, and the table of contents following the reader.
    tab.locator("article abbr").last.hover()
    seen["components (load)"]["tooltip"] = tab.locator(".md-tooltip2--active").count()
    tab.get_by_role("heading", name="A data table").scroll_into_view_if_needed()
    tab.wait_for_timeout(500)
    active = tab.locator('[data-md-component="toc"] .md-nav__link--active')
    seen["components (load)"]["toc_follows"] = (
        active.first.inner_text().strip() if active.count() else ""
    )
    for title, heading in (("Second", "The team rota"), ("Third", "Escalation ladder")):
        tab.locator(".md-sidebar--primary").get_by_role("link", name=title, exact=True).click()
        expect(tab.get_by_role("heading", name=heading)).to_be_visible()
        tab.wait_for_timeout(300)  # Material mounts on the next frames
        seen[title] = tab.evaluate(COUNT)
    tab.locator(".md-sidebar--primary").get_by_role("link", name="Components").click()
    expect(tab.get_by_role("heading", name="Code with annotations")).to_be_visible()
    # A locator, not a predicate string: the site's policy forbids eval, which polling
    # a string needs once the first check fails (a busy machine).
    expect(tab.locator("article div.mermaid").first).to_be_attached()
    tab.wait_for_timeout(300)
    seen["components (instant)"] = tab.evaluate(COUNT)
    assert tab.evaluate("window.mkSamePage === true"), "a page was loaded anew"
    return seen


def test_members_pages_are_mounted_like_the_unprotected_build(
    browser: Any, rich_sites: dict[str, str]
) -> None:
    plain_tab, plain_watch, plain_context = _tab(browser, rich_sites["plain"])
    expected = _visit(plain_tab, rich_sites["plain"], signed_in=False)
    plain_context.close()
    assert not plain_watch.errors, plain_watch.errors

    tab, watch, context = _tab(browser, rich_sites["protected"])
    sign_in(tab, rich_sites["protected"], MEMBER)
    found = _visit(tab, rich_sites["protected"], signed_in=True)
    screenshot(tab, "rich-members-components")
    context.close()
    assert not watch.errors, watch.errors
    assert not watch.outside, watch.outside
    assert found == expected
    # And the counts are not all zero: there was something to mount.
    first = expected["components (load)"]
    assert first["copy_buttons"] and first["annotations"] == 2 and first["diagrams"] == 1
    assert first["tab_sets"] and first["table_wrappers"] and first["math_typeset"]
    assert first["inline_script"] == "inline script ran"
    # One list of footnotes, the teaser's among the page's, numbered as in the plain site.
    assert [[item[0] for item in notes] for notes in first["footnotes"]] == [["fn:1", "fn:rule"]]
    assert first["citations"] == [["fnref:rule", "2"], ["fnref:1", "1"]]
    assert first["tooltip"] == 1 and first["toc_follows"] in (
        "A data table",
        "Tooltips and footnotes",
    )
    assert expected["Third"]["scripts"] == ["ownerScript", "secondScript", "thirdScript"]


def test_a_visitor_reads_the_footnote_the_teaser_cites(
    browser: Any, rich_sites: dict[str, str]
) -> None:
    """Cited in the teaser, defined below the divider: the footnote is shown with the
    teaser, numbered as the whole page numbers it; no other footnote is."""
    site = rich_sites["protected"]
    tab, watch, context = _tab(browser, site)
    tab.goto(site + "components/")
    expect(tab.locator("article .mk1-signin, article .mk1-locked").first).to_be_visible()
    notes = tab.locator("article .footnote")
    expect(notes).to_have_count(1)
    expect(notes.locator("li")).to_have_count(1)
    note = notes.locator('li[id="fn:rule"]')
    expect(note).to_contain_text("The handbook's rule, cited by the teaser.")
    expect(note).to_contain_text("Its second paragraph, shown with it.")
    assert note.evaluate("li => li.value") == 2
    expect(tab.locator('article sup[id="fnref:rule"]')).to_have_text("2")
    assert "[^rule]" not in tab.locator("article").inner_text()
    context.close()
    assert not watch.errors, watch.errors


def test_a_member_finds_each_page_once(browser: Any, rich_sites: dict[str, str]) -> None:
    """The members' entry of a page (teaser included) replaces the teaser's entry."""
    site = rich_sites["protected"]
    tab, watch, context = _tab(browser, site)
    sign_in(tab, site, MEMBER)
    tab.get_by_role("textbox", name="Search").click()
    tab.keyboard.type("page")
    results = tab.locator(".md-search-result__item > .md-search-result__link")
    expect(results.first).to_be_visible()
    hrefs = [re.sub(r"#.*", "", h) for h in results.evaluate_all("a => a.map(e => e.href)")]
    assert hrefs and len(hrefs) == len(set(hrefs)), hrefs
    # The members' text is found too.
    tab.keyboard.press("Control+A")
    tab.keyboard.type("rota")
    expect(tab.locator(".md-search-result__item", has_text="The team rota").first).to_be_visible()
    context.close()
    assert not watch.errors, watch.errors


#: In the signed-in member's tab: memberkit's modules as the site serves them one by
#: one (`pages`), and the member's session.
MEMBERS_PAGES = """\
  const root = new URL("/", location.href);
  const pages = await import(new URL("assets/memberkit/pages.js", root).href);
  const { loadSession } = await import(new URL("assets/memberkit/session.js", root).href);
  const session = await loadSession();
"""

#: Every page of the sitemap that carries a members' part, opened both ways in the
#: signed-in member's tab: as text (instant navigation's way), and as a document.
OPENED_BOTH_WAYS = (
    "async () => {\n"
    + MEMBERS_PAGES
    + """  const sitemap = await (await fetch(new URL("sitemap.xml", root))).text();
  const tree = (html) => new DOMParser().parseFromString(html, "text/html").documentElement;
  const found = {};
  for (const [, loc] of sitemap.matchAll(/<loc>([^<]+)<\\/loc>/g)) {
    const path = new URL(loc).pathname.slice(1);
    const html = await (await fetch(new URL(path, root))).text();
    if (!html.includes("data-mk1=")) continue;
    const text = await pages.openText(html, path, session);
    const doc = await pages.openAsDocument(html, path, session);
    found[path] = {
      text: text !== null,
      same: text !== null && tree(text).isEqualNode(tree(doc.html)),
      opened: !tree(doc.html).querySelector("[data-mk1]"),
    };
  }
  return found;
}"""
)

#: Markup the text way does not know, on the Components page: it declines (null) and
#: the document way opens the page all the same.
DECLINED = (
    "async () => {\n"
    + MEMBERS_PAGES
    + """  const html = await (await fetch(new URL("components/", root))).text();
  const changes = {
    // A block nested in the teaser's own footnotes.
    nested_notes: (h) => h.replace(/(data-mk1-teaser-notes[^>]*>)/, "$1<div>a block</div>"),
    // A second element that names an envelope (here, in a comment).
    two_parts: (h) => h.replace("<body", '<!-- <div data-mk1="x"></div> --><body'),
    // A list under the "For members" entry of the table of contents.
    toc_list: (h) => h.replace(/(#mk1-members[^>]*>)/g, "$1<ul><li>a</li></ul>"),
  };
  const found = {};
  for (const [name, change] of Object.entries(changes)) {
    const changed = change(html);
    const doc = await pages.openAsDocument(changed, "components/", session);
    found[name] = {
      changed: changed !== html,
      text: await pages.openText(changed, "components/", session),
      opened: doc.html.includes("The team rota") || doc.html.includes("Code with annotations"),
    };
  }
  return found;
}"""
)


def test_instant_navigation_opens_pages_as_text_like_a_document(
    browser: Any, rich_sites: dict[str, str]
) -> None:
    """Every members' page of the rich site (minified by another plugin) opens as text,
    to the very document the DOM way gives; markup the text way does not know is left
    to the DOM way."""
    site = rich_sites["protected"]
    tab, watch, context = _tab(browser, site)
    sign_in(tab, site, MEMBER)
    found = tab.evaluate(OPENED_BOTH_WAYS)
    assert len(found) >= 4, found  # components, second, third, the blog's posts
    assert all(page == {"text": True, "same": True, "opened": True} for page in found.values())
    declined = tab.evaluate(DECLINED)
    assert declined == {
        name: {"changed": True, "text": None, "opened": True}
        for name in ("nested_notes", "two_parts", "toc_list")
    }
    context.close()
    assert not watch.errors, watch.errors


def test_a_pressed_link_is_fetched_once_and_opened_before_the_click(
    browser: Any, rich_sites: dict[str, str]
) -> None:
    """A member presses the mouse on a link: its page is fetched (once) and opened while
    the button is down, and instant navigation shows it with no request of its own."""
    site = rich_sites["protected"]
    tab, watch, context = _tab(browser, site)
    sign_in(tab, site, MEMBER)
    tab.goto(site + "components/")
    instant_navigation_ready(tab)
    tab.evaluate("window.mkSamePage = true")
    asked: list[str] = []
    tab.on("request", lambda request: asked.append(request.url))
    link = tab.locator(".md-sidebar--primary").get_by_role("link", name="Second", exact=True)
    link.hover()
    tab.mouse.down()
    tab.wait_for_timeout(500)
    assert asked.count(site + "second/") == 1, asked  # asked for while the button is down
    tab.mouse.up()
    expect(tab.get_by_role("heading", name="The team rota")).to_be_visible()
    tab.wait_for_timeout(300)
    assert tab.evaluate("window.mkSamePage === true"), "the page was loaded anew"
    assert asked.count(site + "second/") == 1, asked
    assert not [url for url in asked if url.startswith("blob:")], asked  # nor read back
    # A link followed from the keyboard: its page too is asked for once.
    third = tab.locator(".md-sidebar--primary").get_by_role("link", name="Third", exact=True)
    third.focus()
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("heading", name="Escalation ladder")).to_be_visible()
    assert asked.count(site + "third/") == 1, asked
    assert tab.evaluate("window.mkSamePage === true")
    context.close()
    assert not watch.errors, watch.errors


def test_a_link_the_pointer_rests_on_is_opened_before_the_click(
    browser: Any, rich_sites: dict[str, str]
) -> None:
    """A member's pointer rests on a link: its page is fetched once and opened, and the
    click shows it with no request of its own. A visitor's pointer asks for nothing."""
    site = rich_sites["protected"]
    tab, watch, context = _tab(browser, site)
    asked: list[str] = []
    tab.on("request", lambda request: asked.append(request.url))
    tab.goto(site + "components/")
    instant_navigation_ready(tab)
    sidebar = tab.locator(".md-sidebar--primary")
    sidebar.get_by_role("link", name="Second", exact=True).hover()
    tab.wait_for_timeout(500)
    assert site + "second/" not in asked, "a visitor's page was fetched on a hover"
    tab.mouse.move(0, 0)

    sign_in(tab, site, MEMBER)
    tab.goto(site + "components/")
    instant_navigation_ready(tab)
    tab.evaluate("window.mkSamePage = true")
    asked.clear()
    link = sidebar.get_by_role("link", name="Second", exact=True)
    with tab.expect_request(site + "second/", timeout=10_000):
        link.hover()
    tab.wait_for_timeout(300)  # the pointer stays there
    assert asked.count(site + "second/") == 1, asked
    link.click()
    expect(tab.get_by_role("heading", name="The team rota")).to_be_visible()
    tab.wait_for_timeout(300)
    assert tab.evaluate("window.mkSamePage === true"), "the page was loaded anew"
    assert asked.count(site + "second/") == 1, asked
    context.close()
    assert not watch.errors, watch.errors
