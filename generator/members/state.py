"""The owner's private state: site id, its secret, tiers, the member roster.

The model and its changes (add, reset, remove, expiry); a tier's key follows from the
secret and the tier's holders (`tier_keys`); where it is kept
and how it is written is `store`'s job, what the roster accepts is `checks`'.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import datetime as dt
import hashlib
import hmac
import json
import multiprocessing
import os
import secrets
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

from generator.errors import MemberkitError
from generator.members import addresses
from generator.members.checks import (
    check_date,
    check_email,
    check_name,
    check_password,
    generate_password,
    new_link_secret,
)
from generator.members.purchases import ByHand, Ledger, Purchase
from generator.protection import keystore, mk1

#: How long a login link opens the site, in days, unless the owner says otherwise.
LINK_DAYS = 14

ENDED_NOTICE_DAYS = keystore.ENDED_NOTICE_DAYS

#: The state file's format, written into it.
FORMAT = "memberkit-state-1"


@dataclass
class TierKey:
    v: int
    k: str  # base64url, 32 bytes

    @classmethod
    def derive(cls, secret: str, tier: str, holders: Iterable[str]) -> TierKey:
        """The key of a tier for the set of its holders (their lookups), from the
        state's secret; `v` names the key (PROTOCOL.md, "Tier keys").

        A function of who holds the tier, not a counter kept in the state: two builds
        from one older copy of the state that drop different expired members get
        different keys, so a member cut off by the later one holds no key it uses. The
        same holders give the same key, so builds do not sign members out at every
        deploy. Without the secret it cannot be predicted.
        """
        digest = hashlib.sha256("\n".join(sorted(holders)).encode()).hexdigest()
        label = f"{tier}|{digest}".encode()
        base = mk1.unb64url(secret)
        material = hmac.new(base, b"mk1 tier key|" + label, hashlib.sha256).digest()
        name = hmac.new(base, b"mk1 tier version|" + label, hashlib.sha256).digest()
        # 48 bits: a whole number JavaScript holds exactly; never 0, which reads as unset.
        return cls(int.from_bytes(name[:6], "big") or 1, mk1.b64url(material))


@dataclass
class LoginLink:
    """A member's one-click login link: a random secret of its own, not the password.

    It opens a keystore entry of its own (derived from the secret as from a password)
    until `expires`, its last day; builds after that day leave the entry out.
    """

    lookup: str
    kek: str  # base64url; secret: opens the link's keystore entry
    expires: str  # YYYY-MM-DD
    lookup_key: str | None = None  # base64url; binds the lookup to an epoch (layout 3)

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
    # base64url; secret: binds the lookup to the roster epoch (keystore layout 3). None
    # for a member added before: the keystore stays at layout 2 until their next reset.
    lookup_key: str | None = None
    # What the checkout's purchases give (`members sync`), and what the owner had given
    # by hand before the first of them was recorded (`purchases`).
    purchases: list[Purchase] = field(default_factory=list)
    by_hand: ByHand | None = None

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and dt.date.fromisoformat(self.expires) < today


@dataclass
class Ended:
    """A member whose membership ended (their last day passed, or their subscription
    is over), kept for a while so that signing in tells them so and how to renew: the
    keystore holds an entry for them that opens nothing (PROTOCOL.md, "keys": {}).

    Not a member: they hold no tier and no login link. A member the owner removes, or
    whose purchase is refunded, leaves no such record."""

    email: str  # normalised
    name: str
    expires: str  # YYYY-MM-DD, their last day
    lookup: str
    kek: str  # base64url; secret: opens their keystore entry
    lookup_key: str | None = None  # base64url; binds the lookup to an epoch (layout 3)

    @classmethod
    def of(cls, member: Member, last_day: str) -> Ended:
        return cls(
            member.email, member.name, last_day, member.lookup, member.kek, member.lookup_key
        )

    def told(self, today: dt.date, days: int) -> bool:
        """Whether signing in still says the membership ended: within `days` of its end."""
        return days > 0 and dt.date.fromisoformat(self.expires) >= today - dt.timedelta(days=days)


@dataclass
class State:
    site: str
    secret: str  # base64url; seeds the tier keys and the keystore's decoy entries
    iterations: int
    tiers: list[str] = field(default_factory=list)  # their keys: `tier_keys`
    members: dict[str, Member] = field(default_factory=dict)
    sync: Ledger | None = None  # where `members sync` stands with the checkout
    # Whose membership ended lately, by email: told so when they sign in (`Ended`).
    ended: dict[str, Ended] = field(default_factory=dict)

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

    def tier_keys(self) -> dict[str, TierKey]:
        """Each tier's key for the members who hold it now: a change of holders (a
        member added, reset, removed or expired, a tier granted) is a new key."""
        holders: dict[str, list[str]] = {tier: [] for tier in self.tiers}
        for member in self.members.values():
            for tier in member.tiers:
                holders.setdefault(tier, []).append(member.lookup)
        return {t: TierKey.derive(self.secret, t, holders[t]) for t in self.tiers}

    def sealing_keys(self) -> dict[str, tuple[int, bytes]]:
        """Each tier's current version and key, as the build seals with them."""
        return {t: (k.v, mk1.unb64url(k.k)) for t, k in self.tier_keys().items()}

    def to_json(self) -> str:
        """The file: tiers with their keys as they stand (for the owner's eyes; a
        reading takes only their names), members as they are."""
        data = {"format": FORMAT, **asdict(self)}
        data["tiers"] = {t: asdict(k) for t, k in self.tier_keys().items()}
        # A state that never synced reads as it did before sync existed.
        if data["sync"] is None:
            del data["sync"]
        if not data["ended"]:
            del data["ended"]
        for member in data["members"].values():
            if not member["purchases"] and member["by_hand"] is None:
                del member["purchases"], member["by_hand"]
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    # -- members -------------------------------------------------------------

    def find(self, email: str) -> Member | None:
        """The member with this address, its domain spelt either way (`bücher.example`
        or `xn--bcher-kva.example`), whichever form the roster holds them under."""
        key = addresses.same_address(email)
        found = self.members.get(key) or self.members.get(mk1.normalize_email(email))
        if found is None and "xn--" in key:  # added before the roster kept that form
            found = next(
                (m for m in self.members.values() if addresses.same_address(m.email) == key),
                None,
            )
        return found

    def member(self, email: str) -> Member:
        found = self.find(email)
        if found is None:
            key = addresses.same_address(email)
            raise MemberkitError(f"no member with the email {key!r}; see 'memberkit members list'")
        return found

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
        if self.find(key) is not None:
            raise MemberkitError(
                f"{key} is already a member; use 'memberkit members reset' for a new password"
            )
        member = self._make(key, password, name, tiers, expires, keys, generated)
        self.members[key] = member
        self.ended.pop(key, None)  # back: a member again, no longer told it ended
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

        The new credentials make the tiers' holders another set: whoever learnt the
        old password, and any browser still signed in with it, are cut off at the next
        build, their saved tier keys opening nothing new.
        """
        old = self.member(email)
        # A member added with the domain as typed (before the roster kept its ASCII
        # form) is kept under the ASCII form from now on: new credentials, new keys.
        key = check_email(old.email)
        member = self._make(key, password, old.name, old.tiers, old.expires, keys, generated)
        member.purchases, member.by_hand = old.purchases, old.by_hand
        del self.members[old.email]
        self.members[key] = member
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
        member.link = LoginLink(keys.lookup, mk1.b64url(keys.kek), expires, _lookup_key(keys))
        return secret, expires

    def remove(self, email: str) -> list[str]:
        """Remove a member: every tier they held gets a new key. Returns those tiers.
        Nothing of them is kept: signing in does not tell them their membership ended
        (one whose membership ended already is forgotten: their record goes)."""
        ended = self.find_ended(email)
        if ended is not None:
            del self.ended[ended.email]
            if self.find(email) is None:
                return []
        member = self.members.pop(self.member(email).email)
        return member.tiers

    def find_ended(self, email: str) -> Ended | None:
        """The membership that ended of this address (either spelling of its domain)."""
        key = addresses.same_address(email)
        return self.ended.get(key) or self.ended.get(mk1.normalize_email(email))

    def end(self, email: str, last_day: str) -> list[str]:
        """A membership ended on `last_day` (a subscription over): removed as by
        `remove`, every tier they held getting a new key, but kept among the `ended`,
        so that signing in tells them it ended and how to renew. Returns their tiers."""
        member = self.members.pop(self.member(email).email)
        self.ended[member.email] = Ended.of(member, last_day)
        return member.tiers

    def drop_expired(self, today: dt.date, days: int = ENDED_NOTICE_DAYS) -> list[Member]:
        """Remove expired members, their tiers getting new keys (at every build). Those
        whose membership ended less than `days` ago are kept among the `ended`; older
        records of that kind are forgotten (`forget_ended`)."""
        gone = [m for m in self.members.values() if m.expired(today)]
        for member in gone:
            del self.members[member.email]
            assert member.expires is not None
            self.ended[member.email] = Ended.of(member, member.expires)
        self.forget_ended(today, days)
        return gone

    def forget_ended(self, today: dt.date, days: int) -> list[Ended]:
        """Forget the ended memberships more than `days` old: signing in no longer says."""
        old = [e for e in self.ended.values() if not e.told(today, days)]
        for ended in old:
            del self.ended[ended.email]
        return old

    def told_ended(self, today: dt.date, days: int) -> list[Ended]:
        """Whose membership ended less than `days` ago, their expired members included:
        the keystore's entries that say so and open nothing, sorted by email."""
        found = {e.email: e for e in self.ended.values() if e.told(today, days)}
        for member in self.members.values():
            if member.expired(today):
                assert member.expires is not None
                ended = Ended.of(member, member.expires)
                if ended.told(today, days):
                    found[member.email] = ended
        return [found[email] for email in sorted(found)]

    def ensure_tiers(self, tiers: Iterable[str]) -> None:
        for tier in tiers:
            if tier not in self.tiers:
                self.tiers.append(tier)

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
            lookup_key=_lookup_key(keys),
        )


def _lookup_key(keys: mk1.MemberKeys) -> str | None:
    return mk1.b64url(keys.lookup_key) if keys.lookup_key else None


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
    # Spawned, not forked: a forked helper would hold the state's lock (an flock, on a
    # descriptor it inherits) for as long as it lives, past its parent's end.
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=min(workers, total),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_die_with,
        initargs=(os.getpid(),),
    )
    with pool:
        for number, keys in enumerate(pool.map(_derive, jobs, chunksize=chunk), 1):
            results.append(keys)
            report(number, total)
    return results


@dataclass(frozen=True)
class NewLogin:
    """A new member's generated password and login link, their keys derived."""

    password: str
    keys: mk1.MemberKeys
    link_secret: str
    link_keys: mk1.MemberKeys


def new_logins(
    state: State,
    emails: Sequence[str],
    *,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> list[NewLogin]:
    """A generated password and login link for each email, in order: two PBKDF2 runs a
    member (`derive_keys`, on every core), `progress` counting members."""
    passwords = [generate_password() for _ in emails]
    secrets_ = [new_link_secret() for _ in emails]
    logins = [
        login
        for email, password, secret in zip(emails, passwords, secrets_, strict=True)
        for login in ((email, password), (email, secret))
    ]

    def members_done(done: int, total: int) -> None:
        if progress and done % 2 == 0:
            progress(done // 2, total // 2)

    keys = derive_keys(state.site, logins, state.iterations, progress=members_done, workers=workers)
    return [
        NewLogin(password, derived, secret, link)
        for password, derived, secret, link in zip(
            passwords, keys[::2], secrets_, keys[1::2], strict=True
        )
    ]


def _die_with(parent: int) -> None:
    """A key-deriving helper ends with the command that started it, however that ends
    (killed too): on Linux the kernel sends it SIGTERM then (PR_SET_PDEATHSIG);
    elsewhere it ends when it next finds the pool's pipe closed."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _derive(job: tuple[str, str, str, int]) -> mk1.MemberKeys:
    site, email, password, iterations = job
    return mk1.derive_member_keys(site, email, password, iterations)
