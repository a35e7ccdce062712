"""The `dagshift-check` and `dagshift-validate` hooks of .pre-commit-hooks.yaml, end to end with the
real pre-commit: it clones a hook repository made of this working tree, pip-installs dagshift from
it into its own environment, and runs the hooks in a project repository, as a user's would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
DAGSHIFT = Path(sys.executable).parent / "dagshift"
# What pip needs to build and install dagshift, and the hook definitions.
HOOK_REPO_PATHS = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "compiler", "templates"]

CONFIG = """\
[[pipelines]]
file = "pipelines/minimal.yaml"
targets = ["airflow", "argo"]
output = "build"
"""


def git_env(tmp_path: Path) -> dict[str, str]:
    """git with no user or system config (no signing, hooks or templates of this machine), and fixed
    identities and dates so the hook repository's commit is the same for the same tree."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    return {**os.environ, "GIT_CONFIG_GLOBAL": str(empty), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
            "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
            "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z"}


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def checked(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = run(*args, cwd=cwd, env=env)
    assert done.returncode == 0, f"{' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def hook_repository(tmp_path: Path, env: dict[str, str]) -> tuple[Path, str]:
    """A git repository holding this working tree's files (tracked and new, not ignored): what a
    user's pre-commit would clone. Returns its path and commit."""
    listed = checked("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *HOOK_REPO_PATHS,
                     cwd=ROOT, env=env).split("\0")
    repo = tmp_path / "hook-repo"
    for relative in filter(None, listed):
        source = ROOT / relative
        if source.is_file():  # a tracked file may be deleted in the working tree
            (repo / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / relative)
    assert (repo / ".pre-commit-hooks.yaml").is_file()
    checked("git", "init", "-q", cwd=repo, env=env)
    checked("git", "add", "-A", cwd=repo, env=env)
    checked("git", "commit", "-q", "-m", "dagshift under test", cwd=repo, env=env)
    return repo, checked("git", "rev-parse", "HEAD", cwd=repo, env=env).strip()


@pytest.mark.slow
def test_hooks_in_a_real_pre_commit(tmp_path: Path) -> None:
    for tool in (PRE_COMMIT, DAGSHIFT):
        assert tool.is_file(), f"{tool} not found: install the test extras into this venv (pip install -e '.[test]')"
    assert shutil.which("git"), "git is needed by pre-commit and by this test: install it"
    env = git_env(tmp_path)
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")  # a fresh environment, built from the clone
    hook_repo, rev = hook_repository(tmp_path, env)

    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "minimal.yaml", project / "pipelines" / "minimal.yaml")
    (project / "dagshift.toml").write_text(CONFIG)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: dagshift-check\n  - id: dagshift-validate\n")
    checked(str(DAGSHIFT), "compile", "-q", cwd=project, env=env)
    checked("git", "init", "-q", cwd=project, env=env)
    checked("git", "add", "-A", cwd=project, env=env)
    checked("git", "commit", "-q", "-m", "pipelines and generated files", cwd=project, env=env)

    def pre_commit(*args: str) -> subprocess.CompletedProcess:
        return run(str(PRE_COMMIT), *args, cwd=project, env=env)

    clean = pre_commit("run", "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "dagshift generated files are up to date" in clean.stdout and "Failed" not in clean.stdout

    generated = project / "build" / "airflow" / "minimal.py"
    generated.write_text(generated.read_text().replace("train >> evaluate", "train >> evaluate  # by hand"))
    stale = pre_commit("run", "--all-files")
    assert stale.returncode != 0
    assert "- hook id: dagshift-check" in stale.stdout
    assert "stale: build/airflow/minimal.py" in stale.stdout

    # As a git hook: committing the hand edit is refused, and so is a pipeline change committed
    # without its regenerated files; with them, the commit goes through.
    checked(str(PRE_COMMIT), "install", cwd=project, env=env)
    checked("git", "add", "-A", cwd=project, env=env)
    refused = run("git", "commit", "-m", "hand edit", cwd=project, env=env)
    assert refused.returncode != 0 and "stale: build/airflow/minimal.py" in refused.stdout + refused.stderr
    checked(str(DAGSHIFT), "compile", "-q", cwd=project, env=env)
    pipeline = project / "pipelines" / "minimal.yaml"
    pipeline.write_text(pipeline.read_text().replace("The six-stage ML DAG", "The 6-stage ML DAG"))
    checked("git", "add", "-A", cwd=project, env=env)
    refused = run("git", "commit", "-m", "pipeline only", cwd=project, env=env)
    assert refused.returncode != 0 and "stale: build/argo/workflow.yaml" in refused.stdout + refused.stderr
    checked(str(DAGSHIFT), "compile", "-q", cwd=project, env=env)
    checked("git", "add", "-A", cwd=project, env=env)
    checked("git", "commit", "-q", "-m", "pipeline and its generated files", cwd=project, env=env)
    assert pre_commit("run", "--all-files").returncode == 0

    # An invalid pipeline: the validate hook names it (and the check hook fails too: nothing compiles).
    (project / "pipelines" / "minimal.yaml").write_text("name: minimal\ntasks:\n  a: {after: [missing]}\n")
    invalid = pre_commit("run", "--all-files")
    assert invalid.returncode != 0
    assert "- hook id: dagshift-validate" in invalid.stdout
    assert "pipelines/minimal.yaml:3:" in invalid.stdout
