"""The Ansible roles and playbooks are lint-clean: yamllint with the committed config,
ansible-lint with the production profile (infra/ansible/.ansible-lint)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ANSIBLE_DIR = Path(__file__).resolve().parents[2] / "infra" / "ansible"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return str(path)


def lint(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", NO_COLOR="1")
    return subprocess.run(
        command, cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=900
    )


def test_yamllint_is_clean() -> None:
    result = lint([tool("yamllint"), "--strict", "-c", ".yamllint", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_production_profile_is_clean() -> None:
    result = lint([tool("ansible-lint"), "--nocolor", "--profile", "production", "."])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Profile 'production' was required, and it passed" in output


def tasks_delegated_to_the_backup_host() -> list[tuple[str, dict[str, object]]]:
    import yaml

    found = []
    for path in sorted((ANSIBLE_DIR / "roles").glob("*/tasks/*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            if "backups_target" in str(task.get("delegate_to", "")):
                found.append((f"{path.relative_to(ANSIBLE_DIR)}: {task.get('name')}", task))
    return found


def test_the_backup_host_is_changed_for_one_node_at_a_time() -> None:
    # The data nodes of a failover layout share one backup host and run in the same play:
    # two concurrent useradd calls fail ("user already exists") and two concurrent edits
    # of authorized_keys can lose one node's key.
    tasks = tasks_delegated_to_the_backup_host()
    assert len(tasks) >= 6
    unthrottled = [name for name, task in tasks if task.get("throttle") != 1]
    assert unthrottled == []
