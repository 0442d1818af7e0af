"""Shared fixtures: a copy of the bundled project to build and break in tmp_path."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.members import sealed, store
from generator.members import state as private
from generator.protection import keystore, mk1

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ("mkdocs.yml", "docs", "snippets", "templates", "overrides")
#: The lowest count the build accepts keeps the tests quick; the format is the same.
TEST_ITERATIONS = 100_000
#: Where the owner's shell may point memberkit at a state of theirs: never in a test.
ISOLATED = (store.STATE_ENV, sealed.KEY_ENV, "MEMBERKIT_CHECKOUT_KEY", "MEMBERKIT_CHECKOUT_API")


@dataclass(frozen=True)
class TestMember:
    __test__ = False  # a fixture's data, not a test class

    email: str
    name: str
    password: str
    tiers: tuple[str, ...] = ("members",)
    expires: str | None = None

    @property
    def link(self) -> str:
        """The secret of the member's login link: fixed, so that every state the tests
        write gives the same links."""
        return mk1.b64url(hashlib.sha256(f"link of {self.email}".encode()).digest()[:16])


MEMBER = TestMember("morgan@example.com", "Morgan Member", "a long test password 42")
OTHER = TestMember("riley@example.org", "Riley Reader", "another long password 77")
#: Valid at every build this century; the browser test moves the clock past it.
EXPIRING = TestMember(
    "casey@example.net", "Casey Later", "a third long password 15", expires="2099-01-01"
)


def write_state(project: Path, members: tuple[TestMember, ...] = (MEMBER, OTHER, EXPIRING)) -> Path:
    """A private state with known members, as `memberkit members add` would write it."""
    current = private.State.new(TEST_ITERATIONS)
    current.ensure_tiers(["members"])
    for member in members:
        current.add(
            member.email,
            member.password,
            name=member.name,
            tiers=member.tiers,
            expires=member.expires,
        )
        current.issue_link(member.email, dt.date.today(), secret=member.link)
    folder = project / store.STATE_DIR
    store.save(current, folder)
    return folder


def copy_project(dest: Path, *, with_state: bool = True) -> Path:
    """Copy the bundled content (not site/ or private state) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, dest / part)
        else:
            shutil.copy2(source, dest / part)
    if with_state:
        write_state(dest)
    return dest


def run_memberkit(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line, as the owner would, in another process."""
    environment = {k: v for k, v in os.environ.items() if k not in ISOLATED}
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        env={**environment, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass(frozen=True)
class InstalledMemberkit:
    """memberkit as an owner installs it: built into an sdist and a wheel (from that
    sdist) by the project's own build backend, and the wheel installed into a fresh
    virtual environment, run far from any clone of this repository."""

    venv: Path
    sdist: Path
    wheel: Path

    @property
    def command(self) -> list[str]:
        return [str(self.venv / "bin" / "memberkit")]

    def environment(self) -> dict[str, str]:
        """This process's environment with no trace of this checkout in it."""
        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in (store.STATE_ENV, "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
        }
        environment["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
        return environment

    def run(self, *args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """The installed `memberkit` console script."""
        return subprocess.run(
            [*self.command, *args],
            cwd=cwd,
            env=self.environment(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture(scope="session")
def installed_memberkit(tmp_path_factory: pytest.TempPathFactory) -> InstalledMemberkit:
    """One build and one install per test session.

    memberkit's dependencies come from this environment (a path in a `.pth` file of the
    new one: nothing is downloaded). Only folders are added that way, never their own
    `.pth` files, so an editable install of this checkout does not come along.
    """
    work = tmp_path_factory.mktemp("package")
    dist = work / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    [sdist], [wheel] = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = dict.fromkeys(sysconfig.get_path(name) for name in ("purelib", "platlib"))
    (Path(purelib) / "memberkit-test-dependencies.pth").write_text("\n".join(ours) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    installed = subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return InstalledMemberkit(venv=venv, sdist=sdist, wheel=wheel)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the SHA-256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(autouse=True)
def _no_state_of_the_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ISOLATED:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def bundled_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled content with two members, built once with the real CLI."""
    project = copy_project(tmp_path_factory.mktemp("bundled"))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", f"the bundled site must build without a warning:\n{result.stderr}"
    return project


@pytest.fixture(scope="session")
def bundled_site(bundled_project: Path) -> Path:
    return bundled_project / "site"


def tier_keys(project: Path) -> tuple[str, dict[str, tuple[int, bytes]]]:
    current = store.load(project / store.STATE_DIR)
    return current.site, {t: (k.v, mk1.unb64url(k.k)) for t, k in current.tier_keys().items()}


def member_view(project: Path, url: str) -> str:
    """A page as a member's browser shows it: the envelope opened in place."""
    site, keys = tier_keys(project)
    page = (project / "site" / url / "index.html").read_text("utf-8")
    match = re.search(r'<div class="mk1-locked"[^>]*? data-mk1="([^"]+)".*?</noscript></div>', page)
    assert match, f"{url} has no protected part"
    _, plain = mk1.open_envelope(mk1.unb64url(match.group(1)), keys, site=site, path=url)
    teaser = _without_teaser_notes(page[: match.start()])
    return teaser + json.loads(plain)["content"] + page[match.end() :]


def _without_teaser_notes(html: str) -> str:
    """As the browser opens a page: the teaser's own footnotes go (the members' part
    ends with the page's)."""
    found = re.search(r'<div class="?footnote"? data-mk1-teaser-notes', html)
    if not found:
        return html
    depth = 0
    for tag in re.finditer(r"<div\b|</div>", html[found.start() :]):
        depth += 1 if tag.group(0) == "<div" else -1
        if depth == 0:
            return html[: found.start()] + html[found.start() + tag.end() :]
    raise AssertionError("the teaser's footnotes are not closed")


def keystore_entry(site: Path, email: str, password: str) -> dict[str, object] | None:
    """What a member's browser finds in a built keystore for this email and password
    (or login link secret): their opened entry, or None."""
    index = json.loads((site / "mk1" / "keystore.json").read_text())
    keys = mk1.derive_member_keys(index["site"], email, password, index["kdf"]["iterations"])
    return keystore.open_member_entry(
        index, lambda url: (site / "mk1" / url).read_bytes(), email, keys
    )


def nginx_check(block: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a configuration made of one generated `server { }` block."""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"pid {folder}/nginx.pid; error_log {folder}/e.log; events {{}}\nhttp {{\n{block}}}\n"
    )
    return subprocess.run(
        ["nginx", "-t", "-c", str(conf), "-p", str(folder)], capture_output=True, text=True
    )
