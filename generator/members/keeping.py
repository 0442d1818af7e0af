"""How the private state is kept: in a folder, or sealed in `memberkit.state`.

`locate` says which, from `MEMBERKIT_STATE_KEY` and the files it finds, and refuses
to guess when both hold a state. `seal` and `unseal` turn one into the other: the new
copy is written and read back before the old one is removed, and a copy that differs
from what would be written is never overwritten. No MkDocs import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from generator.errors import MemberkitError
from generator.members import sealed, store

KEY_ENV = sealed.KEY_ENV


class SealedStore(store.StateStore):
    """The private state sealed in `memberkit.state` beside mkdocs.yml (format:
    `sealed`). Its lock is `.memberkit/state.lock` beside it, which git ignores: the
    lock is of this machine, the file is for the repository."""

    is_sealed = True

    def __init__(self, path: Path, key: bytes, lock_folder: Path) -> None:
        self.path = path
        self.key = key
        self.lock_folder = lock_folder

    def label(self, name: str = "") -> str:
        return str(self.path)

    def files(self) -> dict[str, bytes]:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise MemberkitError(
                f"{self.path} is unreadable ({error.strerror}); memberkit will not overwrite it"
            ) from None
        return sealed.unseal(blob, self.key, str(self.path))

    def change(self, changes: Mapping[str, bytes | None]) -> None:
        """Read the file, change it, seal it again: under the lock, from what is on the
        disk now, so that a change made meanwhile by another command is kept. Nothing
        is written when nothing changes (a new nonce would be a change in git)."""
        with self.locked():
            before = self.files()
            after = dict(before)
            for name, content in changes.items():
                if content is None:
                    after.pop(name, None)
                else:
                    after[name] = content
            if after != before:
                self.write(after)

    def write(self, files: Mapping[str, bytes]) -> None:
        """Seal `files` as the whole state, atomically."""
        with store.saving(self.path):
            store.write_private(self.path, sealed.seal(files, self.key))

    def locked(
        self, notify: Callable[[str], None] | None = None, *, create: bool = True
    ) -> AbstractContextManager[None]:
        return store.locked(self.lock_folder, notify, create=create or self.path.exists())


def locate(root: Path, environ: Mapping[str, str] = os.environ) -> store.StateStore:
    """Where the private state of the site whose mkdocs.yml is in `root` is kept.

    With MEMBERKIT_STATE_KEY set, in `memberkit.state` (made by the first change if
    there is none yet); without, in the state folder. A state in both, or a key set
    beside an unsealed state, is refused: memberkit never guesses which is current.
    """
    key = sealed.key_from(environ)
    folder = store.FolderStore(store.state_dir(root))
    path = root / sealed.SEALED_FILE
    unsealed = bool(folder.paths())
    if unsealed and path.exists():
        raise MemberkitError(
            f"both {path} (sealed) and {folder.label()} (unsealed) hold a private state, "
            "and memberkit will not guess which is current: move the one you do not keep "
            "out of the way"
        )
    if key is None:
        if path.exists():
            raise MemberkitError(
                f"{path} holds the private state, sealed: set {KEY_ENV} to its key (the "
                "one 'memberkit state key' printed when it was made)"
            )
        return folder
    if unsealed:
        raise MemberkitError(
            f"{KEY_ENV} is set, but the private state is in {folder.label()}, unsealed: "
            f"seal it with 'memberkit state seal', or unset {KEY_ENV} to use it as it is"
        )
    return SealedStore(path, key, root / store.STATE_DIR)


#: `seal` or `unseal`: (the folder, the sealed file, the files moved).
Move = Callable[[Path, bytes], tuple[store.FolderStore, SealedStore, dict[str, bytes]]]


def both(root: Path, key: bytes) -> tuple[store.FolderStore, SealedStore]:
    """The state folder and the sealed file of a site, whichever holds the state."""
    return (
        store.FolderStore(store.state_dir(root)),
        SealedStore(root / sealed.SEALED_FILE, key, root / store.STATE_DIR),
    )


def seal(root: Path, key: bytes) -> tuple[store.FolderStore, SealedStore, dict[str, bytes]]:
    """Seal the state folder into `memberkit.state`, then empty the folder.

    A `memberkit.state` already there is left alone unless it holds exactly what the
    folder holds (a seal cut short after writing it): then the folder is emptied.
    Returns the folder, the sealed file and the files moved.
    """
    folder, target = both(root, key)
    with _holding(folder, target):
        files = folder.files()
        if store.STATE_FILE not in files:
            raise MemberkitError(
                f"{folder.label(store.STATE_FILE)}: no private state to seal there"
            )
        folder.load()  # a damaged state is sealed by nobody: it would hide the damage
        if target.path.exists():
            if target.files() != files:
                raise MemberkitError(
                    f"{target.path} exists already and holds another private state; "
                    "memberkit will not overwrite it: move it out of the way, or unseal it "
                    f"once {folder.label()} is out of the way"
                )
        else:
            target.write(files)
        if target.files() != files:
            raise MemberkitError(
                f"{target.path} does not read back as written; {folder.label()} was left as it was"
            )
        folder.remove(files)
    return folder, target, files


def unseal(root: Path, key: bytes) -> tuple[store.FolderStore, SealedStore, dict[str, bytes]]:
    """Write the files of `memberkit.state` into the state folder, then remove it.

    The folder may already hold some of them, exactly as sealed (an unseal cut short);
    any other file there stops it, and nothing is overwritten.
    """
    folder, source = both(root, key)
    with _holding(folder, source):
        if not source.path.exists():
            raise MemberkitError(f"{source.path}: no such file; there is no sealed state to unseal")
        files = source.files()
        present = folder.files()
        other = sorted(name for name, content in present.items() if files.get(name) != content)
        if other:
            raise MemberkitError(
                f"{folder.label()} holds a private state already ({other[0]} differs from "
                f"the sealed one); memberkit will not overwrite it: move it out of the way"
            )
        folder.change({name: content for name, content in files.items() if name not in present})
        if folder.files() != files:
            raise MemberkitError(
                f"{folder.label()} does not read back as written; {source.path} was left as it was"
            )
        source.path.unlink()
    return folder, source, files


@contextmanager
def _holding(folder: store.FolderStore, other: SealedStore) -> Iterator[None]:
    """Both locks (one file, unless MEMBERKIT_STATE names another folder)."""
    with folder.locked(), other.locked():
        yield
