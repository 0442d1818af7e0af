"""After the last page: the files made from the whole site, then the leak check.

`finish_site` writes the keystore, the host files (headers, robots.txt, the sitemap
policy) and the feed, takes the sealed search shards from the helper and has it read
the whole site for protected text. `leak_failure` turns the findings into the one
message the owner reads, with every finding in a report file beside mkdocs.yml.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from generator.engine.discovery import Discovery
from generator.engine.policy import SitePolicy
from generator.engine.site import CACHE_DIR
from generator.members import keystore_writer
from generator.members import state as private
from generator.protection import leakcheck, worker
from generator.protection.leakcheck import Leak

#: Where the full list of a failed leak check goes, beside mkdocs.yml.
LEAK_REPORT = f"{CACHE_DIR}/leak-report.txt"


def finish_site(
    site: Path,
    *,
    state: private.State,
    tiers: tuple[str, ...],
    site_url: str | None,
    policy: SitePolicy,
    found: Discovery,
    work: worker.Inline | worker.Background,
    public: Iterable[str],
    today: dt.date,
    notes: Callable[[str], None],
    ended_days: int = private.ENDED_NOTICE_DAYS,
) -> list[Leak]:
    """Write what is made from the whole site into `site`; return the leak check's
    findings. `notes` hears what the owner may want to know of the security policy.
    `ended_days`: how long a membership that ended is told so at sign-in.
    Raises `MemberkitError` when the helper fails."""
    (site / "mk1").mkdir(exist_ok=True)
    keystore_writer.write(site, state, today, tiers, ended_days=ended_days)
    # Its index names the key derivation ("PBKDF2", "SHA-256"): memberkit's own words.
    work.add_public((site / keystore_writer.INDEX_PATH).read_text(encoding="utf-8"))
    policy.write_host_files(site, site_url, set(found.noindex))
    for note in policy_notes(policy):
        notes(note)
    found.write_feed(site)  # before the leak check, which reads it
    # The helper answers with the search shards (sealed while the pages were written),
    # then reads the site while they are written here: ciphertext, the only files
    # written after the scan has begun.
    shards, scan = work.finish(site, skip=public)
    for path, where in shards.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_bytes(work.spilled(where))
    return scan()


def policy_notes(policy: SitePolicy) -> list[str]:
    """The other hosts the pages load from, and what the owner forbade but uses."""
    notes = []
    hosts = policy.outside_hosts()
    if hosts:
        listed = "; ".join(f"{d}: {', '.join(found)}" for d, found in hosts.items())
        notes.append(f"the site loads from other hosts, allowed by its security policy: {listed}")
    for used in policy.forbidden_in_use():  # the owner's choice: a note
        notes.append(
            f"the site loads from {used.split(' ', 1)[1]} ({used.split(' ', 1)[0]}), which "
            "plugins.memberkit.csp_forbid forbids: browsers will refuse it"
        )
    return notes


#: Where a file of the built site came from, as `leak_failure` is told: a page of the
#: owner's, a file another plugin made (its name), or neither (written after the pages).
PAGE = "page"


def leak_failure(
    leaks: list[Leak],
    site: Path,
    root: Path,
    *,
    remove_site: bool,
    origins: Mapping[str, str] | None = None,
) -> str:
    """Report every finding, by file, in `root`/LEAK_REPORT; remove `site` if asked
    (what leaks must not stay there to be uploaded). Returns the message to fail with,
    whose advice follows where the leaking files came from (`origins`: a built file's
    path, PAGE or the name of the plugin that made it)."""
    report = leakcheck.report(leaks)
    where = root / LEAK_REPORT
    with contextlib.suppress(OSError):
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(report)
    if remove_site:
        shutil.rmtree(site, ignore_errors=True)
    files = len({leak.file for leak in leaks})
    shown = "; ".join(str(leak) for leak in leaks[:5])
    more = f" (and {len(leaks) - 5} more)" if len(leaks) > 5 else ""
    return (
        f"leak check: protected text found in the built site, {len(leaks)} finding(s) in "
        f"{files} file(s): {shown}{more}. Every finding, by file: {where}. "
        + advice(leaks, origins or {})
    )


def advice(leaks: list[Leak], origins: Mapping[str, str]) -> str:
    """What to do, by where the leaking files came from."""
    by_origin: dict[str, list[str]] = {}
    for name in sorted({leak.file.split("!", 1)[0] for leak in leaks}):
        by_origin.setdefault(origins.get(name, ""), []).append(name)
    said = []
    for origin, names in sorted(by_origin.items()):
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        if origin == PAGE:
            said.append(
                f"In pages ({listed}): move the text below the teaser divider or make the "
                "page public"
            )
        elif origin:
            said.append(
                f"{listed}: made by the {origin!r} plugin from members' pages; turn it off "
                "for them (or drop it) in mkdocs.yml"
            )
        else:
            said.append(
                f"{listed}: not a page of the site but a file written by another plugin or "
                "a hook; keep it from copying members' pages, or drop it from mkdocs.yml"
            )
    return ". ".join(said)
