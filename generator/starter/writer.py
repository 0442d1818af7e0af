"""A new site's sources, written into an owner's new or empty folder: all, or nothing.

The starter (`files/`) is the small site most owners begin with; the example is the
bundled site whole. Both get the publishing workflow of the bundled site, made to
install this release of memberkit from the package index (the bundled one installs it
from the repository it builds, which a new site's repository is not), the `.gitignore`
that keeps the private state out of git, and the emails to members.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from generator import __version__
from generator.errors import MemberkitError

HERE = Path(__file__).resolve().parent
STARTER = HERE / "files"
#: The bundled site's parts: pyproject.toml packs the same into the wheel.
EXAMPLE_PARTS = (
    "mkdocs.yml",
    "docs",
    "templates",
    "snippets",
    "overrides",
    "emails",
    ".github/workflows/publish.yml",
)
WORKFLOW = ".github/workflows/publish.yml"
GITIGNORE = ".gitignore"
EMAILS = ("welcome", "reminder")
_INSTALL_FROM_SOURCE = "run: python -m pip install .\n"
#: Where a folder is staged before it takes its place (inside the owner's folder, so
#: that an owner who runs `memberkit new .` stays in the folder they see).
_STAGING_PREFIX = ".memberkit-new-"


def example_root() -> Path:
    """The bundled site: the package's copy, or, from a clone, the repository's root."""
    packaged = HERE / "example"
    if packaged.is_dir():
        return packaged
    clone = HERE.parents[1]
    if (clone / "pyproject.toml").is_file() and (clone / "mkdocs.yml").is_file():
        return clone
    raise MemberkitError(
        f"this installation of memberkit lacks its example site ({packaged}): reinstall it"
    )


def site_files(*, example: bool = False) -> dict[str, bytes]:
    """Every file of a new site, by its path in the site's folder."""
    bundled = example_root()
    files: dict[str, bytes] = {}
    if example:
        for part in EXAMPLE_PARTS:
            files.update(_read_tree(bundled, bundled / part))
    else:
        files.update(_read_tree(STARTER, STARTER))
        files[WORKFLOW] = (bundled / WORKFLOW).read_bytes()
        for kind in EMAILS:
            default = HERE.parent / "assets" / f"email-{kind}.md"
            files[f"emails/{kind}.md"] = default.read_bytes()
    files[GITIGNORE] = (STARTER / GITIGNORE).read_bytes()
    files[WORKFLOW] = installing_this_release(files[WORKFLOW].decode()).encode()
    return files


def installing_this_release(workflow: str) -> str:
    """The bundled workflow, installing this release of memberkit from the package index."""
    if _INSTALL_FROM_SOURCE not in workflow:
        raise MemberkitError(
            f"the bundled workflow has no line '{_INSTALL_FROM_SOURCE.strip()}' to change",
            path=WORKFLOW,
        )
    release = f'run: python -m pip install "memberkit=={__version__}"\n'
    return workflow.replace(_INSTALL_FROM_SOURCE, release)


def _read_tree(root: Path, part: Path) -> Iterator[tuple[str, bytes]]:
    """The files of `part` (a file or a folder) by their path under `root`; in a
    folder, hidden files and Python's caches left out, as the wheel leaves them out."""
    if part.is_file():
        yield part.relative_to(root).as_posix(), part.read_bytes()
        return
    for path in sorted(part.rglob("*")):
        inside = path.relative_to(part).parts
        if path.is_file() and not any(n.startswith(".") or n == "__pycache__" for n in inside):
            yield path.relative_to(root).as_posix(), path.read_bytes()


def write_site(target: Path, files: Mapping[str, bytes]) -> None:
    """Write `files` into `target`, a new or empty folder. They are written into a
    hidden folder inside it first and moved into place at the end; on any failure,
    whatever was written is removed again."""
    _check_target(target)
    created = not target.exists()
    try:
        target.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=target))
    except OSError as error:
        if created:
            _remove_quietly(target)
        raise MemberkitError(f"{target}: cannot write into it ({error.strerror})") from None
    moved: list[Path] = []
    try:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        for entry in sorted(staging.iterdir()):
            os.rename(entry, target / entry.name)
            moved.append(target / entry.name)
        staging.rmdir()
    except OSError as error:
        for path in [*moved, staging]:
            _remove_quietly(path)
        if created:
            _remove_quietly(target)
        raise MemberkitError(
            f"{target}: cannot write the site ({error.strerror}); nothing was left in it"
        ) from None


def _check_target(target: Path) -> None:
    if target.is_dir():
        if any(target.iterdir()):
            raise MemberkitError(
                f"{target}: the folder is not empty; give a new folder, or an empty one"
            )
    elif target.exists() or target.is_symlink():
        raise MemberkitError(f"{target}: it is a file, not a folder; give a new folder's name")
    elif not target.absolute().parent.is_dir():
        raise MemberkitError(
            f"{target}: the folder {target.absolute().parent} does not exist; create it first"
        )


def _remove_quietly(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
