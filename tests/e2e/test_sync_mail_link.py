"""From a checkout to the members' area with nobody at the keyboard: a buyer paid at the
stand-in of Stripe, `members sync --send` admitted them and mailed their welcome to a
real SMTP server, and its login link signs them in, in Chromium behind nginx."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..checkouts import StripeStandIn, running
from ..conftest import copy_project, run_memberkit
from ..mailserver import mail_server
from ..members.test_sync_stripe import configure, environment
from .conftest import Nginx, serve_from
from .test_mail_link import signs_in


def test_the_login_link_of_a_synced_buyers_welcome_signs_in(
    browser: Any, nginx_bin: str, tmp_path: Path
) -> None:
    server = Nginx(tmp_path / "nginx")
    try:
        project = configure(copy_project(tmp_path / "project", with_state=False), "stripe")
        serve_from(project, server.url)
        with running(StripeStandIn()) as api, mail_server(tmp_path / "mail") as (inbox, url, env):
            api.checkout("buyer@example.org", "Bea Buyer")
            synced = run_memberkit(
                "members",
                "sync",
                "--send",
                cwd=project,
                env=environment(api, MEMBERKIT_SMTP=url, **env),
            )
        assert synced.returncode == 0, synced.stderr
        [message] = inbox.messages
        assert inbox.recipients == [["buyer@example.org"]]
        body = message.get_body(("plain",))
        assert body is not None
        links = re.findall(r"https?://\S+#login=[A-Za-z0-9_-]+", body.get_content())
        assert links and links[0].startswith(server.url), body.get_content()
        signs_in(browser, server, project, links[0], "Bea Buyer")
    finally:
        server.stop()
