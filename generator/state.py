"""The owner's private state: site id, tier keys and versions, the member roster.

It lives in `.memberkit/state.json` beside mkdocs.yml (or wherever MEMBERKIT_STATE
points), readable by the owner only, written atomically, never copied into the site.
A missing state is created on the first `members add`; a corrupt one is an error and
is never overwritten, because the keys in it are what members' logins open.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import errno
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from generator.errors import MemberkitError
from generator.protection import mk1

STATE_ENV = "MEMBERKIT_STATE"
ITERATIONS_ENV = "MEMBERKIT_PBKDF2_ITERATIONS"
STATE_DIR = ".memberkit"
STATE_FILE = "state.json"
LOCK_FILE = "state.lock"
FORMAT = "memberkit-state-1"
MIN_PASSWORD = 12
#: zxcvbn's score out of 4 a chosen password needs: 3 resists an offline guesser who
#: pays a slow hash (our PBKDF2) for every guess.
MIN_SCORE = 3
#: zxcvbn refuses longer input; the first 72 characters decide.
_SCORED_LENGTH = 72
MAX_NAME = 100
#: How long a login link opens the site, in days, unless the owner says otherwise.
LINK_DAYS = 14
#: A login link's secret: 16 random bytes (128 bits), so its PBKDF2 guards nothing a
#: guesser could ever find; it is derived like a password all the same (PROTOCOL.md).
LINK_SECRET_BYTES = 16
#: After this many seconds of waiting for the lock, say who holds it.
LOCK_NOTICE_SECONDS = 2.0
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# 31 symbols without look-alikes (no 0/o, 1/l/i): almost 5 bits a character.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass
class TierKey:
    v: int
    k: str  # base64url, 32 bytes

    @classmethod
    def derive(cls, secret: str, tier: str, version: int) -> TierKey:
        """The key of a tier's version, from the state's secret.

        Derived rather than drawn: two builds from the same state (a CI secret, say)
        that both drop an expired member rotate to the same key, so members are not
        signed out at every deploy. Without the secret it cannot be predicted.
        """
        material = hmac.new(
            mk1.unb64url(secret), f"mk1 tier key|{tier}|{version}".encode(), hashlib.sha256
        ).digest()
        return cls(version, mk1.b64url(material))


@dataclass
class LoginLink:
    """A member's one-click login link: a random secret of its own, not the password.

    It opens a keystore entry of its own (derived from the secret as from a password)
    until `expires`, its last day; builds after that day leave the entry out.
    """

    lookup: str
    kek: str  # base64url; secret: opens the link's keystore entry
    expires: str  # YYYY-MM-DD

    def expired(self, today: dt.date) -> bool:
        return dt.date.fromisoformat(self.expires) < today


@dataclass
class Member:
    email: str  # normalised (PROTOCOL.md)
    name: str
    tiers: list[str]
    expires: str | None  # YYYY-MM-DD, last day of access; None: no expiry
    lookup: str
    kek: str  # base64url; secret: opens this member's keystore entry
    link: LoginLink | None = None  # the login link handed out last, if any

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and dt.date.fromisoformat(self.expires) < today


@dataclass
class State:
    site: str
    secret: str  # base64url; seeds the tier keys and the keystore's decoy entries
    iterations: int
    tiers: dict[str, TierKey] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)

    @classmethod
    def new(cls, iterations: int) -> State:
        return cls(
            site=secrets.token_hex(16),
            secret=mk1.b64url(secrets.token_bytes(32)),
            iterations=iterations,
        )

    def cache_key(self) -> bytes:
        """Signs what the build keeps in `.cache/` and reads back as code (the checked
        template library): a cache restored from elsewhere (a CI cache, say) cannot
        run code in a build that holds the tier keys."""
        return hmac.new(mk1.unb64url(self.secret), b"memberkit cache", hashlib.sha256).digest()

    def sealing_keys(self) -> dict[str, tuple[int, bytes]]:
        """Each tier's current version and key, as the build seals with them."""
        return {t: (k.v, mk1.unb64url(k.k)) for t, k in self.tiers.items()}

    def to_json(self) -> str:
        data = {"format": FORMAT, **asdict(self)}
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    # -- members -------------------------------------------------------------

    def member(self, email: str) -> Member:
        key = mk1.normalize_email(email)
        if key not in self.members:
            raise MemberkitError(f"no member with the email {key!r}; see 'memberkit members list'")
        return self.members[key]

    def add(
        self,
        email: str,
        password: str,
        *,
        name: str,
        tiers: Sequence[str],
        expires: str | None,
        keys: mk1.MemberKeys | None = None,
        generated: bool = False,
    ) -> Member:
        """Add a member (PBKDF2 runs here, once, never at build time).

        `keys` are the member's derived keys when the caller ran PBKDF2 already (in
        worker processes, for an import); `generated` skips the strength estimate of a
        password memberkit drew itself (99 random bits).
        """
        key = check_email(email)
        if key in self.members:
            raise MemberkitError(
                f"{key} is already a member; use 'memberkit members reset' for a new password"
            )
        member = self._make(key, password, name, tiers, expires, keys, generated)
        self.members[key] = member
        return member

    def reset(
        self,
        email: str,
        password: str,
        *,
        keys: mk1.MemberKeys | None = None,
        generated: bool = False,
    ) -> Member:
        """New credentials for a member, and new keys for every tier they hold.

        Rotating cuts off whoever learnt the old password, and any browser still
        signed in with it, at the next build: their saved tier keys open nothing new.
        """
        old = self.member(email)
        member = self._make(old.email, password, old.name, old.tiers, old.expires, keys, generated)
        self.members[old.email] = member
        self.rotate(member.tiers)
        return member

    def issue_link(
        self,
        email: str,
        today: dt.date,
        days: int = LINK_DAYS,
        *,
        secret: str | None = None,
        keys: mk1.MemberKeys | None = None,
    ) -> tuple[str, str]:
        """A new login link for a member: (its secret, its last day). The link handed
        out before stops opening anything at the next build.

        `secret` and `keys` come from the caller when it ran PBKDF2 already (in worker
        processes, for an import).
        """
        if days < 1:
            raise MemberkitError("a login link must last at least one day (--link-days 1)")
        member = self.member(email)
        secret = secret or new_link_secret()
        if keys is None:
            keys = mk1.derive_member_keys(self.site, member.email, secret, self.iterations)
        expires = (today + dt.timedelta(days=days)).isoformat()
        member.link = LoginLink(keys.lookup, mk1.b64url(keys.kek), expires)
        return secret, expires

    def remove(self, email: str) -> list[str]:
        """Remove a member and rotate every tier they held; returns those tiers."""
        member = self.members.pop(self.member(email).email)
        self.rotate(member.tiers)
        return member.tiers

    def drop_expired(self, today: dt.date) -> list[Member]:
        """Remove expired members, rotating their tiers (called at every build)."""
        gone = [m for m in self.members.values() if m.expired(today)]
        for member in gone:
            del self.members[member.email]
        self.rotate({t for m in gone for t in m.tiers})
        return gone

    def rotate(self, tiers: Iterable[str]) -> None:
        for tier in sorted(set(tiers)):
            if tier in self.tiers:
                self.tiers[tier] = TierKey.derive(self.secret, tier, self.tiers[tier].v + 1)

    def ensure_tiers(self, tiers: Iterable[str]) -> None:
        for tier in tiers:
            if tier not in self.tiers:
                self.tiers[tier] = TierKey.derive(self.secret, tier, 1)

    def _make(
        self,
        email: str,
        password: str,
        name: str,
        tiers: Sequence[str],
        expires: str | None,
        keys: mk1.MemberKeys | None,
        generated: bool,
    ) -> Member:
        shown = check_name(name) or email.split("@")[0]
        if not generated:
            check_password(password, email, shown)
        if expires is not None:
            check_date(expires)
        if not tiers:
            raise MemberkitError("a member needs at least one tier")
        self.ensure_tiers(tiers)
        if keys is None:
            keys = mk1.derive_member_keys(self.site, email, password, self.iterations)
        return Member(
            email=email,
            name=shown,
            tiers=sorted(set(tiers)),
            expires=expires,
            lookup=keys.lookup,
            kek=mk1.b64url(keys.kek),
        )


def derive_keys(
    site: str,
    logins: Sequence[tuple[str, str]],
    iterations: int,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[mk1.MemberKeys]:
    """PBKDF2 for many (email, password) pairs, on every core.

    Each run is 600,000 iterations of SHA-256 in C: processes, not threads, keep the
    cores busy. The keys come back in the order of `logins`; the caller applies them
    to the state in this process, so only one process ever writes it.
    """
    total = len(logins)
    workers = workers or os.cpu_count() or 1
    jobs = [(site, email, password, iterations) for email, password in logins]
    report = progress or (lambda done, total: None)
    report(0, total)
    if workers == 1 or total < 2:
        results = []
        for number, job in enumerate(jobs, 1):
            results.append(_derive(job))
            report(number, total)
        return results
    # Small chunks: a worker reports back often enough for a progress line that moves.
    chunk = max(1, min(32, total // (workers * 16)))
    results = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, total)) as pool:
        for number, keys in enumerate(pool.map(_derive, jobs, chunksize=chunk), 1):
            results.append(keys)
            report(number, total)
    return results


def _derive(job: tuple[str, str, str, int]) -> mk1.MemberKeys:
    site, email, password, iterations = job
    return mk1.derive_member_keys(site, email, password, iterations)


# -- checks ------------------------------------------------------------------


def check_email(email: str) -> str:
    key = mk1.normalize_email(email)
    if not _EMAIL.match(key):
        raise MemberkitError(f"{email!r} is not an email address")
    return key


def check_date(value: str) -> dt.date:
    if _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise MemberkitError(f"{value!r} is not a date; write it as YYYY-MM-DD")


def check_expiry(value: str | None, today: dt.date) -> str | None:
    """An expiry the owner sets now: a date, today or later (None: no expiry).

    A date already past would add a member the next build drops at once, rotating
    every key they hold: almost certainly a typo, so it is refused.
    """
    if value is None:
        return None
    if check_date(value) < today:
        raise MemberkitError(
            f"the expiry date {value} is in the past; give today ({today.isoformat()}) "
            "or a later date, or none"
        )
    return value


def check_name(name: str) -> str:
    """A member's name as shown after sign-in: one line, at most MAX_NAME characters."""
    name = name.strip()
    if len(name) > MAX_NAME:
        raise MemberkitError(
            f"the name is {len(name)} characters long; names are capped at {MAX_NAME}"
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise MemberkitError(
            "the name holds a control character (a line break or tab?); write it on one line"
        )
    return name


def check_password(password: str, email: str = "", name: str = "") -> None:
    """Refuse passwords an offline guesser would try early.

    zxcvbn estimates the guesses needed against its dictionaries (common passwords,
    names, words, keyboard patterns, dates) and against the member's own email and
    name, which a guesser who targets them knows.
    """
    from zxcvbn import zxcvbn

    normal = mk1.normalize_password(password)
    if len(normal) < MIN_PASSWORD:
        raise MemberkitError(
            f"the password is too short: use at least {MIN_PASSWORD} characters, "
            "or leave it out to get a generated one"
        )
    local = email.split("@")[0]
    known = [email, local, *re.split(r"[._+-]", local), name, *name.split()]
    known.append("".join(name.split()))
    result = zxcvbn(normal[:_SCORED_LENGTH], user_inputs=[k for k in known if k])
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        hints = " ".join(h for h in (feedback["warning"], *feedback["suggestions"]) if h)
        raise MemberkitError(
            "the password is too easy to guess"
            + (f" ({hints.rstrip('.')})" if hints else "")
            + "; choose another, or leave it out to get a generated one"
        )


def new_link_secret() -> str:
    return mk1.b64url(secrets.token_bytes(LINK_SECRET_BYTES))


def generate_password(groups: int = 4, size: int = 5) -> str:
    """A random password like `k7mqe-x9v4r-...`: 20 symbols of 31, 99 bits."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(size)) for _ in range(groups))


# -- the folder ----------------------------------------------------------------


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
        _fields(key, f"tiers.{name}", TierKey)
        version = key["v"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise _Damaged(f"tiers.{name}.v must be a whole number, 1 or more")
        state.tiers[name] = TierKey(version, _key(key["k"], f"tiers.{name}.k"))
    members = data.get("members", {})
    if not isinstance(members, dict):
        raise _Damaged("members must be an object of email: member")
    for email, raw in members.items():
        state.members[email] = _member(email, raw, state.tiers)
    return state


def _member(email: str, raw: Any, tiers: dict[str, TierKey]) -> Member:
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
    link = raw.get("link")
    if link is not None:
        _fields(link, f"{where}.link", LoginLink)
        _hex(link["lookup"], 32, f"{where}.link.lookup")
        _key(link["kek"], f"{where}.link.kek")
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
