"""What the roster accepts: emails, names, dates, passwords strong enough, login secrets.

Every check raises `MemberkitError` with a message the owner can act on."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata

from generator.errors import MemberkitError
from generator.members import addresses
from generator.protection import mk1

MIN_PASSWORD = 12
#: zxcvbn's score out of 4 a chosen password needs: 3 resists an offline guesser who
#: pays a slow hash (our PBKDF2) for every guess.
MIN_SCORE = 3
#: zxcvbn refuses longer input; the first 72 characters decide.
_SCORED_LENGTH = 72
MAX_NAME = 100
#: A login link's secret: 16 random bytes (128 bits), so its PBKDF2 guards nothing a
#: guesser could ever find; it is derived like a password all the same (PROTOCOL.md).
LINK_SECRET_BYTES = 16
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# 31 symbols without look-alikes (no 0/o, 1/l/i): almost 5 bits a character.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def check_email(email: str) -> str:
    """The address as the roster keeps it: an international domain in its ASCII form
    (`addresses`), then normalised as PROTOCOL.md says."""
    key = addresses.ascii_form(email)
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
