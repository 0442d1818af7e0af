"""Members-only for real: attacks on a built site, from the files a visitor can download."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from generator.content.access import split_teaser
from generator.members import store
from generator.protection import keystore, mk1

from ..conftest import (
    MEMBER,
    OTHER,
    ROOT,
    TestMember,
    keystore_entry,
    member_view,
    run_memberkit,
    tier_keys,
    tree_digest,
    write_state,
)

GUIDES = sorted(p for p in (ROOT / "docs" / "guides").glob("*.md") if p.name != "index.md")


def every_text(site: Path) -> str:
    """All the site's bytes as text, archives and gz files opened."""

    def read(name: str, data: bytes) -> list[str]:
        if name.endswith(".gz"):
            return read(name[:-3], gzip.decompress(data))
        if data[:4] == b"PK\x03\x04":
            archive = zipfile.ZipFile(io.BytesIO(data))
            return [t for n in archive.namelist() for t in read(n, archive.read(n))]
        return [data.decode("utf-8", "replace")]

    texts = [t for p in site.rglob("*") if p.is_file() for t in read(p.name, p.read_bytes())]
    return "\n".join(texts)


def protected_sentences(guide: Path) -> list[str]:
    _, rest = split_teaser(guide.read_text(encoding="utf-8"))
    assert rest is not None
    prose = [
        line.strip()
        for line in rest.splitlines()
        if len(line.split()) > 12 and re.match(r"[A-Z]", line)
    ]
    first = [re.split(r"(?<=[.?!])\s", line)[0] for line in prose]
    first = [s for s in first if len(s.split()) >= 8]
    return first[:: max(1, len(first) // 6)]


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_no_protected_sentence_anywhere_in_the_site(bundled_site: Path, guide: Path) -> None:
    everything = every_text(bundled_site)
    sentences = protected_sentences(guide)
    assert len(sentences) >= 4
    for sentence in sentences:
        words = re.findall(r"[A-Za-z0-9']+", sentence)[:8]
        pattern = r"\W+".join(map(re.escape, words))
        assert not re.search(pattern, everything), f"{sentence!r} is readable in the site"


def test_no_member_email_or_name_in_the_site(bundled_site: Path) -> None:
    everything = every_text(bundled_site).lower()
    for member in (MEMBER, OTHER):
        assert member.email not in everything
        assert member.name.lower() not in everything


def test_protected_headings_are_not_in_the_public_toc_or_search(bundled_site: Path) -> None:
    page = (bundled_site / "guides/task-briefs/index.html").read_text("utf-8")
    assert "Estimating time" not in page
    index = (bundled_site / "search/search_index.json").read_text("utf-8")
    assert "Estimating time" not in index
    # The teaser is for search engines too: only the sealed part is kept from them.
    assert '<meta name="robots"' not in page
    home = (bundled_site / "index.html").read_text("utf-8")
    assert "noindex" not in home


def test_a_member_reads_everything_after_opening_the_envelopes(bundled_project: Path) -> None:
    page = member_view(bundled_project, "guides/task-briefs/")
    assert "Estimating time" in page and "Task brief checklist" in page
    site, keys = tier_keys(bundled_project)
    shard = (bundled_project / "site/search/members.json.mk1").read_bytes()
    header, plain = mk1.open_envelope(shard, keys, site=site, path="search/members.json")
    docs = json.loads(plain)["docs"]
    assert header["kind"] == "search"
    assert any(d["title"] == "Estimating time" for d in docs)
    assert all(d["location"].startswith(("guides/", "templates/")) for d in docs)


def test_keystore_opens_with_the_right_password_only(bundled_project: Path) -> None:
    site = bundled_project / "site"
    index = json.loads((site / "mk1/keystore.json").read_text())
    assert index["layout"] == 3 and index["kdf"]["iterations"] >= 100_000
    assert len(index["epoch"]) == 22
    assert index["shards"] == {"digits": 1, "url": "keys/{shard}.json"}
    shards = sorted((site / "mk1/keys").iterdir())
    assert [p.name for p in shards] == [f"{n:x}.json" for n in range(16)]
    entry = keystore_entry(site, MEMBER.email.upper(), f"  {MEMBER.password} ")
    assert entry is not None and entry["name"] == MEMBER.name and set(entry["keys"]) == {"members"}
    assert "link" not in entry
    assert keystore_entry(site, MEMBER.email, MEMBER.password + "x") is None
    # The login link opens an entry of its own, marked with its last day.
    link = keystore_entry(site, MEMBER.email, MEMBER.link)
    assert link is not None and link["keys"] == entry["keys"] and link["r"] == entry["r"]
    assert link["link"] == (dt.date.today() + dt.timedelta(days=14)).isoformat()
    members = [json.loads(p.read_text())["members"] for p in shards]
    assert {len(m) for m in members} == {16}, "every shard holds as many entries"
    lengths = {len(v) for m in members for v in m.values()}
    assert len(lengths) == 1, "every entry, decoys included, has the same length"


def test_a_flipped_byte_or_a_moved_envelope_is_refused(bundled_project: Path) -> None:
    site, keys = tier_keys(bundled_project)
    page = (bundled_project / "site/guides/task-briefs/index.html").read_text("utf-8")
    envelope = mk1.unb64url(re.search(r'data-mk1="([^"]+)"', page).group(1))
    for index in (5, len(envelope) // 2, len(envelope) - 1):
        tampered = bytearray(envelope)
        tampered[index] ^= 0x20
        with pytest.raises(mk1.MK1Error):
            mk1.open_envelope(bytes(tampered), keys, site=site, path="guides/task-briefs/")
    with pytest.raises(mk1.MK1Error, match="made for"):
        mk1.open_envelope(envelope, keys, site=site, path="guides/budgeting-and-paying/")


def test_every_page_gets_its_own_envelope_whatever_its_teaser_says(project: Path) -> None:
    # The text that stands for an envelope until a page is written, quoted in a teaser.
    guide = project / "docs" / "guides" / "task-briefs.md"
    text = guide.read_text(encoding="utf-8")
    quoted = "Placeholders: " + ", ".join(f"mk1-sealing-{n}-of-this-build" for n in range(60))
    guide.write_text(text.replace("<!-- more -->", f"{quoted}\n\n<!-- more -->", 1), "utf-8")
    assert run_memberkit("build", cwd=project).returncode == 0
    for url in [f"guides/{p.stem}/" for p in GUIDES]:
        page = member_view(project, url)  # opens only the envelope made for this URL
        assert "mk1-sealing-" not in page.replace(quoted, "")
    assert quoted in member_view(project, "guides/task-briefs/")


def test_two_builds_of_the_same_sources_are_byte_identical(project: Path, tmp_path: Path) -> None:
    # A helper process, whatever the size of the site.
    first = run_memberkit("build", cwd=project, env={"MEMBERKIT_INLINE": "0"})
    assert first.returncode == 0, first.stderr
    before = tree_digest(project / "site")
    # The second build does its word work (search entries, leak check) in its own
    # process instead of a helper process: the site is the same to the byte.
    second = run_memberkit("build", cwd=project, env={"MEMBERKIT_INLINE": "1"})
    assert second.returncode == 0, second.stderr
    assert tree_digest(project / "site") == before


def test_a_removed_member_opens_nothing_in_the_next_build(project: Path) -> None:
    assert run_memberkit("build", cwd=project).returncode == 0
    site = json.loads((project / "site/mk1/keystore.json").read_text())["site"]
    leaver = keystore_entry(project / "site", OTHER.email, OTHER.password)
    assert leaver is not None
    saved: dict[str, dict[str, str]] = leaver["keys"]  # type: ignore[assignment]
    saved_keys = {t: (k["v"], mk1.unb64url(k["k"])) for t, k in saved.items()}
    old_page = re.search(
        r'data-mk1="([^"]+)"', (project / "site/guides/task-briefs/index.html").read_text()
    ).group(1)
    mk1.open_envelope(mk1.unb64url(old_page), saved_keys, site=site, path="guides/task-briefs/")

    removed = run_memberkit("members", "remove", OTHER.email, cwd=project)
    assert removed.returncode == 0, removed.stderr
    assert run_memberkit("build", cwd=project).returncode == 0

    assert keystore_entry(project / "site", OTHER.email, OTHER.password) is None
    assert keystore_entry(project / "site", OTHER.email, OTHER.link) is None
    for page in (project / "site").rglob("index.html"):
        match = re.search(r'data-mk1="([^"]+)"', page.read_text())
        if match:
            url = page.parent.relative_to(project / "site").as_posix() + "/"
            with pytest.raises(mk1.MK1Error):
                mk1.open_envelope(mk1.unb64url(match.group(1)), saved_keys, site=site, path=url)
    for envelope in (project / "site").rglob("*.mk1"):
        path = envelope.relative_to(project / "site").as_posix()[: -len(".mk1")]
        with pytest.raises(mk1.MK1Error):
            mk1.open_envelope(envelope.read_bytes(), saved_keys, site=site, path=path)
    # The member who stays signs in and reads everything.
    stayer = keystore_entry(project / "site", MEMBER.email, MEMBER.password)
    assert stayer is not None
    current: dict[str, dict[str, int]] = stayer["keys"]  # type: ignore[assignment]
    assert current["members"]["v"] != int(saved["members"]["v"])
    assert "Estimating time" in member_view(project, "guides/task-briefs/")


def test_an_expired_member_is_dropped_at_build_time(project: Path) -> None:
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    expired = TestMember(
        "old@example.com", "Old Member", "an expired long password", expires=yesterday
    )
    write_state(project, (MEMBER, expired))
    version = store.load(project / ".memberkit").tier_keys()["members"].v
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    after = store.load(project / ".memberkit")
    assert list(after.members) == [MEMBER.email]
    assert after.tier_keys()["members"].v != version
    # Kept a while among the ended: their entry opens nothing and says the day it ended.
    assert list(after.ended) == [expired.email]
    entry = keystore_entry(project / "site", expired.email, expired.password)
    assert entry is not None and entry["keys"] == {}
    assert keystore.ended_on(entry) == yesterday
    # Their name is as secret as a member's: planted in a page, the leak check finds it.
    target = project / "site" / "about" / "index.html"
    target.write_text(target.read_text() + f"<p>{expired.name} wrote this</p>")
    caught = run_memberkit("check", cwd=project)
    assert caught.returncode != 0
    assert f"a member's name ({expired.name!r})" in caught.stderr
    # ended_notice_days: 0, and the next build forgets them: nothing is published.
    config = project / "mkdocs.yml"
    text = config.read_text()
    assert "      join_url: join.md\n" in text
    config.write_text(
        text.replace(
            "      join_url: join.md\n", "      join_url: join.md\n      ended_notice_days: 0\n"
        )
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert store.load(project / ".memberkit").ended == {}
    assert keystore_entry(project / "site", expired.email, expired.password) is None


def test_a_planted_leak_is_caught_by_memberkit_check(project: Path) -> None:
    assert run_memberkit("build", cwd=project).returncode == 0
    clean = run_memberkit("check", cwd=project)
    assert clean.returncode == 0, clean.stderr
    sentence = protected_sentences(ROOT / "docs/guides/budgeting-and-paying.md")[1]
    target = project / "site" / "about" / "index.html"
    target.write_text(target.read_text() + f"<p>{sentence}</p>")
    for env in ({"MEMBERKIT_INLINE": "0"}, {"MEMBERKIT_INLINE": "1"}):  # helper, and none
        caught = run_memberkit("check", cwd=project, env=env)
        assert caught.returncode != 0
        assert "site/about/index.html" in caught.stderr and "protected text" in caught.stderr
    bundle = project / "site" / "notes.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("inside.txt", f"{MEMBER.name} wrote this")
    target.write_text(target.read_text().replace(sentence, ""))
    caught = run_memberkit("check", cwd=project)
    assert caught.returncode != 0
    assert f"notes.zip!inside.txt: a member's name ({MEMBER.name!r})" in caught.stderr


def test_the_build_refuses_without_private_state(tmp_path: Path) -> None:
    from ..conftest import copy_project

    project = copy_project(tmp_path / "bare", with_state=False)
    result = run_memberkit("build", cwd=project)
    assert result.returncode != 0
    assert "no private state yet" in result.stderr and "Traceback" not in result.stderr


def test_corrupt_state_fails_the_build_and_is_kept(project: Path) -> None:
    path = project / ".memberkit" / "state.json"
    path.write_text(path.read_text().replace('"site"', '"sight"'))
    before = path.read_bytes()
    result = run_memberkit("build", cwd=project)
    assert result.returncode != 0 and "damaged" in result.stderr
    assert path.read_bytes() == before


def test_files_the_owner_publishes_as_they_are_are_public_sources(project: Path) -> None:
    """The theme, the owner's custom_dir and the static files of docs/ are copied as
    they are: public sources, not read (an icon index or a source map shares text with
    any site). What the build makes from the pages, it reads."""
    config = project / "mkdocs.yml"
    # The bundled site has a custom_dir: overrides/ (its "page not found" page).
    assert "\n  custom_dir: overrides\n" in config.read_text()
    sentence = protected_sentences(ROOT / "docs/guides/budgeting-and-paying.md")[1]
    (project / "overrides" / "notes.txt").write_text(sentence)
    (project / "docs" / "licence.txt").write_text(sentence)
    assert run_memberkit("build", cwd=project).returncode == 0
    # The same sentence written by the build (a plugin of the owner's) is a leak.
    (project / "hooks.py").write_text(
        "def on_post_build(config):\n"
        f"    (__import__('pathlib').Path(config.site_dir) / 'x.html').write_text({sentence!r})\n"
    )
    config.write_text(config.read_text() + "hooks:\n  - hooks.py\n")
    result = run_memberkit("build", cwd=project)
    assert result.returncode != 0
    assert "x.html" in result.stderr and "protected text" in result.stderr


def test_the_sites_own_furniture_raises_no_alarm(project: Path) -> None:
    """Footer social links, the repository and the copyright line stand on every page,
    public: a members' page that links to them gives nothing away. A link only members'
    text holds is still found where it does not belong."""
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text()
        + "repo_url: https://code.example.org/owner/site\n"
        + "extra:\n  social:\n    - icon: fontawesome/brands/mastodon\n"
        + "      link: https://social.example.org/@owner\n"
    )
    config.write_text(
        config.read_text().replace(
            "copyright: Copyright &copy; Outsource Without Regret.",
            'copyright: Copyright &copy; <a href="https://owner.example.org/legal">Owner</a>.',
        )
    )
    guide = project / "docs/guides/task-briefs.md"
    guide.write_text(
        guide.read_text() + "\n\nFollow [the owner](https://social.example.org/@owner), read the "
        "[code](https://code.example.org/owner/site) and the "
        "[terms](https://owner.example.org/legal); members also get "
        "[the rate card](https://rates.example.org/card-2031). Check each file's "
        "SHA-256 sum.\n"  # a code, also in memberkit's own keystore index
    )
    built = run_memberkit("build", cwd=project)
    assert built.returncode == 0, built.stderr
    about = project / "site/about/index.html"
    about.write_text(about.read_text() + '<a href="https://rates.example.org/card-2031">x</a>')
    caught = run_memberkit("check", cwd=project)
    assert caught.returncode != 0
    assert "protected link address 'https://rates.example.org/card-2031'" in caught.stderr
    assert caught.stderr.count("protected link address") == 1


def test_a_leak_by_another_plugin_names_it_and_says_what_to_do(project: Path) -> None:
    """A hook (a plugin of the owner's) that copies a members' guide into a page of its
    own, and one that writes a text file after the build: each named for what it is."""
    sentence = protected_sentences(ROOT / "docs/guides/task-briefs.md")[1]
    (project / "copies.py").write_text(
        "from mkdocs.structure.files import File\n\n"
        "def on_files(files, config):\n"
        f"    text = '# Copy\\n\\n{sentence}\\n'\n"
        "    files.append(File.generated(config, 'copy.md', content=text))\n"
        "    return files\n\n"
        "def on_post_build(config):\n"
        "    import pathlib\n"
        f"    (pathlib.Path(config.site_dir) / 'llms-full.txt').write_text({sentence!r})\n"
    )
    config = project / "mkdocs.yml"
    config.write_text(config.read_text() + "hooks:\n  - copies.py\n")
    built = run_memberkit("build", "--no-strict", cwd=project)
    assert built.returncode != 0
    assert "copy/index.html: made by the 'copies.py' plugin from members' pages" in built.stderr
    # The search plugin indexed the copy: its index is named with the text file.
    assert (
        "llms-full.txt, search/search_index.json: not a page of the site but a file written by"
        in built.stderr
    )
    assert "In pages" not in built.stderr
