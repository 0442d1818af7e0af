"""The owner's private state: site id, tier keys and versions, the member roster.

It lives in `.memberkit/state.json` beside mkdocs.yml (or wherever MEMBERKIT_STATE
points), readable by the owner only, written atomically, never copied into the site.
A missing state is created on the first `members add`; a corrupt one is an error and
is never overwritten, because the keys in it are what members' logins open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import mk1
from .errors import MemberkitError

STATE_ENV = "MEMBERKIT_STATE"
ITERATIONS_ENV = "MEMBERKIT_PBKDF2_ITERATIONS"
STATE_DIR = ".memberkit"
STATE_FILE = "state.json"
FORMAT = "memberkit-state-1"
MIN_PASSWORD = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# 31 symbols without look-alikes (no 0/o, 1/l/i): almost 5 bits a character.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_COMMON = None


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
class Member:
    email: str  # normalised (PROTOCOL.md)
    name: str
    tiers: list[str]
    expires: str | None  # YYYY-MM-DD, last day of access; None: no expiry
    lookup: str
    kek: str  # base64url; secret: opens this member's keystore entry

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
    ) -> Member:
        """Add a member (PBKDF2 runs here, once, never at build time)."""
        key = check_email(email)
        if key in self.members:
            raise MemberkitError(
                f"{key} is already a member; use 'memberkit members reset' for a new password"
            )
        member = self._make(key, password, name, tiers, expires)
        self.members[key] = member
        return member

    def reset(self, email: str, password: str) -> Member:
        old = self.member(email)
        member = self._make(old.email, password, old.name, old.tiers, old.expires)
        self.members[old.email] = member
        return member

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
        self, email: str, password: str, name: str, tiers: Sequence[str], expires: str | None
    ) -> Member:
        check_password(password, email)
        if expires is not None:
            check_date(expires)
        if not tiers:
            raise MemberkitError("a member needs at least one tier")
        self.ensure_tiers(tiers)
        keys = mk1.derive_member_keys(self.site, email, password, self.iterations)
        return Member(
            email=email,
            name=name.strip() or email.split("@")[0],
            tiers=sorted(set(tiers)),
            expires=expires,
            lookup=keys.lookup,
            kek=mk1.b64url(keys.kek),
        )


# -- checks ------------------------------------------------------------------


def check_email(email: str) -> str:
    key = mk1.normalize_email(email)
    if not _EMAIL.match(key):
        raise MemberkitError(f"{email!r} is not an email address")
    return key


def check_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise MemberkitError(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


def _common_passwords() -> frozenset[str]:
    global _COMMON
    if _COMMON is None:
        from importlib import resources

        text = (resources.files("generator") / "assets" / "common-passwords.txt").read_text()
        _COMMON = frozenset(
            line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
        )
    return _COMMON


def check_password(password: str, email: str = "") -> None:
    """Refuse passwords an offline guesser would try first."""
    normal = mk1.normalize_password(password)
    if len(normal) < MIN_PASSWORD:
        raise MemberkitError(
            f"the password is too short: use at least {MIN_PASSWORD} characters, "
            "or leave it out to get a generated one"
        )
    lowered = normal.lower()
    squashed = re.sub(r"[^a-z0-9]", "", lowered)
    local = email.split("@")[0].lower()
    if (
        lowered in _common_passwords()
        or squashed in _common_passwords()
        or len(set(normal)) < 5
        or (len(local) >= 4 and local in lowered)
    ):
        raise MemberkitError(
            "the password is too easy to guess (a common password, a repeated pattern or "
            "the email itself); choose another or leave it out to get a generated one"
        )


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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"'format' is not {FORMAT!r}")
        state = State(
            site=_hex(data["site"], 32, "site"),
            secret=data["secret"],
            iterations=int(data["iterations"]),
            tiers={
                name: TierKey(int(key["v"]), _key(key["k"], f"tiers.{name}"))
                for name, key in data["tiers"].items()
            },
            members={},
        )
        for email, raw in data["members"].items():
            member = Member(**raw)
            if member.email != email or not re.fullmatch(r"[0-9a-f]{32}", member.lookup):
                raise ValueError(f"member {email!r} is damaged")
            _key(member.kek, f"members.{email}.kek")
            state.members[email] = member
        _key(state.secret, "secret")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, mk1.MK1Error) as error:
        raise MemberkitError(
            f"{path} is unreadable or damaged ({error}); restore it from your backup. "
            "memberkit will not overwrite it"
        ) from None
    if state.iterations < mk1.MIN_ITERATIONS:
        raise MemberkitError(f"{path}: iterations below {mk1.MIN_ITERATIONS} are refused")
    return state


def load_or_create(folder: Path) -> tuple[State, bool]:
    if (folder / STATE_FILE).exists():
        return load(folder), False
    return State.new(default_iterations()), True


def save(state: State, folder: Path) -> Path:
    """Write atomically: a temp file in the same folder, then rename over the old one."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return write_private(folder / STATE_FILE, state.to_json().encode())


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
        raise ValueError(f"{what!r} is not {length} hex characters")
    return value


def _key(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(mk1.unb64url(value)) != mk1.KEY_BYTES:
        raise ValueError(f"{what!r} is not a 32-byte key")
    return value
