"""Where the private state lives: `.memberkit/state.json`, read, checked and written.

Readable by the owner only, written atomically, one writer at a time (a lock file),
never copied into the site. A corrupt file is an error and is never overwritten,
because the keys in it are what members' logins open."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from generator.errors import MemberkitError
from generator.members.checks import check_date
from generator.members.state import FORMAT, LoginLink, Member, State, TierKey
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


def load(folder: Path) -> State:
    path = folder / STATE_FILE
    if not path.exists():
        raise MemberkitError(
            f"{path}: no private state yet; add a member first (memberkit members add EMAIL)"
            f" or point {STATE_ENV} at it"
        )
    keep = "restore it from your backup. memberkit will not overwrite it"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MemberkitError(f"{path} is unreadable or damaged ({error}); {keep}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise MemberkitError(f"{path} is damaged (not valid JSON: {error}); {keep}") from None
    try:
        state = _parse(data)
    except _Damaged as error:
        raise MemberkitError(f"{path} is damaged: {error}; correct it or {keep}") from None
    if state.iterations < mk1.MIN_ITERATIONS:
        raise MemberkitError(f"{path}: iterations below {mk1.MIN_ITERATIONS} are refused")
    return state


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
    return state


def _member(email: str, raw: Any, tiers: list[str]) -> Member:
    where = f"members.{email}"
    _fields(raw, where, Member)
    if raw["email"] != email:
        raise _Damaged(f"{where}.email must be {email!r}, the email it is filed under")
    if not isinstance(raw["name"], str):
        raise _Damaged(f"{where}.name must be text")
    held = raw["tiers"]
    if not isinstance(held, list) or not held or not all(isinstance(t, str) for t in held):
        raise _Damaged(f'{where}.tiers must be a list of tier names, such as ["members"]')
    for tier in held:
        if tier not in tiers:
            raise _Damaged(f"{where}.tiers names {tier!r}, which has no key under tiers")
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
    return Member(**{**raw, "link": link})


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


def _is_date(value: str) -> bool:
    try:
        check_date(value)
    except MemberkitError:
        return False
    return True


def load_or_create(folder: Path) -> tuple[State, bool]:
    if (folder / STATE_FILE).exists():
        return load(folder), False
    return State.new(default_iterations()), True


def save(state: State, folder: Path) -> Path:
    """Write atomically: a temp file in the same folder, then rename over the old one."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        return write_private(folder / STATE_FILE, state.to_json().encode())
    except OSError as error:
        raise MemberkitError(
            f"{folder / STATE_FILE}: cannot save the private state ({error.strerror}); "
            "it was left as it was"
        ) from None


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
