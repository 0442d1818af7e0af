"""Emails to members: the welcome with their login, and the reminder before it ends.

The owner writes each message as Markdown with YAML front matter (`emails/welcome.md`,
`emails/reminder.md` beside mkdocs.yml; built-in defaults otherwise). It goes out as
multipart text + HTML over SMTP: `MEMBERKIT_SMTP=smtp://user:password@host:port`
(STARTTLS whenever the server offers it) or `smtps://` (TLS from the first byte).

A welcome carries a password: before it is sent it waits in the outbox, a part of the
private state (owner-only in the state folder, or sealed with the rest), and leaves it
only once the server has taken it. A failed send loses
nothing; `memberkit members resend` tries again. No MkDocs import.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from importlib import resources
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, unquote, urlsplit

import markdown
import yaml

from generator.errors import MemberkitError
from generator.members.store import StateStore, write_private

SMTP_ENV = "MEMBERKIT_SMTP"
FROM_ENV = "MEMBERKIT_MAIL_FROM"
EMAILS_DIR = "emails"
OUTBOX_DIR = "outbox"
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT = 30.0

#: The placeholders each message may use.
PLACEHOLDERS = {
    "welcome": (
        *("name", "email", "login_link", "link_expires", "password"),
        *("site_name", "site_url", "expires"),
    ),
    "reminder": ("name", "email", "expires", "join_url", "site_name", "site_url"),
}
_PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_AUTOLINK = re.compile(r"<(\{\{\s*[a-z_]+\s*\}\})>")


# -- the server and the sender -------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """Where messages go, from MEMBERKIT_SMTP."""

    scheme: str  # "smtp" (STARTTLS when offered) or "smtps" (implicit TLS)
    host: str
    port: int
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Server:
        parts = urlsplit(url.strip())
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise MemberkitError(
                f"{SMTP_ENV} must look like smtp://user:password@host:587 or "
                "smtps://user:password@host:465 (user and password optional)"
            )
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise MemberkitError(f"{SMTP_ENV}: the port is not a number") from None
        return cls(
            parts.scheme,
            parts.hostname,
            port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password is not None else None,
        )

    @classmethod
    def from_env(cls) -> Server:
        url = os.environ.get(SMTP_ENV, "")
        if not url:
            raise MemberkitError(
                f"set {SMTP_ENV} to your mail server to send, for example "
                f"{SMTP_ENV}=smtps://you%40example.com:app-password@smtp.example.com:465, "
                "or preview the messages with --dry-run FOLDER"
            )
        return cls.from_url(url)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def sender(configured: str) -> str:
    """The From address: plugins.memberkit.mail_from, else MEMBERKIT_MAIL_FROM."""
    value = (configured or os.environ.get(FROM_ENV, "")).strip()
    if not value:
        raise MemberkitError(
            "no sender address: set mail_from under plugins.memberkit in mkdocs.yml "
            f"(for example mail_from: Your Name <you@example.com>) or {FROM_ENV}"
        )
    if "\n" in value or "\r" in value or "@" not in value:
        raise MemberkitError(f"the sender {value!r} is not an email address")
    return value


# -- the messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A message as the owner wrote it: a subject and a Markdown body with placeholders."""

    kind: str  # "welcome" or "reminder"
    source: str  # the file it came from, for errors
    subject: str
    body: str

    @classmethod
    def load(cls, project_dir: Path, kind: str) -> Template:
        """`emails/<kind>.md` of the project, or memberkit's own default."""
        path = project_dir / EMAILS_DIR / f"{kind}.md"
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise MemberkitError(f"cannot read it ({error})", path=str(path)) from None
            return cls.parse(text, kind, f"{EMAILS_DIR}/{kind}.md")
        builtin = resources.files("generator") / "assets" / f"email-{kind}.md"
        return cls.parse(builtin.read_text(encoding="utf-8"), kind, f"memberkit's {kind}.md")

    @classmethod
    def parse(cls, text: str, kind: str, source: str) -> Template:
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            raise MemberkitError(
                "the file must start with front matter: a line ---, subject: ..., and ---",
                path=source,
                line=1,
            )
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            raise MemberkitError(
                "the front matter has no closing --- line", path=source, line=1
            ) from None
        try:
            meta = yaml.safe_load("\n".join(lines[1:end])) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            raise MemberkitError(
                f"the front matter is not valid YAML ({getattr(error, 'problem', error)})",
                path=source,
                line=line,
            ) from None
        subject = meta.get("subject") if isinstance(meta, dict) else None
        if not isinstance(subject, str) or not subject.strip():
            raise MemberkitError(
                "the front matter needs a subject: line", path=source, line=end + 1
            )
        unknown = sorted(set(meta) - {"subject"})
        if unknown:
            raise MemberkitError(
                f"unknown front matter field {unknown[0]!r}; only subject is read",
                path=source,
                line=2,
            )
        _check_placeholders(lines, kind, source)
        return cls(kind, source, subject.strip(), "\n".join(lines[end + 1 :]).strip() + "\n")

    def render(self, values: Mapping[str, str]) -> tuple[str, str, str]:
        """The subject, the text part (the Markdown, filled in) and the HTML part."""
        subject = " ".join(_fill(self.subject, values).split())
        text = _fill(self.body, values)
        # The HTML comes from the Markdown with stand-ins for the values, which are then
        # put in escaped: a name like "<b>Ann</b>" stays text, a link stays one link.
        body = _AUTOLINK.sub(r"[\1](\1)", self.body)
        names = list(PLACEHOLDERS[self.kind])
        marked = _PLACEHOLDER.sub(lambda m: f"MKPLACEHOLDER{names.index(m.group(1))}X", body)
        rendered = markdown.markdown(marked)
        for index, name in enumerate(names):
            rendered = rendered.replace(
                f"MKPLACEHOLDER{index}X", html.escape(values.get(name, ""), quote=True)
            )
        page = (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{html.escape(subject)}</title></head>\n"
            '<body style="font-family: sans-serif; line-height: 1.5; max-width: 38em">\n'
            f"{rendered}\n</body></html>\n"
        )
        return subject, text, page


def _check_placeholders(lines: Sequence[str], kind: str, source: str) -> None:
    allowed = PLACEHOLDERS[kind]
    for number, line in enumerate(lines, 1):
        for match in _PLACEHOLDER.finditer(line):
            if match.group(1) not in allowed:
                raise MemberkitError(
                    f"unknown placeholder {match.group(0)}; a {kind} email may use "
                    + ", ".join(f"{{{{ {name} }}}}" for name in allowed),
                    path=source,
                    line=number,
                )


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


def compose(
    template: Template, values: Mapping[str, str], *, sender: str, to: str, name: str
) -> EmailMessage:
    subject, text, page = template.render(values)
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = Address(display_name=name, addr_spec=to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(" >"))
    message.set_content(text)
    message.add_alternative(page, subtype="html")
    return message


def recipient(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


# -- sending -----------------------------------------------------------------------------


class Postman:
    """One connection to the server for a batch of messages, opened on first use."""

    def __init__(self, server: Server, timeout: float = TIMEOUT) -> None:
        self.server = server
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None
        self.broken: str | None = None  # why the server cannot be used: fail fast

    def __enter__(self) -> Postman:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; MemberkitError says why it was not taken."""
        for attempt in (1, 2):
            connection = self._connect()
            try:
                refused = connection.send_message(message)
            except smtplib.SMTPServerDisconnected:
                self.connection = None
                if attempt == 2:
                    raise MemberkitError(f"{self.server} closed the connection") from None
                continue
            except smtplib.SMTPRecipientsRefused as error:
                reason = next(iter(error.recipients.values()), (0, b""))
                raise MemberkitError(f"the server refused the address ({_said(reason)})") from None
            except smtplib.SMTPResponseException as error:
                raise MemberkitError(
                    f"the server refused the message ({_said((error.smtp_code, error.smtp_error))})"
                ) from None
            except (OSError, smtplib.SMTPException) as error:
                self.connection = None
                raise MemberkitError(f"sending failed ({error})") from None
            if refused:
                raise MemberkitError(f"the server refused {', '.join(refused)}")
            return

    def _connect(self) -> smtplib.SMTP:
        if self.connection is not None:
            return self.connection
        if self.broken:
            raise MemberkitError(self.broken)
        try:
            self.connection = self._open()
        except MemberkitError as error:
            self.broken = str(error)
            raise
        return self.connection

    def _open(self) -> smtplib.SMTP:
        server, context = self.server, ssl.create_default_context()
        where = f"{server.host}:{server.port}"
        try:
            connection: smtplib.SMTP
            if server.scheme == "smtps":
                connection = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self.timeout, context=context
                )
            else:
                connection = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
                connection.ehlo()
                if connection.has_extn("starttls"):
                    connection.starttls(context=context)
                    connection.ehlo()
                elif server.user:
                    connection.close()
                    raise MemberkitError(
                        f"{where} does not offer STARTTLS: memberkit will not send the SMTP "
                        f"password unencrypted; use smtps:// if the server speaks TLS on "
                        "another port"
                    )
            if server.user:
                connection.login(server.user, server.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise MemberkitError(
                f"{where} refused the user and password in {SMTP_ENV} "
                f"({_said((error.smtp_code, error.smtp_error))})"
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise MemberkitError(
                f"{where}: its TLS certificate is not trusted ({error.verify_message}); "
                "SSL_CERT_FILE can name the certificate authority to trust"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise MemberkitError(
                f"{where} takes no user and password (it offers no AUTH); leave them out of "
                f"{SMTP_ENV}"
            ) from None
        except smtplib.SMTPException as error:
            raise MemberkitError(f"the mail server {where} failed ({error})") from None
        except OSError as error:
            reason = error.strerror or str(error)
            if isinstance(error, socket.timeout):
                reason = f"no answer in {self.timeout:.0f} s"
            raise MemberkitError(f"cannot reach the mail server {where} ({reason})") from None
        return connection

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            self.connection = None


def _said(reply: tuple[int, bytes | str]) -> str:
    code, text = reply
    words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}".strip()


# -- the outbox and .eml files -----------------------------------------------------------------


def eml_name(email: str) -> str:
    return quote(email, safe="@._+-") + ".eml"


def write_eml(folder: Path, message: EmailMessage) -> Path:
    """An owner-only .eml file (it may hold a password), named after the recipient."""
    return write_private(folder / eml_name(recipient(message)), message.as_bytes())


class Outbox:
    """Welcomes not yet taken by the server, one file per member in the private state
    (`outbox/<email>.eml`): owner-only in the state folder, or sealed with the rest."""

    def __init__(self, keep: StateStore) -> None:
        self.store = keep
        self.where = keep.label(OUTBOX_DIR + "/")

    def put(self, message: EmailMessage) -> None:
        self.store.change({_outbox_path(recipient(message)): message.as_bytes()})

    def get(self, email: str) -> EmailMessage | None:
        raw = self.store.read(_outbox_path(email))
        if raw is None:
            return None
        parsed = BytesParser(policy=policy.SMTP).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def discard(self, email: str) -> None:
        self.store.change({_outbox_path(email): None})

    def waiting(self) -> list[str]:
        names = [name.split("/", 1)[1] for name in self.store.names(OUTBOX_DIR)]
        return sorted(unquote(n.removesuffix(".eml")) for n in names if n.endswith(".eml"))


def outbox_file(email: str) -> str:
    """The file of the private state that holds a member's unsent welcome."""
    return _outbox_path(email)


def _outbox_path(email: str) -> str:
    return f"{OUTBOX_DIR}/{eml_name(email)}"
