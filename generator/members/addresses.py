"""Email addresses as the roster keeps them: an international domain in its ASCII form.

`user@bücher.example` and `user@xn--bcher-kva.example` are one address. The roster keeps
the domain's ASCII form (its A-label, by UTS #46 without the transitional mappings, as
browsers turn a domain into a URL's host and as mail servers take it), so a member
signs in with either spelling, and mail goes where any server can deliver it. The
local part (before the @) stays as typed. PROTOCOL.md's normalisation applies after this
one, unchanged: the roster's form is what the protocol normalises.

Python's own `idna` codec is IDNA 2003, which maps `ß` to `ss`: another domain than the
one browsers reach. The `idna` package follows the current standard.
"""

from __future__ import annotations

import unicodedata

import idna

from generator.errors import MemberkitError
from generator.protection import mk1


def _parts(email: str) -> tuple[str, str] | None:
    text = unicodedata.normalize("NFKC", email).strip()
    local, at, domain = text.rpartition("@")
    return (local, domain) if at and local and domain else None


def ascii_form(email: str) -> str:
    """The address with its domain's ASCII form, normalised as PROTOCOL.md says.

    An address without an @ is left to the caller's checks."""
    parts = _parts(email)
    if parts is None or parts[1].isascii():
        return mk1.normalize_email(email)
    local, domain = parts
    try:
        ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError as error:
        raise MemberkitError(
            f"{email!r}: its domain {domain!r} is not a valid international domain name "
            f"({error}); check the address"
        ) from None
    return mk1.normalize_email(f"{local}@{ascii_domain}")


def shown_form(email: str) -> str:
    """The address for people to read: its domain in Unicode (`user@bücher.example`).
    As it is when its domain is not an international one."""
    parts = _parts(email)
    if parts is None or "xn--" not in parts[1].lower():
        return email
    try:
        return f"{parts[0]}@{idna.decode(parts[1])}"
    except idna.IDNAError:
        return email


def same_address(email: str) -> str:
    """What two spellings of one address have in common, to find a member by either:
    the ASCII form, or the address normalised when its domain is no valid name."""
    try:
        return ascii_form(email)
    except MemberkitError:
        return mk1.normalize_email(email)
