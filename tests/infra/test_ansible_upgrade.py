"""`upgrade.yml` takes its backup BEFORE the new release's migrations: release N is
deployed by site.yml with some data, release N+1 (a copy of the source tree with one
more migration, a probe table) is installed by upgrade.yml; the backup the upgrade took
does not hold the new migration while the live database does, and the node serves its
login page over HTTPS again."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from tests.infra import hosts

pytestmark = pytest.mark.skipif(
    bool(hosts.missing_tools()), reason=f"missing tools: {hosts.missing_tools()}"
)

PROBE_APP = "records"
PROBE = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("records", "{previous}")]
    operations = [
        migrations.RunSQL(
            "CREATE TABLE upgrade_probe (id bigserial PRIMARY KEY, note text NOT NULL)",
            "DROP TABLE upgrade_probe",
        )
    ]
"""


def next_release(current: hosts.Wheelhouse, tmp: Path) -> tuple[hosts.Wheelhouse, str]:
    """Release N+1: release N's wheels, with Carnet's own wheel rebuilt from a copy of
    the source tree that has one more migration."""
    src = tmp / "src"
    src.mkdir()
    shutil.copy(hosts.ROOT / "pyproject.toml", src)
    shutil.copy(hosts.ROOT / "README.md", src)
    shutil.copytree(
        hosts.ROOT / "services",
        src / "services",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    migrations = src / "services" / PROBE_APP / "migrations"
    previous = max(p.stem for p in migrations.glob("[0-9][0-9][0-9][0-9]_*.py"))
    number = int(previous[:4]) + 1
    name = f"{number:04d}_upgrade_probe"
    (migrations / f"{name}.py").write_text(PROBE.format(previous=previous))
    wheels = tmp / "wheels"
    wheels.mkdir()
    with tarfile.open(current.archive) as archive:
        for member in archive.getmembers():
            if not member.name.startswith("carnet-"):
                archive.extract(member, wheels, filter="data")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(src)],
        check=True,
        capture_output=True,
    )
    release = f"{current.release}-next"
    tar = tmp / f"carnet-release-{release}.tar"
    with tarfile.open(tar, "w") as out:
        for wheel in sorted(wheels.glob("*.whl")):
            out.add(wheel, arcname=wheel.name)
    return hosts.Wheelhouse(archive=tar, release=release), name


@dataclass
class Deployed:
    node: hosts.Host
    inventory: Path
    current: hosts.Wheelhouse
    secrets: dict[str, str]
    keys: Path


def backup_public_key(tmp: Path, name: str) -> tuple[Path, str]:
    home = tmp / f"gnupg-{name}"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", f"{name} <{name}@coop.example.org>", "ed25519", "sign", "never"],
        check=True,
        capture_output=True,
    )
    listed = subprocess.run(
        [*gpg, "--with-colons", "--list-keys"], check=True, capture_output=True, text=True
    ).stdout
    fingerprint = next(line.split(":")[9] for line in listed.splitlines() if line[:3] == "fpr")
    subprocess.run(
        [*gpg, "--quick-add-key", fingerprint, "cv25519", "encr", "never"],
        check=True,
        capture_output=True,
    )
    public = tmp / f"{name}.asc"
    public.write_bytes(
        subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True).stdout
    )
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)
    return public, fingerprint


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """One node deployed by site.yml with release N, the demo practice on it."""
    tmp = tmp_path_factory.mktemp("upgrade")
    current = hosts.ensure_wheelhouse()
    public, _ = backup_public_key(tmp, "cooperative-2026")
    secrets = hosts.test_secrets()
    with hosts.boot_hosts(["upgrade"]) as (node,):
        inventory = hosts.write_inventory(tmp / "inventory", {"primary": [node]})
        keys = inventory / "files" / "backup-keys"
        keys.mkdir(parents=True)
        shutil.copy(public, keys / public.name)
        site = hosts.run_playbook("site.yml", inventory, hosts.node_extravars(current, secrets))
        assert site.ok, site.failure_report()
        node.ssh("/usr/local/sbin/carnet demo_data --patients 5", timeout=600)
        yield Deployed(node, inventory, current, secrets, keys)


def test_upgrade_backs_up_before_migrating(deployed: Deployed, tmp_path: Path) -> None:
    node, inventory, secrets = deployed.node, deployed.inventory, deployed.secrets
    upcoming, probe = next_release(deployed.current, tmp_path)
    fetched = tmp_path / "fetched"
    started = time.monotonic()
    upgrade = hosts.run_playbook(
        "upgrade.yml",
        inventory,
        hosts.node_extravars(upcoming, secrets, upgrade_backups_fetch_dir=str(fetched)),
    )
    upgrade_seconds = time.monotonic() - started
    assert upgrade.ok, upgrade.failure_report()

    # The backup the upgrade took, fetched to the controller, predates the migration.
    manifests = list((fetched / node.name).glob("*.manifest.json"))
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text())
    assert [PROBE_APP, probe] not in manifest["migrations"]
    live = node.ssh(
        "runuser -u postgres -- psql -XAtd carnet -c"
        f" \"SELECT applied FROM django_migrations WHERE app = '{PROBE_APP}'"
        f" AND name = '{probe}'\""
    ).stdout.strip()
    assert live, "the new migration was not applied"
    applied = datetime.fromisoformat(re.sub(r"([+-]\d\d)$", r"\1:00", live.replace(" ", "T")))
    assert datetime.fromisoformat(manifest["created_at"]) <= applied
    assert len(manifest["migrations"]) >= 20
    probe_table = node.ssh(
        "runuser -u postgres -- psql -XAtd carnet -c \"SELECT to_regclass('upgrade_probe')\""
    ).stdout.strip()
    assert probe_table == "upgrade_probe"
    current_release = node.ssh("readlink /opt/carnet/current").stdout.strip()
    assert current_release.endswith(upcoming.release)

    # The node came back: the login page over HTTPS through nginx, the patients still there.
    login = node.ssh(
        f"curl -sk --max-time 10 https://127.0.0.1/connexion/ -H 'Host: {node.ip}'"
    ).stdout
    assert "Se connecter" in login
    patients = node.ssh(
        "runuser -u postgres -- psql -XAtd carnet -c 'SELECT count(*) FROM records_patient'"
    ).stdout.strip()
    assert patients == "6"  # five generated, and the demo's safety-check patient
    print(f"[timing] upgrade.yml {upgrade_seconds:.1f} s")


def test_onboarding_and_key_rotation_on_the_node(deployed: Deployed, tmp_path: Path) -> None:
    node, inventory = deployed.node, deployed.inventory
    extravars = hosts.node_extravars(deployed.current, deployed.secrets)
    # These playbooks do not install a release: the release variables do not matter.

    onboarding = tmp_path / "onboarding"
    result = hosts.run_playbook(
        "onboard-practice.yml",
        inventory,
        {
            **extravars,
            "practice_slug": "cabinet-des-lilas",
            "practice_name": "Cabinet des Lilas",
            "admin_username": "marie.dupont",
            "admin_full_name": "Marie Dupont",
            "onboard_output_dir": str(onboarding),
        },
    )
    assert result.ok, result.failure_report()
    details_file = onboarding / "cabinet-des-lilas.json"
    assert oct(details_file.stat().st_mode & 0o777) == "0o600"
    details = json.loads(details_file.read_text())
    password = details["admin"]["one_time_password"]
    assert details["url"].endswith("/p/cabinet-des-lilas/")
    # The one-time password is on the controller only, never in the play's output.
    assert password not in json.dumps(result.events)
    role = node.ssh(
        'runuser -u postgres -- psql -XAtd carnet -c "SELECT m.role FROM accounts_membership m'
        " JOIN accounts_person p ON p.id = m.person_id JOIN practices_practice r"
        " ON r.id = m.practice_id WHERE p.username = 'marie.dupont'"
        " AND r.slug = 'cabinet-des-lilas'\""
    ).stdout.strip()
    assert role == "practice_admin"
    # The same practice again: refused, the play fails.
    again = hosts.run_playbook(
        "onboard-practice.yml",
        inventory,
        {
            **extravars,
            "practice_slug": "cabinet-des-lilas",
            "practice_name": "Cabinet des Lilas",
            "admin_username": "autre.admin",
            "admin_full_name": "Autre",
            "onboard_output_dir": str(onboarding),
        },
    )
    assert not again.ok

    # Rotate the new practice's sharing key, and replace the backup recipient.
    first = node.ssh(
        "/usr/local/sbin/carnet directory listing --practice cabinet-des-lilas"
        " --gateway https://lyon.example.org/"
    ).stdout
    before = json.loads(first)
    new_key, new_fingerprint = backup_public_key(tmp_path, "cooperative-2027")
    old_keys = sorted(p.name for p in deployed.keys.iterdir())
    shutil.copy(new_key, deployed.keys / new_key.name)
    for name in old_keys:
        (deployed.keys / name).unlink()
    listings = tmp_path / "listings"
    rotated = hosts.run_playbook(
        "rotate-keys.yml",
        inventory,
        {
            **extravars,
            "rotate_practices": ["cabinet-des-lilas"],
            "rotate_gateway": "https://lyon.example.org/",
            "rotate_output_dir": str(listings),
        },
    )
    assert rotated.ok, rotated.failure_report()
    after = json.loads((listings / node.name / "cabinet-des-lilas.json").read_text())
    assert json.dumps(after) != json.dumps(before)
    assert node.ssh("ls /etc/carnet-backup-keys").stdout.split() == [new_key.name]
    backup = node.ssh(
        "/usr/local/sbin/carnet backup --output-dir /var/backups/carnet"
        " --keyring /etc/carnet-backup-keys"
    ).stdout
    manifest_path = re.search(r"Backup written: (\S+)", backup)
    assert manifest_path
    manifest = json.loads(node.ssh(f"cat {manifest_path.group(1)}").stdout)
    assert manifest["recipients"] == [new_fingerprint]
