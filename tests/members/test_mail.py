"""Welcome and reminder emails, sent to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import stat
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from generator.errors import MemberkitError
from generator.members.mail import Server, Template

from ..conftest import ROOT, copy_project, run_memberkit
from ..mailserver import USER, mail_server

SENDER = "Outsource Without Regret <hello@example.com>"
FAST = {"MEMBERKIT_PBKDF2_ITERATIONS": "100000", "MEMBERKIT_MAIL_FROM": SENDER}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The bundled content without emails/: memberkit's built-in messages."""
    return copy_project(tmp_path / "project", with_state=False)


def with_emails(project: Path) -> Path:
    shutil.copytree(ROOT / "emails", project / "emails")
    return project


def memberkit(project: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""):
    return run_memberkit(*args, cwd=project, stdin=stdin, env={**FAST, **(env or {})})


def printed(output: str, label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in output.splitlines() if label in line)


def parts(message: EmailMessage) -> tuple[str, str]:
    text, page = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and page is not None
    return text.get_content(), page.get_content()


def outbox(project: Path) -> list[Path]:
    return sorted((project / ".memberkit" / "outbox").glob("*.eml"))


def test_add_send_delivers_a_welcome_in_text_and_html(project: Path, tmp_path: Path) -> None:
    with mail_server(tmp_path) as (inbox, url, env):
        result = memberkit(
            project,
            "members",
            "add",
            "Ana@Example.com",
            "--name",
            "Ana <Lima> & Co",
            "--expires",
            "2099-12-31",
            "--send",
            env={"MEMBERKIT_SMTP": url, **env},
        )
    assert result.returncode == 0, result.stderr
    assert "Sent the welcome email to ana@example.com" in result.stdout
    password, link = printed(result.stdout, "password:"), printed(result.stdout, "login link:")
    assert link.startswith("https://members.example.com/login/#login=")
    [message] = inbox.messages
    assert inbox.recipients == [["ana@example.com"]]
    assert message["Subject"] == "Your login to Outsource Without Regret"
    assert message["From"] == SENDER
    assert message["To"].addresses[0].addr_spec == "ana@example.com"
    assert message["Message-ID"] and message["Date"]
    text, page = parts(message)
    assert password in text and link in text and "2099-12-31" in text
    last_day = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    assert f"The link works until {last_day}." in text.replace("\n", " ")
    assert "Hello Ana <Lima> & Co," in text  # the text part is the Markdown, filled in
    assert f'<a href="{link}">Sign in to Outsource Without Regret</a>' in page
    assert '<a href="https://members.example.com/">https://members.example.com/</a>' in page
    assert "Ana &lt;Lima&gt; &amp; Co" in page and "<Lima>" not in page
    assert f"<li>password: {password}</li>" in page
    assert outbox(project) == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # see mailserver
@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_sending_with_a_password_over_tls(project: Path, tmp_path: Path, tls: str) -> None:
    with_emails(project)
    with mail_server(tmp_path, tls=tls, auth=True) as (inbox, url, env):
        assert url.startswith("smtps://" if tls == "implicit" else "smtp://")
        result = memberkit(
            project,
            "members",
            "add",
            "ben@example.org",
            "--name",
            "Ben",
            "--send",
            env={"MEMBERKIT_SMTP": url, **env},
        )
    assert result.returncode == 0, result.stderr
    assert inbox.logins == [USER]
    [message] = inbox.messages
    assert message["Subject"] == "Welcome to Outsource Without Regret: your login"  # emails/
    text, page = parts(message)
    assert "task briefs" in text and printed(result.stdout, "password:") in text
    assert printed(result.stdout, "login link:") in page


def test_no_password_goes_out_unencrypted(project: Path, tmp_path: Path) -> None:
    with mail_server(tmp_path) as (inbox, url, env):
        with_password = url.replace("smtp://", "smtp://owner%40example.com:secret@")
        result = memberkit(
            project,
            "members",
            "add",
            "cy@example.org",
            "--send",
            env={"MEMBERKIT_SMTP": with_password, **env},
        )
    assert result.returncode != 0 and inbox.messages == []
    assert "does not offer STARTTLS" in result.stderr and "Traceback" not in result.stderr


def test_a_failed_send_loses_nothing_and_resend_delivers_it(project: Path, tmp_path: Path) -> None:
    with mail_server(tmp_path, tls="starttls", auth=True) as (inbox, url, env):
        wrong = url.replace("s3cret", "wrong")
        result = memberkit(
            project,
            "members",
            "add",
            "dee@example.org",
            "--send",
            env={"MEMBERKIT_SMTP": wrong, **env},
        )
        assert result.returncode != 0
        assert "error: dee@example.org: not sent:" in result.stderr
        assert "refused the user and password in MEMBERKIT_SMTP" in result.stderr
        assert "memberkit members resend dee@example.org" in result.stderr
        assert "Traceback" not in result.stderr
        password = printed(result.stdout, "password:")  # still shown once
        [kept] = outbox(project)
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
        assert "dee@example.org" in memberkit(project, "members", "list").stdout
        assert inbox.messages == []
        again = memberkit(
            project, "members", "resend", "dee@example.org", env={"MEMBERKIT_SMTP": url, **env}
        )
    assert again.returncode == 0, again.stderr
    [message] = inbox.messages
    assert password in parts(message)[0]
    assert outbox(project) == []


def test_a_server_that_is_down_and_resend_all(project: Path, tmp_path: Path) -> None:
    from ..mailserver import free_port

    down = f"smtp://127.0.0.1:{free_port()}"
    source = tmp_path / "in.csv"
    source.write_text("email,name\na@example.org,A\nb@example.org,B\n")
    result = memberkit(
        project,
        "members",
        "import",
        str(source),
        "--passwords-out",
        str(tmp_path / "p.csv"),
        "--send",
        env={"MEMBERKIT_SMTP": down},
    )
    assert result.returncode != 0
    assert result.stderr.count("cannot reach the mail server 127.0.0.1") == 2
    assert len(outbox(project)) == 2 and (tmp_path / "p.csv").is_file()
    with mail_server(tmp_path) as (inbox, url, _):
        again = memberkit(project, "members", "resend", "--all", env={"MEMBERKIT_SMTP": url})
    assert again.returncode == 0, again.stderr
    assert sorted(r[0] for r in inbox.recipients) == ["a@example.org", "b@example.org"]
    assert outbox(project) == []
    empty = memberkit(project, "members", "resend", "--all")
    assert "The outbox is empty" in empty.stdout


def test_resend_without_an_unsent_message_says_to_reset(project: Path) -> None:
    assert memberkit(project, "members", "add", "e@example.org").returncode == 0
    result = memberkit(
        project, "members", "resend", "e@example.org", env={"MEMBERKIT_SMTP": "smtp://127.0.0.1:1"}
    )
    assert result.returncode != 0
    assert "no unsent welcome email" in result.stderr
    assert "memberkit members reset e@example.org --send" in result.stderr


def test_import_and_reset_send_each_member_their_login(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email,name\na@example.org,A\nb@example.org,B\nc@example.org,C\n")
    out = tmp_path / "p.csv"
    with mail_server(tmp_path) as (inbox, url, _):
        result = memberkit(
            project,
            "members",
            "import",
            str(source),
            "--passwords-out",
            str(out),
            "--send",
            env={"MEMBERKIT_SMTP": url},
        )
        assert result.returncode == 0, result.stderr
        assert [r[0] for r in inbox.recipients] == [
            "a@example.org",
            "b@example.org",
            "c@example.org",
        ]
        passwords = dict(line.split(",")[:2] for line in out.read_text().splitlines()[1:])
        for message in inbox.messages:
            email = message["To"].addresses[0].addr_spec
            assert passwords[email] in parts(message)[0]
        reset = memberkit(
            project, "members", "reset", "b@example.org", "--send", env={"MEMBERKIT_SMTP": url}
        )
    assert reset.returncode == 0, reset.stderr
    new = printed(reset.stdout, "password:")
    assert new != passwords["b@example.org"] and new in parts(inbox.messages[-1])[0]


def test_dry_run_writes_the_messages_as_eml_files(project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "preview"
    result = memberkit(project, "members", "add", "f@example.org", "--dry-run", str(folder))
    assert result.returncode == 0, result.stderr
    written = folder / "f@example.org.eml"
    assert written.is_file() and stat.S_IMODE(written.stat().st_mode) == 0o600
    message = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert isinstance(message, EmailMessage)
    text, page = parts(message)
    assert printed(result.stdout, "password:") in text and "<a href=" in page
    assert not (project / ".memberkit" / "outbox").exists()


def test_an_unknown_placeholder_names_the_file_and_line(project: Path, tmp_path: Path) -> None:
    (project / "emails").mkdir()
    (project / "emails" / "welcome.md").write_text(
        "---\nsubject: Hi {{ name }}\n---\nHello,\n\nyour code: {{ pasword }}\n"
    )
    result = memberkit(project, "members", "add", "g@example.org", "--dry-run", str(tmp_path / "x"))
    assert result.returncode != 0
    assert "emails/welcome.md:6: unknown placeholder {{ pasword }}" in result.stderr
    assert "{{ password }}" in result.stderr and "Traceback" not in result.stderr
    assert not (project / ".memberkit" / "state.json").exists()  # nothing half-done


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEMBERKIT_MAIL_FROM": ""}, "no sender address: set mail_from under plugins.memberkit"),
        ({"MEMBERKIT_SMTP": ""}, "set MEMBERKIT_SMTP to your mail server"),
        ({"MEMBERKIT_SMTP": "http://mail.example.com"}, "MEMBERKIT_SMTP must look like"),
    ],
)
def test_sending_needs_a_server_and_a_sender(
    project: Path, env: dict[str, str], message: str
) -> None:
    result = memberkit(
        project,
        "members",
        "add",
        "h@example.org",
        "--send",
        env={"MEMBERKIT_SMTP": "smtp://127.0.0.1:1", **env},
    )
    assert result.returncode != 0 and message in result.stderr
    assert not (project / ".memberkit" / "state.json").exists()


def test_mail_from_in_mkdocs_yml(project: Path, tmp_path: Path) -> None:
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "      join_url: join.md\n",
            "      join_url: join.md\n      mail_from: Ana <ana@example.com>\n",
        )
    )
    result = memberkit(
        project,
        "members",
        "add",
        "i@example.org",
        "--dry-run",
        str(tmp_path / "out"),
        env={"MEMBERKIT_MAIL_FROM": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "From: Ana <ana@example.com>" in (tmp_path / "out" / "i@example.org.eml").read_text()


def test_remind_emails_members_whose_access_ends_soon(project: Path, tmp_path: Path) -> None:
    with_emails(project)
    today = dt.date.today()
    soon, later = (
        (today + dt.timedelta(days=3)).isoformat(),
        (today + dt.timedelta(days=30)).isoformat(),
    )
    for email, expires in (("soon@example.org", soon), ("later@example.org", later)):
        assert memberkit(project, "members", "add", email, "--expires", expires).returncode == 0
    assert memberkit(project, "members", "add", "never@example.org").returncode == 0
    listed = memberkit(project, "members", "remind", "--days", "7")
    assert listed.returncode == 0
    assert "soon@example.org" in listed.stdout and "later@example.org" not in listed.stdout
    with mail_server(tmp_path) as (inbox, url, _):
        sent = memberkit(
            project, "members", "remind", "--days", "7", "--send", env={"MEMBERKIT_SMTP": url}
        )
        assert sent.returncode == 0, sent.stderr
        [message] = inbox.messages
        assert message["To"].addresses[0].addr_spec == "soon@example.org"
        assert message["Subject"] == f"Your Outsource Without Regret membership ends on {soon}"
        text, page = parts(message)
        assert soon in text and "https://members.example.com/join/" in text
        assert '<a href="https://members.example.com/join/">Renew your membership</a>' in page
        again = memberkit(
            project, "members", "remind", "--days", "7", "--send", env={"MEMBERKIT_SMTP": url}
        )
        assert again.returncode == 0 and len(inbox.messages) == 1
        assert "Nobody to remind" in again.stdout
        forced = memberkit(
            project,
            "members",
            "remind",
            "--days",
            "7",
            "--send",
            "--again",
            env={"MEMBERKIT_SMTP": url},
        )
        assert forced.returncode == 0 and len(inbox.messages) == 2
    preview = tmp_path / "preview"
    dry = memberkit(project, "members", "remind", "--days", "40", "--dry-run", str(preview))
    assert dry.returncode == 0, dry.stderr
    # What --send would send: the member already reminded of this end date is not.
    assert sorted(p.name for p in preview.iterdir()) == ["later@example.org.eml"]


# -- the pieces ----------------------------------------------------------------------------


def test_the_smtp_url_is_url_decoded() -> None:
    server = Server.from_url("smtps://me%40example.com:p%40ss%3Aw%2Fd@mail.example.com")
    assert (server.scheme, server.host, server.port) == ("smtps", "mail.example.com", 465)
    assert (server.user, server.password) == ("me@example.com", "p@ss:w/d")
    plain = Server.from_url("smtp://mail.example.com")
    assert (plain.port, plain.user, plain.password) == (587, None, None)


def test_a_template_renders_links_and_escapes_values() -> None:
    template = Template.parse(
        "---\nsubject: Hi {{ name }}\n---\n**{{ name }}**: <{{ login_link }}>\n",
        "welcome",
        "emails/welcome.md",
    )
    subject, text, page = template.render(
        {"name": "A <b>", "login_link": "https://x.example/login/#login=a_b-c"}
    )
    assert subject == "Hi A <b>"
    assert text == "**A <b>**: <https://x.example/login/#login=a_b-c>\n"
    assert "<strong>A &lt;b&gt;</strong>" in page
    assert re.search(r'<a href="https://x.example/login/#login=a_b-c">https://x', page)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("Hello\n", 1, "must start with front matter"),
        ("---\nsubject: [\n---\nx\n", 2, "not valid YAML"),
        ("---\ntitle: x\n---\nx\n", 3, "needs a subject"),
        ("---\nsubject: x\n---\n{{ join_url }}\n", 4, "unknown placeholder {{ join_url }}"),
    ],
)
def test_a_broken_template_is_named(text: str, line: int, reason: str) -> None:
    with pytest.raises(MemberkitError) as caught:
        Template.parse(text, "welcome", "emails/welcome.md")
    assert str(caught.value).startswith(f"emails/welcome.md:{line}: ")
    assert reason in str(caught.value)
