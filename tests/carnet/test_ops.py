"""`carnet ops` drives real playbooks through ansible-runner (here against localhost,
`connection: local`): a line per task and host, a summary, the run kept as history; a
failing playbook exits non-zero and says which task failed where."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CARNET = str(Path(sys.executable).with_name("carnet"))

SITE = """\
- name: A tiny deployment
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Write the node's marker
      ansible.builtin.copy:
        content: "{{ marker }}\\n"
        dest: "{{ target }}/marker"
        mode: "0644"
    - name: Read it back
      ansible.builtin.command: cat {{ target }}/marker
      register: marker_read
      changed_when: false
    - name: Check it
      ansible.builtin.assert:
        that: marker_read.stdout == marker
"""
BACKUP_FAILS = """\
- name: A backup that cannot work
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Look at the marker
      ansible.builtin.command: cat {{ target }}/marker
      changed_when: false
    - name: Run a backup without its keys
      ansible.builtin.command: /bin/false
      changed_when: false
    - name: Never reached
      ansible.builtin.debug:
        msg: unreachable
"""


def carnet_ops(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        [
            CARNET,
            "ops",
            *args,
            "--ansible-dir",
            str(tmp / "ansible"),
            "--history-dir",
            str(tmp / "ops"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_ops_shows_progress_a_summary_and_keeps_history(tmp_path: Path) -> None:
    ansible = tmp_path / "ansible"
    ansible.mkdir()
    (ansible / "site.yml").write_text(SITE)
    (ansible / "backup.yml").write_text(BACKUP_FAILS)
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        f"[nodes]\nnode1 ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    target = tmp_path / "target"
    target.mkdir()

    first = carnet_ops(
        tmp_path,
        "deploy",
        "--inventory",
        str(inventory),
        "-e",
        f"target={target}",
        "-e",
        "marker=lyon-1",
    )
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "PLAY A tiny deployment" in out
    lines = [line.split() for line in out.splitlines() if line.startswith("  ")]
    assert lines[0][:6] == ["changed", "node1", "Write", "the", "node's", "marker"]
    assert lines[1][:5] == ["ok", "node1", "Read", "it", "back"]
    assert "deploy (site.yml) SUCCEEDED" in out
    summary_row = next(row for row in lines if row[:1] == ["node1"] and row[1].isdigit())
    assert summary_row[1:5] == ["3", "1", "0", "0"]  # ok, changed, failed, unreachable
    assert (target / "marker").read_text() == "lyon-1\n"

    second = carnet_ops(
        tmp_path,
        "deploy",
        "--inventory",
        str(inventory),
        "-e",
        f"target={target}",
        "-e",
        "marker=lyon-1",
    )
    assert second.returncode == 0
    assert "node1                   3        0       0            0" in second.stdout

    failing = carnet_ops(
        tmp_path, "backup", "--inventory", str(inventory), "-e", f"target={target}"
    )
    assert failing.returncode != 0
    assert "backup (backup.yml) FAILED" in failing.stdout
    assert "failed      node1" in failing.stdout
    assert "failed: node1: Run a backup without its keys" in failing.stdout
    assert "Never reached" not in failing.stdout

    runs = sorted((tmp_path / "ops").iterdir())
    assert [run.name.split("-", 1)[1] for run in runs] == ["site", "site", "backup"]
    summaries = [json.loads((run / "summary.json").read_text()) for run in runs]
    assert [s["rc"] == 0 for s in summaries] == [True, True, False]
    assert summaries[0]["hosts"]["node1"]["changed"] == 1
    assert summaries[2]["hosts"]["node1"]["failed"] == 1
    assert summaries[0]["extravars"] == ["marker", "target"]
    for run in runs:
        events = list((run / "artifacts" / "run" / "job_events").glob("*.json"))
        assert events, run
        # Extra variables may be secrets: their values stay out of the history's files.
        for path in run.rglob("*"):
            if (path.is_file() and path.suffix != ".json") or path.name == "extravars":
                assert "lyon-1" not in path.read_text(errors="replace"), path

    listed = carnet_ops(tmp_path, "history")
    assert listed.returncode == 0
    rows = listed.stdout.splitlines()
    assert len(rows) == 3
    assert [row.split()[1:3] for row in rows] == [
        ["deploy", "ok"],
        ["deploy", "ok"],
        ["backup", "FAILED"],
    ]
    assert "changed=1" in rows[0] and "changed=0" in rows[1] and "failed=1" in rows[2]


def test_ops_refuses_an_unknown_playbook_or_inventory(tmp_path: Path) -> None:
    (tmp_path / "ansible").mkdir()
    done = carnet_ops(tmp_path, "deploy", "--inventory", str(tmp_path / "inventory.ini"))
    assert done.returncode == 2 and "no playbook site.yml" in done.stdout


def test_every_action_names_a_playbook_of_the_repository() -> None:
    from carnet import ops

    ansible = Path(__file__).resolve().parents[2] / "infra" / "ansible"
    missing = [name for name in ops.PLAYBOOKS.values() if not (ansible / name).is_file()]
    assert missing == []
    assert ops.PLAYBOOKS["pitr"] == "pitr.yml"
