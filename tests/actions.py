"""A stand-in of a GitHub Actions runner for the publish workflow: its jobs in order,
their `run:` scripts executed by bash as the runner runs them, in a clone of a local
bare repository that plays GitHub's.

What is run for real: every `run:` script (bash -e -o pipefail, as the runner's default
shell), with the step's `env:` and `$GITHUB_ENV`, `$GITHUB_OUTPUT`, `$RUNNER_TEMP` and
`$GITHUB_WORKSPACE`; `if:` of steps and jobs, job `needs:` and `outputs:`, and the
`${{ }}` expressions the workflow uses (contexts github, secrets, steps, needs; the
operators ! == != && || and parentheses; success(), failure(), always(), cancelled()).

What is played, not run (the `uses:` steps, and the install):
- actions/checkout: `git clone` of the origin, then the step's `ref` checked out (a
  branch's newest commit, or a commit); no credentials are kept, as with
  persist-credentials: false (the origin is a local path: git needs none).
- actions/setup-python, and `python -m pip install ...`: memberkit is already installed
  in the Python running the tests, whose folder is first on PATH.
- actions/upload-pages-artifact: the folder `path` is copied aside.
- actions/deploy-pages: that copy becomes the live site, and a deployment of
  `github.sha` with the state "success" is recorded where the stand-in of the `gh`
  command (below) reads it: GitHub's deployments API as far as the workflow asks it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: `gh api` as the workflow calls it, answered from the deployments recorded in
#: $FAKE_GH_DEPLOYMENTS, each filter applied by jq as gh's --jq applies it.
FAKE_GH = """#!{python}
import json, os, subprocess, sys
args = sys.argv[1:]
assert args[0] == "api", args
path, jq = args[1], args[args.index("--jq") + 1]
deployments = json.loads(open(os.environ["FAKE_GH_DEPLOYMENTS"]).read() or "[]")
if "/deployments?" in path:
    answer = [
        {{"sha": d["sha"], "statuses_url": "https://api.github.invalid/statuses/" + str(i)}}
        for i, d in reversed(list(enumerate(deployments)))
    ]
elif path.startswith("https://api.github.invalid/statuses/"):
    index = int(path.rsplit("/", 1)[1].split("?")[0])
    answer = [{{"state": deployments[index]["state"]}}]
else:
    sys.exit("gh stand-in: no answer for " + path)
out = subprocess.run(["jq", "-r", jq], input=json.dumps(answer), capture_output=True, text=True)
sys.stdout.write(out.stdout)
sys.exit(out.returncode)
"""


@dataclass
class StepRun:
    job: str
    name: str
    ran: bool
    outcome: str  # success, failure, skipped
    output: str = ""


@dataclass
class Run:
    steps: list[StepRun] = field(default_factory=list)
    jobs: dict[str, str] = field(default_factory=dict)  # job id: result

    def ran(self, name: str) -> bool:
        return any(s.ran and s.name == name for s in self.steps)

    def output(self) -> str:
        return "\n".join(f"--- {s.job}: {s.name} ({s.outcome})\n{s.output}" for s in self.steps)


class Runner:
    """Runs a workflow's jobs against `origin`, a bare repository standing for GitHub's,
    with the branch `branch`; `live` is the site GitHub Pages serves."""

    def __init__(self, workflow: Mapping[str, Any], origin: Path, folder: Path) -> None:
        self.workflow = workflow
        self.origin = origin
        self.folder = folder
        self.live = folder / "live"
        self.deployments = folder / "deployments.json"
        self.deployments.write_text("[]")
        tools = folder / "bin"
        tools.mkdir()
        gh = tools / "gh"
        gh.write_text(FAKE_GH.format(python=sys.executable))
        gh.chmod(0o755)
        self.path = os.pathsep.join(
            [str(tools), str(Path(sys.executable).parent), os.environ["PATH"]]
        )
        self.count = 0
        self.artifact: Path | None = None  # the site the upload set aside
        #: What happens elsewhere right before a step of this name (once).
        self.before: dict[str, Callable[[], Any]] = {}

    def run(
        self,
        event: str,
        *,
        secrets: Mapping[str, str],
        env: Mapping[str, str],
        schedule: str | None = None,
        branch: str = "main",
    ) -> Run:
        self.count += 1
        sha = _git(self.origin, "rev-parse", f"refs/heads/{branch}")
        github: dict[str, Any] = {
            "event_name": event,
            "event": {"schedule": schedule} if schedule else {},
            "ref": f"refs/heads/{branch}",
            "ref_name": branch,
            "sha": sha,
            "token": "ghs_standInTokenOfThisRun",
            "repository": "owner/site",
        }
        run = Run()
        needs_results: dict[str, dict[str, Any]] = {}
        for job_id, job in self.workflow["jobs"].items():
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            context = {
                "github": github,
                "secrets": dict(secrets),
                "needs": {n: needs_results[n] for n in needs},
            }
            default = all(needs_results[n]["result"] == "success" for n in needs)
            status = {"success": default, "failure": not default, "cancelled": False}
            if not truthy(evaluate(job.get("if", "success()"), context, status)):
                needs_results[job_id] = {"result": "skipped", "outputs": {}}
                run.jobs[job_id] = "skipped"
                continue
            result, outputs = self._job(job_id, job, context, run, env)
            needs_results[job_id] = {"result": result, "outputs": outputs}
            run.jobs[job_id] = result
        return run

    def _job(
        self,
        job_id: str,
        job: Mapping[str, Any],
        context: dict[str, Any],
        run: Run,
        env: Mapping[str, str],
    ) -> tuple[str, dict[str, str]]:
        home = self.folder / f"run{self.count}-{job_id}"
        workspace, temp = home / "workspace", home / "temp"
        workspace.mkdir(parents=True)
        temp.mkdir()
        github_env = home / "github_env"
        github_env.touch()
        steps: dict[str, dict[str, Any]] = {}
        context = {**context, "steps": steps}
        failed = False
        for number, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            status = {"success": not failed, "failure": failed, "cancelled": False}
            if not truthy(evaluate(step.get("if", "success()"), context, status)):
                run.steps.append(StepRun(job_id, name, False, "skipped"))
                if "id" in step:
                    steps[step["id"]] = {"outputs": {}, "outcome": "skipped"}
                continue
            outputs: dict[str, str] = {}
            if name in self.before:
                self.before.pop(name)()
            if "uses" in step:
                ok, said = self._uses(step, context, workspace, temp)
            elif re.match(r"python -m pip install ", step["run"]):
                ok, said = True, "played: memberkit is installed in the tests' Python"
            else:
                variables = {
                    **env,
                    **_env_file(github_env),
                    **{k: expand(str(v), context) for k, v in step.get("env", {}).items()},
                }
                output_file = home / f"output{number}"
                output_file.touch()
                script = home / f"step{number}.sh"
                script.write_text(step["run"])
                process = subprocess.run(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                    cwd=workspace,
                    env={
                        "PATH": self.path,
                        "HOME": str(home),
                        "LANG": "C.UTF-8",
                        "CI": "true",
                        "GITHUB_ACTIONS": "true",
                        "GITHUB_ENV": str(github_env),
                        "GITHUB_OUTPUT": str(output_file),
                        "GITHUB_WORKSPACE": str(workspace),
                        "GITHUB_REPOSITORY": context["github"]["repository"],
                        "GITHUB_EVENT_NAME": context["github"]["event_name"],
                        "RUNNER_TEMP": str(temp),
                        "FAKE_GH_DEPLOYMENTS": str(self.deployments),
                        **variables,
                    },
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                ok = process.returncode == 0
                said = process.stdout + process.stderr
                outputs = _env_file(output_file)
            outcome = "success" if ok else "failure"
            run.steps.append(StepRun(job_id, name, True, outcome, said))
            if "id" in step:
                steps[step["id"]] = {"outputs": outputs, "outcome": outcome}
            failed = failed or not ok
        result = "failure" if failed else "success"
        job_outputs = {k: expand(str(v), context) for k, v in job.get("outputs", {}).items()}
        return result, job_outputs

    def _uses(
        self, step: Mapping[str, Any], context: dict[str, Any], workspace: Path, temp: Path
    ) -> tuple[bool, str]:
        action = step["uses"].split("@")[0]
        given = {k: expand(str(v), context) for k, v in step.get("with", {}).items()}
        if action == "actions/checkout":
            ref = given.get("ref") or context["github"]["sha"]
            _git(workspace.parent, "clone", "-q", str(self.origin), str(workspace))
            if ref.startswith("refs/heads/"):  # the branch's newest commit, on the branch
                branch = ref.removeprefix("refs/heads/")
                _git(workspace, "checkout", "-q", "-B", branch, f"origin/{branch}")
            else:  # a commit
                _git(workspace, "checkout", "-q", "--detach", ref)
            return True, f"played: cloned, {ref} checked out"
        if action == "actions/setup-python":
            return True, "played: the tests' Python"
        if action == "actions/upload-pages-artifact":
            self.artifact = temp.parent / "artifact"
            shutil.copytree(workspace / given["path"], self.artifact)
            return True, "played: artifact copied aside"
        if action == "actions/deploy-pages":
            assert self.artifact is not None, "deploy-pages before upload-pages-artifact"
            shutil.rmtree(self.live, ignore_errors=True)
            shutil.copytree(self.artifact, self.live)
            self.artifact = None
            recorded = json.loads(self.deployments.read_text())
            recorded.append({"sha": context["github"]["sha"], "state": "success"})
            self.deployments.write_text(json.dumps(recorded))
            return True, "played: the artifact is live"
        raise AssertionError(f"no stand-in for {action}")


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _env_file(path: Path) -> dict[str, str]:
    """NAME=value lines, and NAME<<DELIMITER blocks, as $GITHUB_ENV and $GITHUB_OUTPUT."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for more in lines:
                if more == delimiter:
                    break
                block.append(more)
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


# -- expressions ---------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<call>[A-Za-z_]+)\(\)|(?P<name>[A-Za-z_][A-Za-z0-9_\-.]*))"
)


def evaluate(
    expression: Any,
    context: Mapping[str, Any],
    status: Mapping[str, bool],
    *,
    condition: bool = True,
) -> Any:
    """The value of an `if:` (`condition`), or of what a `${{ }}` holds."""
    if isinstance(expression, bool):
        return expression
    text = str(expression).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    python, names, position = [], {}, 0
    calls = {"success()", "failure()", "cancelled()", "always()"}
    uses_status = False
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot read the expression {text!r} at {position}")
        position = match.end()
        if match["string"]:
            python.append(repr(match["string"][1:-1].replace("''", "'")))
        elif match["op"]:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(match["op"], match["op"]))
        elif match["call"]:
            call = match["call"] + "()"
            if call not in calls:
                raise ValueError(f"no stand-in for the function {call}")
            uses_status = True
            python.append(repr({"always()": True}.get(call, status.get(match["call"], False))))
        else:
            key = f"v{len(names)}"
            names[key] = _lookup(context, match["name"])
            python.append(key)
    value = eval("".join(python), {"__builtins__": {}}, names)
    if condition and not uses_status:
        # An `if:` without a status function is ANDed with success().
        return value if status.get("success") else False
    return value


def _lookup(context: Mapping[str, Any], dotted: str) -> Any:
    if dotted in ("true", "false"):
        return dotted == "true"
    value: Any = context
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def truthy(value: Any) -> bool:
    return bool(value)  # as GitHub's: any string but the empty one is true


def expand(text: str, context: Mapping[str, Any]) -> str:
    """A string with each `${{ }}` replaced by its value, as the runner writes it."""

    def one(match: re.Match[str]) -> str:
        value = evaluate(match[1], context, {"success": True}, condition=False)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)
