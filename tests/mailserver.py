"""A real SMTP server on 127.0.0.1 for the email tests (aiosmtpd), with optional TLS.

`Inbox` keeps every message the server accepted. A self-signed certificate for
127.0.0.1 and localhost is made with `cryptography`; the client trusts it through
SSL_CERT_FILE, as an owner would trust a private certificate authority.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "owner@example.com", "s3cret p@ss:word"


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if (user, password) == (USER, PASSWORD):
                self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "memberkit test mail server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def mail_server(
    folder: Path, *, tls: str = "", auth: bool = False
) -> Iterator[tuple[Inbox, str, dict[str, str]]]:
    """Run a server; yield its inbox, the MEMBERKIT_SMTP URL and the client's environment.

    tls: "" (plain SMTP), "starttls" (required before anything else) or "implicit".
    """
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = {}
    environment: dict[str, str] = {}
    if tls:
        cert, key = certificate(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        environment["SSL_CERT_FILE"] = str(cert)
        if tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        else:
            options["ssl_context"] = context
    if auth:
        options.update(authenticator=inbox.authenticate, auth_required=True)
        if tls == "implicit":
            # aiosmtpd only counts a STARTTLS session as encrypted and would hide AUTH
            # from a connection that was TLS from its first byte.
            options["auth_require_tls"] = False
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    scheme = "smtps" if tls == "implicit" else "smtp"
    credentials = "owner%40example.com:s3cret%20p%40ss%3Aword@" if auth else ""
    try:
        yield inbox, f"{scheme}://{credentials}127.0.0.1:{port}", environment
    finally:
        controller.stop()
