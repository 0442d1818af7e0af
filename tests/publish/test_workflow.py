""".github/workflows/publish.yml: its shape (triggers, one run at a time, permissions,
secrets, the order of its steps, pinned actions), zizmor's audit, and the workflow run
for real (tests/actions.py) on a new site: a sale becomes a member, committed, built,
deployed, then welcomed, once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.members import keeping, sealed
from generator.members.state import State
from generator.starter import writer

from ..actions import Run, Runner
from ..checkouts import StripeStandIn, running
from ..conftest import ROOT, run_memberkit
from ..mailserver import mail_server

WORKFLOW = ROOT / writer.WORKFLOW
SECRETS = {"MEMBERKIT_STATE_KEY", "MEMBERKIT_CHECKOUT_KEY", "MEMBERKIT_SMTP"}
EVERY_15_MINUTES = "*/15 * * * *"
SENDER = "Outsource Without Regret <hello@example.com>"


def workflows() -> dict[str, str]:
    """The bundled workflow, and the one `memberkit new` writes from it."""
    bundled = WORKFLOW.read_text()
    return {"bundled": bundled, "starter": writer.installing_this_release(bundled)}


def parsed(text: str) -> dict[str, Any]:
    workflow = yaml.safe_load(text)
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    return workflow


def steps_of(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, spec in workflow["jobs"].items() for step in spec["steps"]]


# -- its shape -----------------------------------------------------------------------


@pytest.mark.parametrize("which", ["bundled", "starter"])
def test_runs_every_15_minutes_on_every_push_every_day_and_by_hand(which: str) -> None:
    triggers = parsed(workflows()[which])["on"]
    assert triggers["push"] == {"branches": ["main"]}
    assert "workflow_dispatch" in triggers
    crons = [s["cron"] for s in triggers["schedule"]]
    assert EVERY_15_MINUTES in crons
    [daily] = [c for c in crons if c != EVERY_15_MINUTES]
    minute, hour, day, month, weekday = daily.split()
    assert (day, month, weekday) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()


@pytest.mark.parametrize("which", ["bundled", "starter"])
def test_one_run_at_a_time_with_the_least_permissions(which: str) -> None:
    workflow = parsed(workflows()[which])
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["concurrency"]["group"]
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert {job: spec["permissions"] for job, spec in jobs.items()} == {
        "build": {"contents": "write", "deployments": "read"},
        "deploy": {"pages": "write", "id-token": "write"},
        "welcome": {"contents": "write"},
    }
    # The deploy job runs nothing but GitHub's action: no code of the site's sees its
    # token that can deploy.
    assert [s.get("uses", "").split("@")[0] for s in jobs["deploy"]["steps"]] == [
        "actions/deploy-pages"
    ]


@pytest.mark.parametrize("which", ["bundled", "starter"])
def test_the_only_secrets_are_the_three_keys(which: str) -> None:
    text = workflows()[which]
    assert set(re.findall(r"secrets\.([A-Za-z_]+)", text)) == SECRETS
    assert "MEMBERKIT_STATE_JSON" not in text
    # Each secret only in the steps that need it.
    for _job, step in steps_of(parsed(text)):
        used = set(re.findall(r"secrets\.([A-Za-z_]+)", str(step)))
        if "MEMBERKIT_CHECKOUT_KEY" in used:
            assert "memberkit members sync" in step["run"]
        if "MEMBERKIT_SMTP" in used:
            assert "memberkit members resend --all" in step["run"]


def order(workflow: dict[str, Any]) -> list[str]:
    """What each step does, in the order the jobs run them (build, deploy, welcome)."""
    done = []
    for _job, step in steps_of(workflow):
        run, uses = step.get("run", ""), step.get("uses", "")
        if "memberkit members sync" in run:
            done.append("sync")
        elif "git push" in run or "push -q origin" in run:
            done.append("commit")
        elif "memberkit build" in run:
            done.append("build")
        elif "memberkit check" in run:
            done.append("check")
        elif "deploy-pages" in uses:
            done.append("deploy")
        elif "memberkit members resend --all" in run:
            done.append("resend")
    return done


@pytest.mark.parametrize("which", ["bundled", "starter"])
def test_sync_commit_build_check_deploy_then_welcome_then_commit(which: str) -> None:
    workflow = parsed(workflows()[which])
    assert order(workflow) == [
        "sync",
        "commit",
        "build",
        "check",
        "commit",  # the build's changes (members whose end date passed)
        "deploy",
        "resend",
        "commit",
    ]
    jobs = workflow["jobs"]
    assert jobs["deploy"]["needs"] == "build"
    assert jobs["welcome"]["needs"] == ["build", "deploy"]
    # The welcome job checks out the commit that was built and deployed.
    [checkout] = [s for s in jobs["welcome"]["steps"] if "actions/checkout" in s.get("uses", "")]
    assert checkout["with"]["ref"] == "${{ needs.build.outputs.commit }}"
    # The last commit runs even after a failed send: what went out is out of the outbox.
    assert "cancelled()" in jobs["welcome"]["steps"][-1]["if"]
    # The sitemap dates pages from git: the whole history, and no credentials kept.
    for _job, step in steps_of(workflow):
        if "actions/checkout" in step.get("uses", ""):
            assert step["with"]["fetch-depth"] == 0
            assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("which", ["bundled", "starter"])
def test_every_action_is_pinned_by_its_full_commit_with_the_tag_beside(which: str) -> None:
    text = workflows()[which]
    uses = re.findall(r"uses: (\S+)@(\S+)(.*)", text)
    assert {u[0] for u in uses} == {
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    }
    for action, ref, comment in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), (action, ref)
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), (action, comment)


def test_the_starter_installs_this_release_and_nothing_else_changes() -> None:
    both = workflows()
    assert "run: python -m pip install .\n" in both["bundled"]
    assert both["starter"].count('python -m pip install "memberkit==') == 1
    assert both["starter"].replace('"memberkit==', "").count("pip install") == 1
    assert parsed(both["bundled"])["jobs"].keys() == parsed(both["starter"])["jobs"].keys()


# -- zizmor ----------------------------------------------------------------------------


def zizmor() -> str:
    found = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("zizmor is not installed: pip install -e '.[test]'")
    pytest.skip("zizmor is not installed (pip install -e '.[test]')")


@pytest.mark.parametrize("which", ["bundled", "starter"])
def test_zizmor_finds_nothing(which: str, tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "publish.yml").write_text(workflows()[which])
    target = ROOT / ".github/workflows" if which == "bundled" else folder
    result = subprocess.run(
        [zizmor(), "--offline", "--no-progress", "--format", "plain", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout


# -- the workflow, run -----------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Shop:
    """A new site (`memberkit new`), its repository on a stand-in of GitHub (a bare
    repository), the Stripe stand-in, a real SMTP server, and the runner."""

    def __init__(self, folder: Path, api: StripeStandIn, inbox: Any, smtp: str) -> None:
        self.api, self.inbox, self.smtp = api, inbox, smtp
        self.key = sealed.new_key()
        assert run_memberkit("new", "site", cwd=folder).returncode == 0
        self.site = folder / "site"
        config = self.site / "mkdocs.yml"
        text = config.read_text()
        assert "      # checkout_api: stripe" in text
        config.write_text(
            text.replace("      # checkout_api: stripe", "      checkout_api: stripe").replace(
                "      join_url: join.md\n", f"      join_url: join.md\n      mail_from: {SENDER}\n"
            )
        )
        # The owner's first member (themselves) makes memberkit.state, sealed.
        added = run_memberkit(
            *("members", "add", "owner@example.com", "--password-stdin"),
            cwd=self.site,
            stdin="owner's own password\n",
            env={sealed.KEY_ENV: self.key, "MEMBERKIT_PBKDF2_ITERATIONS": "100000"},
        )
        assert added.returncode == 0, added.stderr
        self.origin = folder / "origin.git"
        git(folder, "init", "-q", "--bare", "-b", "main", str(self.origin))
        git(self.site, "init", "-q", "-b", "main")
        self.owner_git("add", "-A")
        self.owner_git("commit", "-q", "-m", "A new members' site")
        self.owner_git("remote", "add", "origin", str(self.origin))
        self.owner_git("push", "-q", "origin", "main")
        self.runner = Runner(
            parsed((self.site / writer.WORKFLOW).read_text()), self.origin, folder / "runner"
        )

    def owner_git(self, *args: str) -> str:
        return git(
            self.site,
            *("-c", "user.name=Owner", "-c", "user.email=owner@example.com"),
            *args,
        )

    def run(self, event: str = "push", schedule: str | None = None, **secrets: str) -> Run:
        given = {
            "MEMBERKIT_STATE_KEY": self.key,
            "MEMBERKIT_CHECKOUT_KEY": self.api.key,
            "MEMBERKIT_SMTP": self.smtp,
            **secrets,
        }
        environment = {  # the runner's own: the stand-in's address, the test's speed
            "MEMBERKIT_CHECKOUT_API": self.api.url,
            "MEMBERKIT_PBKDF2_ITERATIONS": "100000",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1",
        }
        return self.runner.run(event, secrets=given, env=environment, schedule=schedule)

    def commits(self) -> list[str]:
        return git(self.origin, "log", "--format=%s", "main").splitlines()

    def state(self) -> tuple[State, dict[str, bytes]]:
        """The state on the origin's main, unsealed."""
        blob = subprocess.run(
            ["git", "show", "main:memberkit.state"], cwd=self.origin, capture_output=True
        ).stdout
        copy = self.runner.folder / "origin-state"
        copy.mkdir(exist_ok=True)
        (copy / sealed.SEALED_FILE).write_bytes(blob)
        kept = keeping.SealedStore(copy / sealed.SEALED_FILE, sealed.parse_key(self.key), copy)
        return kept.load(), kept.files()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    (tmp_path / "runner").mkdir()
    with running(StripeStandIn()) as api, mail_server(tmp_path) as (inbox, smtp, _env):
        yield Shop(tmp_path, api, inbox, smtp)


def succeeded(run: Run) -> None:
    assert all(r in ("success", "skipped") for r in run.jobs.values()), run.output()


def test_a_sale_becomes_a_member_live_before_their_one_welcome(shop: Shop) -> None:
    start = shop.commits()
    session = shop.api.checkout("ana@example.com", "Ana Lima")
    first = shop.run("push")
    succeeded(first)
    assert first.jobs == {"build": "success", "deploy": "success", "welcome": "success"}
    # Committed and pushed twice: the new member with their welcome waiting, then
    # without it once sent.
    assert shop.commits()[: -len(start)] == ["Members' state after the publish run"] * 2
    state, files = shop.state()
    assert "ana@example.com" in state.members
    assert [p.id for p in state.members["ana@example.com"].purchases] == [session["id"]]
    assert not [name for name in files if name.startswith("outbox/")]
    # Built and deployed before the welcome went out, which went out once.
    ran = [s.name for s in first.steps if s.ran]
    assert ran.index("actions/deploy-pages@" + deploy_pin()) < ran.index(
        "Send the welcomes waiting in the outbox"
    )
    assert (shop.runner.live / "index.html").is_file()
    assert (shop.runner.live / "mk1" / "keystore.json").is_file()
    assert shop.inbox.recipients == [["ana@example.com"]]
    assert "Ana Lima" in shop.inbox.messages[0].get_body(("plain",)).get_content()

    # Fifteen minutes later: nothing new. The live site is not this commit's (the run
    # before pushed the state after it started), so it builds and deploys once more;
    # nothing is committed, nothing is sent.
    pushed = shop.commits()
    second = shop.run("schedule", EVERY_15_MINUTES)
    succeeded(second)
    assert second.ran("Build (ends with the leak check)")
    assert shop.commits() == pushed
    assert len(shop.inbox.messages) == 1

    # And again: now the live site is this very commit's: no build, no deploy.
    third = shop.run("schedule", EVERY_15_MINUTES)
    succeeded(third)
    assert not third.ran("Build (ends with the leak check)"), third.output()
    assert third.jobs["deploy"] == "skipped"
    assert shop.commits() == pushed and len(shop.inbox.messages) == 1

    # A sale then: the sync changed the state, so it is built and deployed before Bo's
    # welcome, whatever the record of the live site says.
    shop.api.checkout("bo@example.com", "Bo Berg")
    sale = shop.run("schedule", EVERY_15_MINUTES)
    succeeded(sale)
    assert sale.jobs == {"build": "success", "deploy": "success", "welcome": "success"}
    assert shop.inbox.recipients == [["ana@example.com"], ["bo@example.com"]]
    pushed = shop.commits()

    # The daily run builds and deploys whatever happened.
    daily = shop.run("schedule", "17 3 * * *")
    succeeded(daily)
    assert daily.ran("Build (ends with the leak check)") and daily.jobs["deploy"] == "success"
    assert shop.commits() == pushed and len(shop.inbox.messages) == 2


def deploy_pin() -> str:
    return re.findall(r"actions/deploy-pages@(\S+)", WORKFLOW.read_text())[0]


def test_without_the_checkout_key_it_builds_and_deploys_with_a_notice(shop: Shop) -> None:
    shop.api.checkout("ana@example.com", "Ana Lima")
    start = shop.commits()
    run = shop.run("push", MEMBERKIT_CHECKOUT_KEY="")
    succeeded(run)
    assert run.jobs["deploy"] == "success"
    assert "::notice::No MEMBERKIT_CHECKOUT_KEY secret: the sync is skipped" in run.output()
    assert shop.commits() == start and not shop.inbox.messages


def test_without_smtp_the_welcomes_wait_in_the_state_with_a_notice(shop: Shop) -> None:
    shop.api.checkout("ana@example.com", "Ana Lima")
    run = shop.run("push", MEMBERKIT_SMTP="")
    succeeded(run)
    assert "::notice::No MEMBERKIT_SMTP secret: the welcomes wait in the outbox" in run.output()
    assert shop.commits()[0] == "Members' state after the publish run"
    state, files = shop.state()
    assert "ana@example.com" in state.members and "outbox/ana@example.com.eml" in files
    assert not shop.inbox.messages
    # Once the secret is set, the next run sends it.
    succeeded(shop.run("schedule", EVERY_15_MINUTES))
    assert shop.inbox.recipients == [["ana@example.com"]]
    assert "outbox/ana@example.com.eml" not in shop.state()[1]


def test_without_the_state_key_it_stops_with_one_line_saying_how(shop: Shop) -> None:
    run = shop.run("push", MEMBERKIT_STATE_KEY="")
    assert run.jobs == {"build": "failure", "deploy": "skipped", "welcome": "skipped"}
    [failed] = [s for s in run.steps if s.outcome == "failure"]
    assert failed.name == "Check the state's key"
    [line] = failed.output.strip().splitlines()
    assert line.startswith("::error::Set the repository secret MEMBERKIT_STATE_KEY")
    assert "memberkit state key" in line
    assert not (shop.runner.live).exists()


def test_main_moved_meanwhile_the_state_goes_on_top_of_it(shop: Shop, tmp_path: Path) -> None:
    """A push to main while the run syncs: the state commit goes on top of it."""
    shop.api.checkout("ana@example.com", "Ana Lima")
    home = shop.site / "docs" / "index.md"
    home.write_text(home.read_text() + "\nNew this week: the moving guide.\n")
    shop.owner_git("add", "docs/index.md")
    shop.owner_git("commit", "-q", "-m", "News")
    shop.runner.before["Commit memberkit.state"] = lambda: shop.owner_git(
        "push", "-q", "origin", "main"
    )
    run = shop.run("push")
    succeeded(run)
    assert "The push was refused (1)" in run.output()
    subjects = shop.commits()
    assert subjects[:3] == ["Members' state after the publish run"] * 2 + ["News"]
    assert "ana@example.com" in shop.state()[0].members
    assert "New this week" in (shop.runner.live / "index.html").read_text()  # built on it
    assert shop.inbox.recipients == [["ana@example.com"]]


def test_a_state_changed_on_main_meanwhile_stops_the_run_before_any_welcome(
    shop: Shop,
) -> None:
    """The owner added a member on their machine and pushed while the run synced: the
    two states cannot be merged; the run fails before the build, sends nothing, and the
    next run reads the sale again on top of the owner's state."""
    shop.api.checkout("ana@example.com", "Ana Lima")

    def owner_adds_a_member() -> None:
        added = run_memberkit(
            *("members", "add", "bo@example.com", "--password-stdin"),
            cwd=shop.site,
            stdin="violet tugboat of the quiet harbour\n",
            env={sealed.KEY_ENV: shop.key, "MEMBERKIT_PBKDF2_ITERATIONS": "100000"},
        )
        assert added.returncode == 0, added.stderr
        shop.owner_git("commit", "-q", "-m", "Bo joins", "memberkit.state")
        shop.owner_git("push", "-q", "origin", "main")

    shop.runner.before["Commit memberkit.state"] = owner_adds_a_member
    run = shop.run("push")
    assert run.jobs == {"build": "failure", "deploy": "skipped", "welcome": "skipped"}
    assert "::error::memberkit.state changed on main while this run changed it too" in (
        run.output()
    )
    assert not run.ran("Build (ends with the leak check)")
    assert shop.commits()[0] == "Bo joins" and not shop.inbox.messages
    shop.runner.before.clear()
    succeeded(shop.run("schedule", EVERY_15_MINUTES))
    members = shop.state()[0].members
    assert {"ana@example.com", "bo@example.com"} <= set(members)
    assert shop.inbox.recipients == [["ana@example.com"]]
