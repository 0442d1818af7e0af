"""Every page of the site, as a visitor and as a member: no JavaScript error, no stray request."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import PageWatch


def all_pages(site: Path) -> list[str]:
    pages = []
    for page in sorted(site.rglob("index.html")):
        url = page.parent.relative_to(site).as_posix()
        pages.append("" if url == "." else url + "/")
    return pages


@pytest.mark.parametrize("audience", ["visitor", "member"])
def test_every_page_loads_cleanly(
    audience: str,
    page: tuple[Page, PageWatch],
    member_page: tuple[Page, PageWatch],
    served_site: str,
    bundled_site: Path,
) -> None:
    tab, watch = page if audience == "visitor" else member_page
    urls = all_pages(bundled_site)
    assert len(urls) >= 25
    for url in urls:
        tab.goto(served_site + url)
        expect(tab.locator(".mk1-account")).to_be_visible()
        if audience == "member":
            # Every protected part opened: no lock and no error left on any page.
            expect(tab.locator("[data-mk1]")).to_have_count(0)
            expect(tab.locator(".mk1-error")).to_have_count(0)
        assert not watch.errors, f"{url}: {watch.errors}"
