"""`carnet ops`: the admin's deployments, run from the admin's own machine.

    carnet ops deploy|upgrade|backup|restore|pitr|onboard|rotate-keys --inventory INV
               [--limit HOST] [-e key=value ...] [--ansible-dir DIR] [--history-dir DIR]
    carnet ops history [--history-dir DIR]
    carnet ops status                 (on the node: see carnet/management/commands/ops_status.py)

Drives the playbooks of infra/ansible through ansible-runner: one line per task and
host as they finish (ok, changed, failed, unreachable, skipped), then a summary (hosts,
counts, duration, where the artifacts are). Every run is kept under
``var/ops/<UTC time>-<playbook>/`` (the run's artifacts, its events and a summary.json)
and `carnet ops history` lists them with their outcome. The exit code is ansible's:
0 when every host succeeded.

Extra variables are passed to the playbook but only their names are written to the
history: their values may be secrets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

PLAYBOOKS = {
    "deploy": "site.yml",
    "upgrade": "upgrade.yml",
    "backup": "backup.yml",
    "restore": "restore.yml",
    "pitr": "pitr.yml",
    "onboard": "onboard-practice.yml",
    "rotate-keys": "rotate-keys.yml",
}
OUTCOMES = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


def default_ansible_dir() -> Path:
    configured = os.environ.get("CARNET_ANSIBLE_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "infra" / "ansible"


def default_history_dir() -> Path:
    var = os.environ.get("CARNET_VAR_DIR")
    return Path(var) / "ops" if var else Path("var") / "ops"


class Progress:
    """Turns ansible-runner's events into one line per finished task and host."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.play = ""
        self.failures: list[str] = []

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data", {})
        if kind == "playbook_on_play_start":
            self.play = data.get("play", "")
            self.out.write(f"PLAY {self.play}\n")
        elif kind in OUTCOMES:
            host = data.get("host", "?")
            result = data.get("res", {}) or {}
            outcome = OUTCOMES[kind]
            if outcome == "ok" and result.get("changed"):
                outcome = "changed"
            if data.get("ignore_errors") and outcome == "failed":
                outcome = "ignored"
            self.counts[host][outcome] += 1
            task = data.get("task", "")
            line = f"  {outcome:<11} {host:<20} {task}"
            if outcome in {"failed", "unreachable"}:
                message = str(result.get("msg") or result.get("stderr") or "").strip()
                first = message.splitlines()[0][:200] if message else ""
                line += f"  -- {first}"
                self.failures.append(f"{host}: {task}: {message[:2000]}")
            totals = self.counts[host]
            line += (
                f"   [{host}: ok={totals['ok'] + totals['changed']}"
                f" changed={totals['changed']} failed={totals['failed']}]"
            )
            self.out.write(line + "\n")
        self.out.flush()
        return True  # keep the event in the artifacts


def parse_extravars(pairs: list[str]) -> dict[str, Any]:
    extravars: dict[str, Any] = {}
    for pair in pairs:
        if pair.startswith("@"):
            extravars.update(json.loads(Path(pair[1:]).read_text()))
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"carnet ops: -e wants key=value (or @file.json), not {pair!r}")
        extravars[key] = value
    return extravars


def run(
    action: str,
    inventory: Path,
    *,
    limit: str | None = None,
    extravars: dict[str, Any] | None = None,
    ansible_dir: Path | None = None,
    history_dir: Path | None = None,
    out: TextIO = sys.stdout,
) -> int:
    import ansible_runner

    ansible_dir = (ansible_dir or default_ansible_dir()).resolve()
    playbook = PLAYBOOKS.get(action, action)
    if not (ansible_dir / playbook).is_file():
        out.write(f"carnet ops: no playbook {playbook} in {ansible_dir}\n")
        return 2
    if not inventory.exists():
        out.write(f"carnet ops: no inventory at {inventory}\n")
        return 2
    started_at = datetime.now(UTC)
    name = f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{Path(playbook).stem}"
    history = (history_dir or default_history_dir()).resolve()
    run_dir = history / name
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = history / f"{name}-{suffix}"
    run_dir.mkdir(parents=True)
    progress = Progress(out)
    out.write(
        f"carnet ops {action}: {playbook} on {inventory}"
        + (f" (limit {limit})" if limit else "")
        + "\n"
    )
    # ansible-playbook is installed next to this Python (the same virtualenv).
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
    began = time.monotonic()
    runner = ansible_runner.run(
        private_data_dir=str(run_dir),
        project_dir=str(ansible_dir),
        playbook=playbook,
        inventory=str(inventory.resolve()),
        limit=limit,
        extravars=extravars or {},
        ident="run",
        event_handler=progress,
        quiet=True,
        envvars={"ANSIBLE_CONFIG": str(ansible_dir / "ansible.cfg")}
        if (ansible_dir / "ansible.cfg").is_file()
        else {},
    )
    duration = time.monotonic() - began
    stats = runner.stats or {}
    hosts = sorted(
        {host for counts in stats.values() if isinstance(counts, dict) for host in counts}
        | set(progress.counts)
    )
    per_host = {
        host: {
            "ok": int(stats.get("ok", {}).get(host, 0)),
            "changed": int(stats.get("changed", {}).get(host, 0)),
            "failed": int(stats.get("failures", {}).get(host, 0)),
            "unreachable": int(stats.get("dark", {}).get(host, 0)),
            "skipped": int(stats.get("skipped", {}).get(host, 0)),
        }
        for host in hosts
    }
    rc = int(runner.rc if runner.rc is not None else 1)
    summary = {
        "action": action,
        "playbook": playbook,
        "inventory": str(inventory.resolve()),
        "limit": limit,
        "extravars": sorted((extravars or {}).keys()),  # names only: values may be secrets
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_seconds": round(duration, 1),
        "status": runner.status,
        "rc": rc,
        "hosts": per_host,
        "failures": progress.failures,
        "artifacts": str(run_dir / "artifacts" / "run"),
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    # The run's copy of the extra variables may hold secrets: keep the names only.
    for leftover in (run_dir / "env" / "extravars",):
        if leftover.exists():
            leftover.write_text(json.dumps(dict.fromkeys(extravars or {}, "<hidden>")))
    write_summary(summary, out)
    return rc


def write_summary(summary: dict[str, Any], out: TextIO) -> None:
    out.write("\n")
    verdict = "SUCCEEDED" if summary["rc"] == 0 else "FAILED"
    out.write(
        f"{summary['action']} ({summary['playbook']}) {verdict}: {summary['status']},"
        f" exit {summary['rc']}, {summary['duration_seconds']} s\n"
    )
    out.write(f"  {'host':<20} {'ok':>4} {'changed':>8} {'failed':>7} {'unreachable':>12}\n")
    for host, counts in summary["hosts"].items():
        out.write(
            f"  {host:<20} {counts['ok']:>4} {counts['changed']:>8} {counts['failed']:>7}"
            f" {counts['unreachable']:>12}\n"
        )
    if not summary["hosts"]:
        out.write("  (no host ran: check the inventory and --limit)\n")
        stdout = Path(summary["artifacts"]) / "stdout"
        if stdout.is_file():
            for line in stdout.read_text(errors="replace").splitlines()[-10:]:
                out.write(f"  | {line}\n")
    for failure in summary["failures"]:
        out.write(f"  failed: {failure.splitlines()[0] if failure else ''}\n")
    out.write(f"  artifacts: {summary['artifacts']}\n")


def history(history_dir: Path | None = None, out: TextIO = sys.stdout) -> int:
    root = history_dir or default_history_dir()
    runs = sorted(root.glob("*/summary.json")) if root.is_dir() else []
    if not runs:
        out.write(f"No run recorded in {root}.\n")
        return 0
    for path in runs:
        summary = json.loads(path.read_text())
        hosts = summary["hosts"]
        failed = sum(c["failed"] + c["unreachable"] for c in hosts.values())
        changed = sum(c["changed"] for c in hosts.values())
        outcome = "ok" if summary["rc"] == 0 else "FAILED"
        out.write(
            f"{summary['started_at']}  {summary['action']:<12} {outcome:<7}"
            f" hosts={len(hosts)} changed={changed} failed={failed}"
            f" {summary['duration_seconds']}s  {path.parent}\n"
        )
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="carnet ops", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", help=f"{', '.join(PLAYBOOKS)}, history, or a playbook file")
    parser.add_argument("--inventory", "-i", type=Path)
    parser.add_argument("--limit", "-l")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], dest="extravars")
    parser.add_argument("--ansible-dir", type=Path)
    parser.add_argument("--history-dir", type=Path)
    options = parser.parse_args(argv)
    if options.action == "history":
        return history(options.history_dir)
    if options.inventory is None:
        parser.error("--inventory is required")
    return run(
        options.action,
        options.inventory,
        limit=options.limit,
        extravars=parse_extravars(options.extravars),
        ansible_dir=options.ansible_dir,
        history_dir=options.history_dir,
    )
