"""`carnet backup_loop`: the container's nightly backup (for hosts without systemd
timers; on a systemd host the Ansible backups role installs a timer instead).

    carnet backup_loop [--at 02:00] [--keep 7]   sleep until the time, back up, prune, repeat
    carnet backup_loop --check                     healthcheck: exit 1 if the last night failed

Each run's outcome is written to ``$CARNET_BACKUP_DIR/.last-run.json``; the healthcheck
reads it. Only the newest ``--keep`` backups stay here: copy them off the host (see
docs/operations.md), which is what makes them backups.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess  # nosec B404
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

STATUS = ".last-run.json"


def backup_dir() -> Path:
    return Path(os.environ.get("CARNET_BACKUP_DIR", "/var/lib/carnet/backups"))


def seconds_until(at: str, now: datetime) -> float:
    hour, minute = (int(part) for part in at.split(":"))
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


def prune(directory: Path, keep: int) -> list[str]:
    """Keep the newest `keep` complete backups (a manifest and its files)."""
    removed = []
    manifests = sorted(directory.glob("carnet-*.manifest.json"))
    for manifest in manifests[:-keep] if keep > 0 else []:
        stem = manifest.name.removesuffix(".manifest.json")
        for path in directory.glob(f"{stem}.*"):
            path.unlink()
            removed.append(path.name)
    return removed


def run_once(keep: int) -> int:
    directory = backup_dir()
    carnet = str(Path(sys.executable).with_name("carnet"))
    started = datetime.now(UTC)
    done = subprocess.run(  # nosec B603
        [carnet, "backup", "--output-dir", str(directory)], check=False
    )
    removed = prune(directory, keep) if done.returncode == 0 else []
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STATUS).write_text(
        json.dumps(
            {
                "started_at": started.isoformat(timespec="seconds"),
                "rc": done.returncode,
                "pruned": removed,
            }
        )
    )
    return done.returncode


def check(max_age_hours: float = 26) -> int:
    status = backup_dir() / STATUS
    if not status.exists():
        return 0  # no night has passed yet
    data = json.loads(status.read_text())
    age = datetime.now(UTC) - datetime.fromisoformat(data["started_at"])
    if data["rc"] != 0:
        print(f"the last backup failed (exit {data['rc']}) at {data['started_at']}")
        return 1
    if age > timedelta(hours=max_age_hours):
        print(f"no backup since {data['started_at']}")
        return 1
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="carnet backup_loop")
    parser.add_argument("--at", default=os.environ.get("CARNET_BACKUP_AT", "02:00"))
    parser.add_argument("--keep", type=int, default=int(os.environ.get("CARNET_BACKUP_KEEP", "7")))
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--now", action="store_true", help="one backup now, then exit")
    options = parser.parse_args(argv)
    if options.check:
        return check()
    if options.now:
        return run_once(options.keep)
    while True:
        wait = seconds_until(options.at, datetime.now().astimezone())
        print(f"carnet backup_loop: next backup in {wait / 3600:.1f} h (at {options.at})")
        sys.stdout.flush()
        time.sleep(wait)
        run_once(options.keep)
