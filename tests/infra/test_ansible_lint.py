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
