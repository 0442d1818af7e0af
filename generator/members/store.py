"""Where the private state lives, and how it is read, checked and written.

The state is a few files: `state.json` (the model, checked field by field as it is
read), `reminders.json` and the outbox's `outbox/<email>.eml`. A `StateStore` reads
and changes them by name: `FolderStore` keeps them in `.memberkit/` beside mkdocs.yml
(or the folder MEMBERKIT_STATE names); `keeping.SealedStore` seals them all in one
file. Readable by the owner only, written atomically, one writer at a time (a lock
file), never copied into the site. A corrupt file is an error and is never
overwritten, because the keys in it are what members' logins open."""

from __future__ import annotations

import abc
import contextlib
import errno
import fcntl
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from generator.errors import MemberkitError
from generator.members.checks import check_date
from generator.members.purchases import CHECKOUTS, ByHand, Ledger, Purchase
from generator.members.state import FORMAT, Ended, LoginLink, Member, State, TierKey
from generator.protection import mk1

STATE_ENV = "MEMBERKIT_STATE"
ITERATIONS_ENV = "MEMBERKIT_PBKDF2_ITERATIONS"
STATE_DIR = ".memberkit"
STATE_FILE = "state.json"
LOCK_FILE = "state.lock"
#: After this many seconds of waiting for the lock, say who holds it.
LOCK_NOTICE_SECONDS = 2.0


def state_dir(config_dir: Path) -> Path:
    override = os.environ.get(STATE_ENV)
    return Path(override).expanduser() if override else config_dir / STATE_DIR


def default_iterations() -> int:
    raw = os.environ.get(ITERATIONS_ENV)
    if not raw:
        return mk1.DEFAULT_ITERATIONS
    try:
        value = int(raw)
    except ValueError:
        raise MemberkitError(f"{ITERATIONS_ENV}={raw!r} is not a whole number") from None
    if value < mk1.MIN_ITERATIONS:
        raise MemberkitError(f"{ITERATIONS_ENV} must be at least {mk1.MIN_ITERATIONS}")
    return value


# -- where it is kept ---------------------------------------------------------------


class StateStore(abc.ABC):
    """The files of the private state, wherever they are kept: a folder (`FolderStore`)
    or one sealed file (`keeping.SealedStore`), as `keeping.locate` finds.

    A file is named by its path in the state folder (`state.json`, `reminders.json`,
    `outbox/ana%40example.com.eml`): what reads or changes the state says which file it
    wants, and only the store knows whether that is a file of its own or a part of the
    sealed one.
    """

    #: Whether the state is kept sealed (in `memberkit.state`).
    is_sealed = False
    #: What to add to "no private state yet".
    missing_hint = ""

    @abc.abstractmethod
    def label(self, name: str = "") -> str:
        """Where a file of the state is (the whole state without `name`), in messages."""

    @abc.abstractmethod
    def files(self) -> dict[str, bytes]:
        """Every file of the state, by its path."""

    @abc.abstractmethod
    def change(self, changes: Mapping[str, bytes | None]) -> None:
        """Write the files of `changes` (None: delete one): in a folder each atomically,
        sealed all in one write, so that a roster change and what goes with it (a welcome
        in the outbox) are kept together."""

    @abc.abstractmethod
    def locked(
        self, notify: Callable[[str], None] | None = None, *, create: bool = True
    ) -> AbstractContextManager[None]:
        """Hold the lock of the state from reading it to saving it (`locked`)."""

    def read(self, name: str) -> bytes | None:
        return self.files().get(name)

    def names(self, folder: str) -> list[str]:
        """The paths of the files in one folder of the state (`outbox`)."""
        return sorted(name for name in self.files() if name.startswith(folder + "/"))

    def load(self) -> State:
        where = self.label(STATE_FILE)
        raw = self.read(STATE_FILE)
        if raw is None:
            raise MemberkitError(
                f"{where}: no private state yet; add a member first "
                f"(memberkit members add EMAIL){self.missing_hint}"
            )
        keep = "restore it from your backup. memberkit will not overwrite it"
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise MemberkitError(f"{where} is unreadable or damaged ({error}); {keep}") from None
        except ValueError as error:
            raise MemberkitError(f"{where} is damaged (not valid JSON: {error}); {keep}") from None
        try:
            state = _parse(data)
        except _Damaged as error:
            raise MemberkitError(f"{where} is damaged: {error}; correct it or {keep}") from None
        if state.iterations < mk1.MIN_ITERATIONS:
            raise MemberkitError(f"{where}: iterations below {mk1.MIN_ITERATIONS} are refused")
        return state

    def load_or_create(self) -> tuple[State, bool]:
        if self.read(STATE_FILE) is not None:
            return self.load(), False
        return State.new(default_iterations()), True

    def save(self, state: State) -> None:
        self.change({STATE_FILE: state.to_json().encode()})


class FolderStore(StateStore):
    """The private state as files in a folder: `.memberkit/` beside mkdocs.yml, or the
    folder MEMBERKIT_STATE names. Owner-only: the folders 0700, the files 0600."""

    missing_hint = f" or point {STATE_ENV} at it"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def label(self, name: str = "") -> str:
        return str(self.folder / name) + ("/" if not name or name.endswith("/") else "")

    def read(self, name: str) -> bytes | None:
        path = self.folder / name
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise MemberkitError(
                f"{path} is unreadable ({error.strerror}); memberkit will not overwrite it"
            ) from None

    def paths(self) -> list[str]:
        """The paths of every file in the folder but its lock and a write's temporary
        files: what `memberkit state seal` seals."""
        if not self.folder.is_dir():
            return []
        return [
            path.relative_to(self.folder).as_posix()
            for path in sorted(self.folder.rglob("*"))
            if path.is_file() and not path.name.startswith(".") and path.name != LOCK_FILE
        ]

    def files(self) -> dict[str, bytes]:
        found = {name: self.read(name) for name in self.paths()}
        return {name: content for name, content in found.items() if content is not None}

    def names(self, folder: str) -> list[str]:
        where = self.folder / folder
        if not where.is_dir():
            return []
        found = [p.name for p in where.iterdir() if p.is_file() and not p.name.startswith(".")]
        return sorted(f"{folder}/{name}" for name in found)

    def change(self, changes: Mapping[str, bytes | None]) -> None:
        for name, content in changes.items():
            path = self.folder / _checked(name)
            with saving(path):
                if content is None:
                    path.unlink(missing_ok=True)
                    continue
                for folder in dict.fromkeys([self.folder, path.parent]):
                    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                    os.chmod(folder, 0o700)
                write_private(path, content)

    def locked(
        self, notify: Callable[[str], None] | None = None, *, create: bool = True
    ) -> AbstractContextManager[None]:
        return locked(self.folder, notify, create=create)

    def remove(self, names: Iterable[str]) -> None:
        """Delete files of the state, then the folders of the state they leave empty."""
        names = list(names)
        self.change(dict.fromkeys(names))
        for folder in sorted({(self.folder / n).parent for n in names}, reverse=True):
            if folder != self.folder:
                with contextlib.suppress(OSError):  # not empty, or not ours to remove
                    folder.rmdir()


@contextmanager
def saving(path: Path) -> Iterator[None]:
    """A write of the state that fails says so in one line: the file is as it was."""
    try:
        yield
    except OSError as error:
        raise MemberkitError(
            f"{path}: cannot save the private state ({error.strerror}); it was left as it was"
        ) from None


def _checked(name: str) -> str:
    """A file's path in the state: within it, whatever a sealed file says."""
    parts = name.split("/")
    if name == LOCK_FILE or any(part in ("", "..") or part.startswith(".") for part in parts):
        raise MemberkitError(f"{name!r} is not the name of a file of the private state")
    return name


def load(folder: Path) -> State:
    """The state in a folder (`FolderStore`), as the tests and benchmarks write it."""
    return FolderStore(folder).load()


def save(state: State, folder: Path) -> None:
    FolderStore(folder).save(state)


class _Damaged(ValueError):
    """A field of the state file is not what memberkit writes there."""


def _parse(data: Any) -> State:
    """Check every field by name and type: a hand edit gone wrong is named, never guessed."""
    _fields(data, "the file", State, extra=frozenset({"format"}))
    if data.get("format") != FORMAT:
        raise _Damaged(f"format must be {FORMAT!r}")
    iterations = data["iterations"]
    if not isinstance(iterations, int) or isinstance(iterations, bool):
        raise _Damaged("iterations must be a whole number")
    state = State(
        site=_hex(data["site"], 32, "site"),
        secret=_key(data["secret"], "secret"),
        iterations=iterations,
    )
    tiers = data.get("tiers", {})
    if not isinstance(tiers, dict):
        raise _Damaged("tiers must be an object of tier name: {v, k}")
    for name, key in tiers.items():
        # The keys written are what the tier's holders gave when the file was saved;
        # the build derives them again from the holders it finds (State.tier_keys).
        _fields(key, f"tiers.{name}", TierKey)
        version = key["v"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise _Damaged(f"tiers.{name}.v must be a whole number, 1 or more")
        _key(key["k"], f"tiers.{name}.k")
        state.tiers.append(name)
    members = data.get("members", {})
    if not isinstance(members, dict):
        raise _Damaged("members must be an object of email: member")
    for email, raw in members.items():
        state.members[email] = _member(email, raw, state.tiers)
    if data.get("sync") is not None:
        state.sync = _ledger(data["sync"])
    ended = data.get("ended", {})
    if not isinstance(ended, dict):
        raise _Damaged("ended must be an object of email: ended membership")
    for email, raw in ended.items():
        state.ended[email] = _ended(email, raw)
    return state


def _ended(email: str, raw: Any) -> Ended:
    """A membership that ended, kept for a while so that signing in says so."""
    where = f"ended.{email}"
    _fields(raw, where, Ended)
    if raw["email"] != email:
        raise _Damaged(f"{where}.email must be {email!r}, the email it is filed under")
    if not isinstance(raw["name"], str):
        raise _Damaged(f"{where}.name must be text")
    if not (isinstance(raw["expires"], str) and _is_date(raw["expires"])):
        raise _Damaged(f"{where}.expires must be YYYY-MM-DD, the last day of the membership")
    _hex(raw["lookup"], 32, f"{where}.lookup")
    _key(raw["kek"], f"{where}.kek")
    if raw.get("lookup_key") is not None:
        _key(raw["lookup_key"], f"{where}.lookup_key")
    return Ended(**raw)


def _ledger(raw: Any) -> Ledger:
    _fields(raw, "sync", Ledger)
    if raw["checkout"] not in CHECKOUTS:
        raise _Damaged(f"sync.checkout must be one of {', '.join(CHECKOUTS)}")
    if raw.get("cursor") is not None and not _text(raw["cursor"]):
        raise _Damaged("sync.cursor must be an event id or null")
    since = raw.get("since")
    if since is not None and not _whole(since):
        raise _Damaged("sync.since must be a Unix time or null")
    applied = raw.get("applied", {})
    if not isinstance(applied, dict) or not all(
        _text(key) and _whole(time) for key, time in applied.items()
    ):
        raise _Damaged("sync.applied must be an object of id: Unix time")
    return Ledger(raw["checkout"], raw.get("cursor"), since, dict(applied))


def _tiers(held: Any, where: str, tiers: list[str]) -> None:
    if not isinstance(held, list) or not held or not all(isinstance(t, str) for t in held):
        raise _Damaged(f'{where}.tiers must be a list of tier names, such as ["members"]')
    for tier in held:
        if tier not in tiers:
            raise _Damaged(f"{where}.tiers names {tier!r}, which has no key under tiers")


def _grant(raw: Any, where: str, shape: type, tiers: list[str]) -> None:
    """The tiers and end date of a purchase or of what was given by hand."""
    _fields(raw, where, shape)
    _tiers(raw["tiers"], where, tiers)
    expires = raw.get("expires")
    if expires is not None and not (isinstance(expires, str) and _is_date(expires)):
        raise _Damaged(f"{where}.expires must be YYYY-MM-DD or null")


def _purchases(raw: Any, where: str, tiers: list[str]) -> list[Purchase]:
    if not isinstance(raw, list):
        raise _Damaged(f"{where}.purchases must be a list")
    found = []
    for number, item in enumerate(raw):
        at = f"{where}.purchases[{number}]"
        _grant(item, at, Purchase, tiers)
        if not _text(item["id"]):
            raise _Damaged(f"{at}.id must be the checkout's id of the purchase")
        for name in ("payment", "subscription", "customer"):
            if item.get(name) is not None and not _text(item[name]):
                raise _Damaged(f"{at}.{name} must be an id or null")
        found.append(Purchase(**item))
    return found


def _member(email: str, raw: Any, tiers: list[str]) -> Member:
    where = f"members.{email}"
    _fields(raw, where, Member)
    if raw["email"] != email:
        raise _Damaged(f"{where}.email must be {email!r}, the email it is filed under")
    if not isinstance(raw["name"], str):
        raise _Damaged(f"{where}.name must be text")
    _tiers(raw["tiers"], where, tiers)
    expires = raw["expires"]
    if expires is not None and not (isinstance(expires, str) and _is_date(expires)):
        raise _Damaged(f"{where}.expires must be YYYY-MM-DD or null")
    _hex(raw["lookup"], 32, f"{where}.lookup")
    _key(raw["kek"], f"{where}.kek")
    if raw.get("lookup_key") is not None:
        _key(raw["lookup_key"], f"{where}.lookup_key")
    link = raw.get("link")
    if link is not None:
        _fields(link, f"{where}.link", LoginLink)
        _hex(link["lookup"], 32, f"{where}.link.lookup")
        _key(link["kek"], f"{where}.link.kek")
        if link.get("lookup_key") is not None:
            _key(link["lookup_key"], f"{where}.link.lookup_key")
        if not (isinstance(link["expires"], str) and _is_date(link["expires"])):
            raise _Damaged(f"{where}.link.expires must be YYYY-MM-DD")
        link = LoginLink(**link)
    purchases = _purchases(raw.get("purchases", []), where, tiers)
    by_hand = raw.get("by_hand")
    if by_hand is not None:
        _grant(by_hand, f"{where}.by_hand", ByHand, tiers)
        by_hand = ByHand(**by_hand)
    return Member(**{**raw, "link": link, "purchases": purchases, "by_hand": by_hand})


def _fields(value: Any, where: str, shape: type, extra: frozenset[str] = frozenset()) -> None:
    """`value` is an object with the fields of the dataclass `shape`, and no others."""
    if not isinstance(value, dict):
        raise _Damaged(f"{where} must be an object")
    known = {f.name for f in fields(shape)} | set(extra)
    unknown = sorted(set(value) - known)
    if unknown:
        raise _Damaged(
            f"{where} has an unknown field {unknown[0]!r} (memberkit writes "
            f"{', '.join(sorted(known))})"
        )
    required = [
        f.name
        for f in fields(shape)
        if f.default is MISSING and f.default_factory is MISSING  # type: ignore[misc]
    ]
    missing = [name for name in required if name not in value]
    if missing:
        raise _Damaged(f"{where} lacks the field {missing[0]!r}")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_date(value: str) -> bool:
    try:
        check_date(value)
    except MemberkitError:
        return False
    return True


# -- one writer at a time ---------------------------------------------------------

_held: dict[Path, int] = {}  # folders this process holds the lock of, and how often


@contextmanager
def locked(
    folder: Path, notify: Callable[[str], None] | None = None, *, create: bool = True
) -> Iterator[None]:
    """Hold the state folder's lock from reading the state to saving it.

    Every read-modify-write of the state (the member commands, and a build that drops
    expired members) runs inside this, so two of them never both start from the same
    roster and one's change undone by the other's save. An OS file lock (flock) is
    released by the kernel when its process ends, however it ends: there is no stale
    lock to clear by hand. `notify` hears, once, when another command keeps us waiting.
    Without `create`, a folder that does not exist is not made (there is nothing to
    guard: loading the state will say so).
    """
    folder = folder.resolve()
    if folder in _held:  # the same process, one level down: it already holds it
        _held[folder] += 1
        try:
            yield
        finally:
            _held[folder] -= 1
        return
    if not create and not folder.is_dir():
        yield
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            # A read-only state (a mounted secret): nobody can write it, nothing to guard.
            yield
            return
        raise MemberkitError(
            f"{folder}: cannot lock the private state ({error.strerror})"
        ) from None
    try:
        _acquire(descriptor, folder, notify or _to_stderr)
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()} {' '.join(_command())}\n".encode())
        _held[folder] = 1
        try:
            yield
        finally:
            del _held[folder]
    finally:
        os.close(descriptor)  # releases the lock


def _acquire(descriptor: int, folder: Path, notify: Callable[[str], None]) -> None:
    started, pause, told = time.monotonic(), 0.01, False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if not told and time.monotonic() - started >= LOCK_NOTICE_SECONDS:
            holder = os.pread(descriptor, 300, 0).decode(errors="replace").strip()
            who = f" (process {holder})" if holder else ""
            notify(
                f"waiting for another memberkit command to finish with the private state in "
                f"{folder}{who}; it goes on as soon as that one is done"
            )
            told = True
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _command() -> list[str]:
    name = Path(sys.argv[0]).name if sys.argv else "python"
    shown = "memberkit" if name in ("memberkit", "__main__.py", "-m") else name
    return [shown, *sys.argv[1:3]]


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_private(path: Path, content: bytes) -> Path:
    """Write an owner-only file atomically (temp file + fsync + rename)."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _hex(value: Any, length: int, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(f"[0-9a-f]{{{length}}}", value):
        raise _Damaged(f"{what} must be {length} lowercase hex characters")
    return value


def _key(value: Any, what: str) -> str:
    try:
        if isinstance(value, str) and len(mk1.unb64url(value)) == mk1.KEY_BYTES:
            return value
    except (ValueError, mk1.MK1Error):
        pass
    raise _Damaged(f"{what} must be a 32-byte key in base64url")
