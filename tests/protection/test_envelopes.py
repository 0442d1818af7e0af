"""Unit tests for the sealing helpers: teaser split, table of contents, search entries."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.protection import envelopes, mk1, searchtext
from generator.protection.leakcheck import LeakCheck

PAGE = (
    '<h1 id="guide">Guide</h1>\n<p>Teaser text.</p>\n<!-- more -->\n'
    '<h2 id="secret-part">Secret part</h2>\n<p>Hidden words of the members only.</p>\n'
    '<h3 id="deeper">Deeper</h3>\n<p>More hidden.</p>'
)


def _finder(check: LeakCheck, page: Path) -> Callable[[str], list[str]]:
    """What the scan finds with `page` (in the folder scanned) holding a text."""

    def found(text: str) -> list[str]:
        page.write_text(text)
        return [leak.what for leak in check.scan(page.parent)]

    return found


def _word(prefix: str, number: int) -> str:
    """A word of letters only (no word is a code), one for each number."""
    return prefix + "".join(chr(97 + int(digit)) for digit in str(number))


def test_teaser_divider_splits_public_from_protected() -> None:
    public, hidden = envelopes.split_page(PAGE, has_divider=True, description="About it.")
    assert "Teaser text." in public and "Secret part" not in public
    assert "Hidden words" in hidden and "Teaser" not in hidden


def test_without_divider_only_title_and_description_are_public() -> None:
    page = PAGE.replace("<!-- more -->\n", "")
    public, hidden = envelopes.split_page(page, has_divider=False, description="A <b>summary</b>.")
    assert public.startswith('<h1 id="guide">Guide</h1>')
    assert "A &lt;b&gt;summary&lt;/b&gt;." in public
    assert "Teaser text." not in public and "Teaser text." in hidden


def test_protected_headings_leave_the_public_toc() -> None:
    toc = [
        envelopes.TocEntry(
            "guide",
            "Guide",
            (
                envelopes.TocEntry(
                    "secret-part", "Secret part", (envelopes.TocEntry("deeper", "Deeper"),)
                ),
            ),
        )
    ]
    ids = envelopes.protected_ids(PAGE.split("<!-- more -->")[1])
    assert ids == {"secret-part", "deeper"}
    public, hidden = envelopes.split_toc(toc, ids)
    assert public == [envelopes.TocEntry("guide", "Guide", ())]
    assert [e.id for e in hidden] == ["secret-part"]
    html = envelopes.toc_html(hidden)
    assert 'href="#secret-part"' in html and 'href="#deeper"' in html


def test_search_entries_follow_the_sections() -> None:
    hidden = PAGE.split("<!-- more -->")[1]
    entries = searchtext.search_entries("guides/x/", "Guide", hidden)
    assert [e["location"] for e in entries] == ["guides/x/#secret-part", "guides/x/#deeper"]
    assert entries[0]["title"] == "Secret part"
    assert "Hidden words of the members only." in entries[0]["text"]


def test_leak_check_ignores_text_that_is_also_public(tmp_path) -> None:
    check = LeakCheck()
    shared = "this sentence is both in the teaser and in the body of the page"
    check.add_public(f"<p>{shared}</p>")
    check.add_protected(f"<p>{shared}</p><p>only members may read these eight words right here</p>")
    (tmp_path / "a.html").write_text(f"<p>{shared}</p>")
    assert check.scan(tmp_path) == []
    (tmp_path / "b.html").write_text(
        "<div>only members may read these eight words right here</div>"
    )
    assert [leak.file for leak in check.scan(tmp_path)] == ["b.html"]
    # A protected block that begins as a public text: only what follows is looked for.
    check.add_protected(f"<p>{shared} and then the members only part goes on</p>")
    (tmp_path / "b.html").write_text(f"<p>{shared}; the rest differs entirely.</p>")
    assert check.scan(tmp_path) == []
    (tmp_path / "b.html").write_text(f"<p>{shared} and then the members</p>")
    assert [leak.what for leak in check.scan(tmp_path)] == [
        "protected text 'and in the body of the page and'"
    ]


def test_headings_and_names_that_are_also_public_are_not_leaks(tmp_path) -> None:
    check = LeakCheck()
    check.add_member("jo@example.com", "Jo Owner")  # the owner, named on a public page
    check.add_public("<h2>Context</h2><h2>Estimating time for the brief</h2><p>By Jo Owner.</p>")
    check.add_protected(
        "<h2>Context</h2><h2>Estimating time for the brief</h2><h2>Paying the first invoice</h2>"
    )
    page = tmp_path / "a.html"

    found = _finder(check, page)

    assert found("<h2>Context</h2><p>Estimating time for the brief, by Jo Owner</p>") == []
    assert found("<h3>Estimating time for the brief</h3>") == []
    # Beside them, what is protected only is still found, as a heading and in a text.
    assert found("<h2>Context</h2><h3>Paying the first invoice</h3>") == [
        "protected heading 'Paying the first invoice'"
    ]
    assert found("<p>Jo Owner on paying the first invoice</p>") == [
        "protected heading 'Paying the first invoice'"
    ]


def test_a_file_named_mk1_is_passed_over_only_if_it_is_an_envelope(tmp_path) -> None:
    check = LeakCheck()
    secret = "only members may read these eight words right here"
    check.add_protected(f"<p>{secret}</p>")
    (tmp_path / "a.md.mk1").write_bytes(b'MK1\n{"path":"a.md"}\n' + bytes(range(256)))
    check.read_ahead_all(tmp_path)
    assert check.scan(tmp_path) == []
    (tmp_path / "b.md.mk1").write_text(f"# Notes\n\n{secret}\n")
    check.read_ahead_all(tmp_path)
    assert [leak.file for leak in check.scan(tmp_path)] == ["b.md.mk1"]


def test_what_becomes_protected_after_a_file_was_read_is_found_in_it(tmp_path) -> None:
    check = LeakCheck()
    (tmp_path / "a.html").write_text(
        "<h2>Paying the first invoice</h2><p>By Ana Lima.</p>"
        "<p>only members may read these eight words right here</p>"
    )
    check.read_ahead_all(tmp_path)
    assert check.scan(tmp_path) == []
    # Made protected after the file was read (and judged): the scan judges it again.
    check.add_protected("<p>only members may read these eight words right here</p>")
    assert [leak.what for leak in check.scan(tmp_path)] == [
        "protected text 'only members may read these eight words right'"
    ]
    check = LeakCheck()
    check.read_ahead_all(tmp_path)
    check.add_member("ana@example.com", "Ana Lima")
    assert [leak.what for leak in check.scan(tmp_path)] == ["a member's name ('Ana Lima')"]
    check = LeakCheck()
    check.read_ahead_all(tmp_path)
    check.add_protected("<h3>Paying the first invoice</h3><p>Body.</p>")
    assert [leak.what for leak in check.scan(tmp_path)] == [
        "protected heading 'Paying the first invoice'"
    ]


def test_linked_folders_are_read_and_a_loop_ends(tmp_path) -> None:
    check = LeakCheck()
    check.add_protected("<p>only members may read these eight words right here</p>")
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "x.html").write_text(
        "<p>only members may read these eight words right here</p>"
    )
    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "sub" / "linked").symlink_to(outside)
    (site / "sub" / "loop").symlink_to(site / "sub")
    leaks = check.scan(site)
    assert "sub/linked/deep/x.html" in [leak.file for leak in leaks]


def test_keystore_entries_are_skipped_only_when_they_are_all_ciphertext(tmp_path) -> None:
    check = LeakCheck()
    check.add_member("ana@example.com", "Ana Lima")
    store = {
        "format": "mk1",
        "site": "0" * 32,
        "kdf": {"name": "PBKDF2", "hash": "SHA-256", "iterations": 600000},
        "members": {"a" * 32: "QW5hIExpbWE"},  # base64url of "Ana Lima": opaque, like a blob
    }
    (tmp_path / "keystore.json").write_text(json.dumps(store))
    assert check.scan(tmp_path) == []
    # One entry that is not a blob: the whole document is read, and the name is found.
    store["members"]["b" * 32] = "written by Ana Lima"
    (tmp_path / "keystore.json").write_text(json.dumps(store))
    assert [leak.what for leak in check.scan(tmp_path)] == ["a member's name ('Ana Lima')"]


def test_leak_check_finds_headings_and_names_anywhere_in_a_text(tmp_path) -> None:
    check = LeakCheck()
    check.add_protected("<h2>Estimating time for the brief</h2><p>Body.</p>")
    check.add_member("ana@example.com", "Ana Lima")
    check.add_member("solo@example.com", "Alexandra")  # one word, long enough to look for
    check.add_member("wei@example.com", "张伟伟伟伟")  # no latin letters: nothing to look for
    page = tmp_path / "a.html"

    found = _finder(check, page)

    # The first word of a phrase alone, or the words apart, are not the phrase.
    assert found("<p>Estimating is hard. Time for the brief. Ana wrote it; Lima too.</p>") == []
    assert found("<p>See: estimating time for the brief, soon.</p>") == [
        "protected heading 'Estimating time for the brief'"
    ]
    assert found("<p>Thanks to Ana   Lima!</p>") == ["a member's name ('Ana Lima')"]
    assert found("<li>Written by alexandra</li>") == ["a member's name ('Alexandra')"]
    assert found("<p>Ana</p><p>Lima</p>") == []  # two blocks, not one name
    # Every pair of words of the heading, but never the heading itself: no leak.
    assert found("<p>Estimating time for a brief; time for the brief.</p>") == []


def test_leak_check_tells_apart_many_phrases_that_begin_alike(tmp_path) -> None:
    # A large site's headings often share their first words ("How to ...", "Rollout
    # step 12 ..."): each is its own phrase, found where it stands whatever its length.
    check = LeakCheck()
    headings = [f"<h2>Rollout step {n} for the team</h2>" for n in range(3000)]
    headings += ["<h2>Rollout step 7 for</h2>", "<h2>Rollout step 7 for the team again</h2>"]
    check.add_protected("".join(headings) + "<p>Body.</p>")
    # Filed once: the first filing says what it is.
    check.add_protected("<p>Intro.</p><p>Rollout step 7 for the team.</p>")
    page = tmp_path / "a.html"

    found = _finder(check, page)

    assert found("<p>See rollout step 2999 for the team.</p>") == [
        "protected heading 'Rollout step 2999 for the team'"
    ]
    assert found("<p>rollout step 7 for the team</p>") == [
        "protected heading 'Rollout step 7 for the team'"
    ]
    # Where a short and a long phrase both begin, the text says which stands there.
    assert found("<p>rollout step 7 for lunch</p>") == ["protected heading 'Rollout step 7 for'"]
    assert found("<p>Rollout step 3000 for the team. Rollout step 7.</p>") == []
    assert found("<p>Rollout step 12 for</p>") == []  # the start of a heading only


def test_a_file_read_ahead_is_read_again_when_it_changed(tmp_path) -> None:
    check = LeakCheck()
    check.add_protected("<p>only members may read these eight words right here</p>")
    (tmp_path / "a.html").write_text("<p>A public page.</p>")
    (tmp_path / "b.html").write_text("<p>Another one.</p>")
    check.read_ahead_all(tmp_path)
    # Rewritten after it was read (by a later plugin, say): the new text is checked.
    (tmp_path / "a.html").write_text(
        "<p>A public page.</p><p>only members may read these eight words right here</p>"
    )
    assert [leak.file for leak in check.scan(tmp_path)] == ["a.html"]
    # A file read ahead that stayed the same is judged by what it holds, too.
    check.read_ahead(tmp_path, "a.html")
    assert [leak.file for leak in check.scan(tmp_path)] == ["a.html"]


def test_the_helper_never_waits_on_the_build_that_waits_on_it(tmp_path) -> None:
    """A long skip list (the build's last message) overfills a pipe while the helper
    answers: neither side may wait for the other. The large search shard it sealed
    meanwhile is read back whole from the build's temporary file."""
    import threading

    from generator.protection import worker

    (tmp_path / "index.html").write_text("<p>A public page.</p>")
    work = worker.Background()
    keys = {"members": (1, bytes(32))}
    try:
        work.use_keys("0" * 32, keys)
        for number in range(5):  # words that do not compress away: a shard of ~500 KB
            body = "<h2>Part</h2><p>" + os.urandom(100_000).hex(" ", 4) + "</p>"
            placeholder = f"mk1-sealing-{number}-of-this-build"
            work.protect(placeholder, "members", f"guides/{number}/", "Guide", {"content": body})
        skip = [f"assets/{'theme' * 40}/{number}.js" for number in range(2_000)]
        done: dict[str, object] = {}

        def finish() -> None:
            shards, scan = work.finish(tmp_path, skip)
            done["shards"], done["leaks"] = shards, scan()

        thread = threading.Thread(target=finish, daemon=True)
        thread.start()
        thread.join(60)
        stuck = thread.is_alive()
        if stuck:  # end the helper, so that the waiting build thread ends too
            work._process.kill()
            thread.join(10)
        assert not stuck, "the build and its helper wait on each other"
        assert done["leaks"] == []
        shard = work.spilled(done["shards"]["search/members.json.mk1"])  # type: ignore[index]
        assert len(shard) > 300_000
        _, plaintext = mk1.open_envelope(shard, keys, site="0" * 32, path="search/members.json")
        assert len(json.loads(plaintext)["docs"]) == 5
    finally:
        work.close()


@pytest.mark.parametrize("kind", ["Inline", "Background"])
def test_pages_sealed_by_the_work_are_the_sealers_envelopes(kind: str) -> None:
    from generator.protection import worker

    keys = {"members": (1, bytes(range(32))), "premium": (3, bytes(32))}
    sealer = envelopes.Sealer(site="0" * 32, keys=keys)
    work = getattr(worker, kind)()
    try:
        work.use_keys(sealer.site, keys)
        pages = {f"mk1-sealing-{n}-of-this-build": f"guides/{n}/" for n in range(30)}
        for number, (placeholder, url) in enumerate(pages.items()):
            tier = "premium" if number % 3 == 0 else "members"
            fragments = {"content": f"<h2>Part {number}</h2><p>Body {number}.</p>"}
            work.protect(placeholder, tier, url, f"Guide {number}", fragments)
            if number == 9:  # some asked for on the way, the rest at the end
                first = work.envelopes()
        sealed = {**first, **work.envelopes()}
        assert len(first) == 10 and len(sealed) == 30 and work.envelopes() == {}
        for number, (placeholder, url) in enumerate(pages.items()):
            tier = "premium" if number % 3 == 0 else "members"
            content = f"<h2>Part {number}</h2><p>Body {number}.</p>"
            expected = sealer.seal_page(tier, url, {"content": content})
            assert work.spilled(sealed[placeholder]).decode() == expected
        shards, _ = work.finish(Path("/nonexistent"), [])
        assert sorted(shards) == ["search/members.json.mk1", "search/premium.json.mk1"]
    finally:
        work.close()


def test_short_protected_strings_are_found_where_they_do_not_belong(tmp_path) -> None:
    """A link's address and title, an abbreviation's expansion, a heading listed in a
    table of contents: short, but unique to what is protected."""
    check = LeakCheck()
    check.add_public('<p>See the <a href="https://example.org/public">public page</a>.</p>')
    check.add_protected(
        '<h2 id="the-team-rota">The team rota</h2>'
        '<p><a href="https://rates.example.com/card" title="Secret rate card">rates</a>, '
        '<abbr title="Hidden Teammate Markup">HTML</abbr>, '
        '<a href="https://example.org/public">again</a>.</p>'
    )
    page = tmp_path / "a.html"

    found = _finder(check, page)

    assert found('<p><a href="https://rates.example.com/card">pricing</a></p>') == [
        "protected link address 'https://rates.example.com/card'"
    ]
    assert found('<p><abbr title="Hidden Teammate Markup">HTML</abbr></p>') == [
        "protected title 'Hidden Teammate Markup'"
    ]
    assert found('<div class="toc"><a href="#the-team-rota">The team rota</a></div>') == [
        "protected heading 'The team rota'"
    ]
    # Also public: not a leak. Out of context (a stylesheet, a theme's settings), the
    # heading's three words prove nothing.
    assert found('<p><a href="https://example.org/public">x</a></p>') == []
    assert found('<script type="application/json">{"f": ["the.team.rota"]}</script>') == []
    assert found("<p>Our team rota is on the wall.</p>") == []


def test_a_short_protected_sentence_or_code_is_found_wherever_it_stands(tmp_path) -> None:
    """Too short for a run of eight words: a one-sentence members' post, a coupon code."""
    check = LeakCheck()
    check.add_public("<p>Codes are sent each month. The code SPRING-2026 is public.</p>")
    check.add_protected("<p>This month: code ZZCOUPON-7731.</p><p>Ask for the A7X9Q2 rate.</p>")
    page = tmp_path / "a.html"

    found = _finder(check, page)

    assert found("<p>This month: code ZZCOUPON-7731.</p>") == [
        "protected text 'This month: code ZZCOUPON-7731.'"
    ]
    assert found("<li>zzcoupon-7731</li>") == ["protected code 'ZZCOUPON-7731'"]
    assert found('{"text": "Ask for the A7X9Q2 rate."}') != []
    assert found("<p>Codes are sent each month. Use SPRING-2026.</p>") == []
    assert found("<p>This month: a new guide.</p>") == []  # three words: too common


def test_every_finding_is_reported_by_file(tmp_path) -> None:
    from generator.protection.leakcheck import report

    check = LeakCheck()
    check.add_protected("<h2>Paying the first invoice</h2><h2>Estimating time well</h2>")
    (tmp_path / "a.html").write_text(
        "<h2>Paying the first invoice</h2><h3>Estimating time well</h3>"
    )
    (tmp_path / "b.html").write_text("<h2>Estimating time well</h2>")
    leaks = check.scan(tmp_path)
    assert len(leaks) == 3
    assert report(leaks).splitlines() == [
        "3 finding(s) in 2 file(s) of the built site.",
        "",
        "a.html",
        "  - protected heading 'Estimating time well'",
        "  - protected heading 'Paying the first invoice'",
        "b.html",
        "  - protected heading 'Estimating time well'",
    ]


def test_a_markdown_copys_links_prove_nothing_but_a_protected_address(tmp_path) -> None:
    """A text copy of a public page links to a members' heading by its anchor: the
    anchor's words are no leak; a protected address written out is one."""
    check = LeakCheck()
    check.add_protected(
        '<h2 id="pinning-a-package-to-an-index">Pinning a package to an index</h2>'
        '<p>See <a href="https://rates.example.org/card-2031">the card</a>.</p>'
    )
    copy = tmp_path / "index.md"
    copy.write_text(
        "Read [pinning](https://docs.example.org/concepts/#pinning-a-package-to-an-index) "
        "and [more](../concepts/#pinning-a-package-to-an-index).\n"
    )
    assert check.scan(tmp_path) == []
    copy.write_text("Rates: https://rates.example.org/card-2031.\n")
    assert [leak.what for leak in check.scan(tmp_path)] == [
        "protected link address 'https://rates.example.org/card-2031'"
    ]


def test_the_teaser_takes_the_definitions_it_uses_and_nothing_else() -> None:
    from generator.content.access import teaser_definitions

    teaser = (
        "See the [Rate  Card][rates], the [handbook][] and [Zensical]; ask the HR desk "
        "about it[^1].\n"
    )
    rest = (
        '## Members\n\n[rates]: https://e.org/rates "Rates"\n[handbook]: hand.md\n'
        "[zensical]: https://zensical.org\n[other]: https://e.org/secret\n"
        "*[HR]: Human Resources\n*[SLA]: Service Level Agreement\n[^1]: A footnote.\n"
        "[^2]: Another footnote.\n"
    )
    assert teaser_definitions(teaser, rest) == [
        '[rates]: https://e.org/rates "Rates"',
        "[handbook]: hand.md",
        "[zensical]: https://zensical.org",
        "*[HR]: Human Resources",
        "[^1]: A footnote.",
    ]


def test_a_teasers_footnote_is_taken_whole_with_what_it_uses() -> None:
    """A footnote goes on over indented blocks, up to the next footnote; the footnotes
    and links it uses come along; a definition shown in code is no definition."""
    from generator.content.access import footnote_definitions, teaser_definitions

    teaser = "The survey[^survey] and the rule[^rule] and the code[^code].\n"
    rest = (
        "Members' text[^other].\n\n"
        "[^other]: Only members read this.\n"
        "[^survey]: The survey, first line,\n"
        "carried on lazily.\n\n"
        "    A second paragraph, citing the [method][how] and the appendix[^appendix].\n\n"
        "        an indented code block in the note\n\n"
        "A paragraph of members' text, not the note's.\n\n"
        "[^appendix]: The appendix.\n"
        "[^rule]: The rule.\n"
        "    Its second line.\n"
        "[^after]: Not the rule's.\n\n"
        "```markdown\n[^code]: Shown in code.\n```\n\n"
        "[how]: https://e.org/method\n[why]: https://e.org/secret\n"
    )
    survey = (
        "[^survey]: The survey, first line,\ncarried on lazily.\n\n"
        "    A second paragraph, citing the [method][how] and the appendix[^appendix].\n\n"
        "        an indented code block in the note"
    )
    notes = [survey, "[^appendix]: The appendix.", "[^rule]: The rule.\n    Its second line."]
    assert footnote_definitions(teaser, rest) == notes
    assert teaser_definitions(teaser, rest) == ["[how]: https://e.org/method", *notes]


def test_addresses_are_taken_as_the_pattern_takes_them_from_the_whole_text() -> None:
    """The check runs its address pattern only around `://` and `](`: what it finds,
    and the text it leaves, are what the pattern gives on the whole text."""
    import random

    from generator.protection import leakcheck

    def whole(text: str) -> tuple[list[str], str]:
        found = [a.rstrip(".,;:!?") for a in leakcheck._ADDRESS.findall(text)]
        return found, leakcheck._ADDRESS.sub(" ", text)

    pieces = [*"ab:/]()[ \n\t\r\x0c.-+h1\"'<>", "://", "](", "https://x.org/a", "mailto:x"]
    rng = random.Random(7)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(20_000)]
    texts += [
        'See <a href="https://a.example/x?u=https://b.example/y">it</a>, and [t](../p/#h).',
        "[x](https://a.example/b)(c) ftp://x.y\rhttp://z.w\x0c](q)",
        "a b" + "c" * 5000 + "https://a.example/ d " + "e" * 4090 + " f" + "g" * 10 + "](h)",
    ]
    for text in texts:
        assert leakcheck._take_addresses(text) == whole(text), repr(text)


def test_the_search_index_compressed_as_it_comes_is_the_whole_index() -> None:
    """Entries are compressed as pages come; the index made before the last page, and
    after it, each inflate to exactly the JSON of all entries so far."""
    entries = [
        {"location": f"guides/p{n}/", "title": f"Page {n}", "text": "<p>" + "wörd " * n + "</p>"}
        for n in range(40)
    ]
    index = envelopes.SearchIndex()
    assert json.loads(mk1.inflate_raw(index.deflated())) == {"docs": []}
    index.add(entries[:25])
    assert json.loads(mk1.inflate_raw(index.deflated())) == {"docs": entries[:25]}
    index.add(entries[25:])
    whole = index.deflated()
    assert mk1.inflate_raw(whole) == mk1.compact_json({"docs": entries})


@pytest.mark.parametrize("more", ["protected", "read"])
def test_a_protected_run_of_words_is_found_whichever_side_is_larger(tmp_path, more) -> None:
    """The scan sets up the smaller of the two sides (the protected text's shingles or
    those of what it read) and streams the other past it: either way the same finding."""

    protected = [_word("sealed", n) for n in range(3_000 if more == "protected" else 40)]
    public = [_word("open", n) for n in range(3_000 if more == "read" else 40)]
    check = LeakCheck()
    check.add_protected(f"<p>{' '.join(protected)}.</p>")
    page = tmp_path / "index.html"
    page.write_text(f"<p>{' '.join(public)}</p>\n<p>{' '.join(protected[20:28])}</p>\n")
    leaks = check.scan(tmp_path)
    assert [leak.what for leak in leaks] == [f"protected text {' '.join(protected[20:28])!r}"]
    assert (check.scanned <= len(check.protected)) == (more == "protected")
    page.write_text(f"<p>{' '.join(public)}</p>\n<p>{' '.join(protected[20:27])}</p>\n")
    assert LeakCheck.scan(check, tmp_path) == []


@pytest.mark.parametrize("more", ["protected", "read"])
def test_protected_runs_kept_on_disk_are_found_like_those_in_memory(
    tmp_path, monkeypatch, more
) -> None:
    """Past a few thousand shingles, the keys go to a temporary file: a run of words
    from the first paragraphs (in the file) or the last (still in memory) is found."""
    from generator.protection import leakcheck

    monkeypatch.setattr(leakcheck.Keys, "CHUNK", 16)

    paragraphs = [[_word(_word("sealed", p) + "x", n) for n in range(30)] for p in range(12)]
    check = LeakCheck()
    for paragraph in paragraphs:
        check.add_protected(f"<p>{' '.join(paragraph)}.</p>")
    assert len(check.protected) == 12 * 23 and len(list(check.protected.chunks())) > 2
    public = " ".join(_word("open", n) for n in range(2_000 if more == "read" else 10))
    page = tmp_path / "index.html"
    for leaked in (paragraphs[0][3:11], paragraphs[-1][20:28], paragraphs[5][0:8]):
        page.write_text(f"<p>{public}</p>\n<p>{' '.join(leaked)}</p>\n")
        leaks = check.scan(tmp_path)
        assert [leak.what for leak in leaks] == [f"protected text {' '.join(leaked)!r}"]
        assert (check.scanned <= len(check.protected)) == (more == "protected")
    page.write_text(f"<p>{public}</p>\n<p>{' '.join(paragraphs[0][3:10])}</p>\n")
    assert check.scan(tmp_path) == []
    # Closed, the check gives its file back (`mkdocs serve` builds again and again).
    opened = set(os.listdir("/proc/self/fd"))
    check.close()
    assert len(set(os.listdir("/proc/self/fd")) - opened) == 0
    assert len(opened - set(os.listdir("/proc/self/fd"))) == 1


def test_a_helper_process_only_for_a_site_large_enough_to_gain(monkeypatch) -> None:
    from generator.protection import worker

    monkeypatch.setattr(worker.os, "cpu_count", lambda: 2)
    monkeypatch.delenv(worker.INLINE_ENV, raising=False)
    chosen = {}
    for pages, setting in ((10, None), (49, None), (50, None), (10, "0"), (5_000, "1")):
        if setting is not None:
            monkeypatch.setenv(worker.INLINE_ENV, setting)
        work = worker.start(pages)
        chosen[pages, setting] = type(work).__name__
        work.close()
    assert chosen == {
        (10, None): "Inline",
        (49, None): "Inline",
        (50, None): "Background",
        (10, "0"): "Background",
        (5_000, "1"): "Inline",
    }
    monkeypatch.setattr(worker.os, "cpu_count", lambda: 1)
    monkeypatch.setenv(worker.INLINE_ENV, "0")
    assert isinstance(worker.start(5_000), worker.Inline)  # one core: no helper


def test_the_pages_of_a_site_are_counted_up_to_where_it_matters(tmp_path) -> None:
    from generator.engine.site import pages_up_to

    docs, templates = tmp_path / "docs", tmp_path / "templates"
    (docs / "guides").mkdir(parents=True)
    templates.mkdir()
    for number in range(30):
        (docs / "guides" / f"g{number}.md").write_text("# A guide\n")
        (docs / "guides" / f"g{number}.png").write_bytes(b"")  # not a page
    (docs / ".hidden.md").write_text("")
    for number in range(12):
        (templates / f"t{number}.yml").write_text("")
    assert pages_up_to(docs, templates, 1_000) == 42
    assert pages_up_to(docs, templates, 20) >= 20
    assert pages_up_to(docs, tmp_path / "none", 1_000) == 30


def test_text_both_protected_and_public_passes_with_the_public_keys_on_disk(
    tmp_path, monkeypatch
) -> None:
    from generator.protection import leakcheck

    monkeypatch.setattr(leakcheck.Keys, "CHUNK", 16)

    shared = [_word("sharedx", n) for n in range(12)]  # a snippet on both sides
    check = LeakCheck()
    for part in range(6):  # public text enough to fill chunks, the snippet in the first
        opening = " ".join(shared) + " " if part == 0 else ""
        check.add_public(f"<p>{opening}{' '.join(_word(f'pubx{part}x', n) for n in range(40))}</p>")
    sealed = [_word("sealedx", n) for n in range(12)]
    check.add_protected(f"<p>{' '.join(shared)}.</p><p>{' '.join(sealed)}.</p>")
    assert len(list(check.public.chunks())) > 2
    page = tmp_path / "index.html"
    page.write_text(f"<p>{' '.join(shared)}</p>")
    assert check.scan(tmp_path) == []
    page.write_text(f"<p>{' '.join(sealed)}</p><p>mail ana@example.com</p>")
    check.add_member("ana@example.com", "A")
    assert sorted(leak.what for leak in check.scan(tmp_path)) == [
        "a member's email",
        f"protected text {' '.join(sealed[:8])!r}",
    ]
