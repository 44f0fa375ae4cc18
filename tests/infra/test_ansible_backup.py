"""Backups on real systemd hosts: a backup taken on one node cannot be decrypted there
(the node holds the backup keys' public halves only), and `restore.yml` brings it back
on a second, fresh node with the same rows and a verifying audit trail. WAL segments
are archived encrypted by PostgreSQL's archive_command. The same booted nodes then run
`onboard-practice.yml` and `rotate-keys.yml`.

Two Debian 12 hosts booted with systemd-nspawn (tests/infra/hosts.py), deployed by
site.yml, driven by ansible-runner over SSH.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra import hosts

pytestmark = pytest.mark.skipif(
    bool(hosts.missing_tools()), reason=f"missing tools: {hosts.missing_tools()}"
)


@dataclass
class Nodes:
    old: hosts.Host
    new: hosts.Host
    old_inventory: Path
    new_inventory: Path
    extravars: dict
    secret_key: Path
    fingerprint: str
    fetched: Path
    tmp: Path


def inventory_for(tmp: Path, name: str, host: hosts.Host, public_key: Path) -> Path:
    inventory = hosts.write_inventory(tmp / name, {"primary": [host]})
    keys = inventory / "files" / "backup-keys"
    keys.mkdir(parents=True)
    shutil.copy(public_key, keys / public_key.name)
    return inventory


def play(playbook: str, inventory: Path, extravars: dict) -> hosts.PlaybookResult:
    result = hosts.run_playbook(playbook, inventory, extravars)
    assert result.ok, result.failure_report()
    return result


def psql(host: hosts.Host, sql: str) -> str:
    return host.ssh(f"runuser -u postgres -- psql -XAtd carnet -c {json.dumps(sql)}").stdout


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    tmp = tmp_path_factory.mktemp("ansible-backup")
    public_key, secret_key, fingerprint = hosts.cooperative_key(tmp)
    wheelhouse = hosts.ensure_wheelhouse()
    extravars = hosts.node_extravars(wheelhouse, hosts.test_secrets())
    with hosts.boot_hosts(["bk-old", "bk-new"]) as (old, new):
        both = hosts.write_inventory(tmp / "both", {"primary": [old, new]})
        play("site.yml", both, extravars)
        yield Nodes(
            old=old,
            new=new,
            old_inventory=inventory_for(tmp, "old", old, public_key),
            new_inventory=inventory_for(tmp, "new", new, public_key),
            extravars=extravars,
            secret_key=secret_key,
            fingerprint=fingerprint,
            fetched=tmp / "fetched",
            tmp=tmp,
        )


COUNTS = {
    "patients": "SELECT count(*) FROM records_patient",
    "encounters": "SELECT count(*) FROM records_encounter",
    "invoices": "SELECT count(*) FROM billing_invoice",
    "audit events": "SELECT count(*) FROM audit_event",
    "audit anchors": "SELECT count(*) FROM audit_anchor",
}
SAMPLE = (
    "SELECT string_agg(birth_name || ' ' || given_names || ' ' || nir, ', ' ORDER BY id)"
    " FROM records_patient"
)


def test_a_backup_cannot_be_read_on_its_node_and_restores_on_a_fresh_one(nodes: Nodes) -> None:
    old, new = nodes.old, nodes.new
    old.ssh("/usr/local/sbin/carnet demo_data --patients 10", timeout=600)
    old.ssh("/usr/local/sbin/carnet audit anchor")
    before = {label: psql(old, sql).strip() for label, sql in COUNTS.items()}
    # Ten generated, and Odile Vernet, the demo's patient for trying the safety checks
    # (made when the reference data is loaded, as on a deployed node).
    assert int(before["patients"]) == 11 and int(before["invoices"]) > 0

    started = time.monotonic()
    play(
        "backup.yml",
        nodes.old_inventory,
        {**nodes.extravars, "backups_fetch_dir": str(nodes.fetched)},
    )
    backup_seconds = time.monotonic() - started
    fetched = nodes.fetched / old.name
    manifests = sorted(fetched.glob("*.manifest.json"))
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text())
    assert manifest["recipients"] == [nodes.fingerprint]
    dump = manifest["dump"]["name"]

    # The node has the public key only: no secret key in its backup keyring, and gpg on
    # the node cannot decrypt the backup it just wrote.
    keyring_secrets = old.ssh(
        "h=$(mktemp -d) && gpg --homedir $h --batch --import /etc/carnet-backup-keys/*.asc"
        " 2>/dev/null; gpg --homedir $h --batch --list-secret-keys --with-colons; rm -rf $h"
    ).stdout
    assert "sec:" not in keyring_secrets
    decrypt = old.ssh(
        "h=$(mktemp -d) && gpg --homedir $h --batch --import /etc/carnet-backup-keys/*.asc"
        f" 2>/dev/null; gpg --homedir $h --batch --decrypt /var/backups/carnet/{dump}"
        " > /dev/null; echo rc=$?; rm -rf $h",
    )
    assert "No secret key" in decrypt.stderr and "rc=2" in decrypt.stdout
    refused = old.ssh(
        "h=$(runuser -u carnet -- mktemp -d) && runuser -u carnet -- gpg --homedir $h --batch"
        " --import /etc/carnet-backup-keys/*.asc 2>/dev/null;"
        f" /usr/local/sbin/carnet restore /var/backups/carnet/{dump} --gnupg-home $h",
        check=False,
    )
    assert refused.returncode != 0 and "cannot read its backups, by design" in refused.stderr

    # WAL segments go through the encrypting archive_command.
    psql(old, "SELECT pg_switch_wal()")
    for _ in range(60):
        archived = old.ssh("ls /var/backups/carnet-wal/", check=False).stdout.split()
        if archived:
            break
        time.sleep(1)
    assert archived and all(name.endswith(".gpg") for name in archived), archived
    stats = psql(old, "SELECT archived_count, failed_count FROM pg_stat_archiver").strip()
    assert int(stats.split("|")[0]) >= 1, stats

    # Restore on the fresh node, with the backup key brought for the restore only.
    started = time.monotonic()
    result = play(
        "restore.yml",
        nodes.new_inventory,
        {
            **nodes.extravars,
            "restore_from": str(fetched),
            "restore_private_key": str(nodes.secret_key),
        },
    )
    restore_seconds = time.monotonic() - started
    assert "Audit trail intact" in json.dumps([e.get("stdout", "") for e in result.events])
    after = {label: psql(new, sql).strip() for label, sql in COUNTS.items()}
    assert after == before
    assert psql(new, SAMPLE) == psql(old, SAMPLE)
    verify = new.ssh("/usr/local/sbin/carnet audit verify")
    assert "Audit trail intact" in verify.stdout and "1 anchors checked" in verify.stdout
    # The key is gone from the new node, and so are the copies of the backup.
    assert new.ssh("ls -A /var/lib/carnet/restore").stdout.strip() == ""
    assert new.ssh("systemctl is-active carnet-web").stdout.strip() == "active"
    print(f"[timing] backup.yml {backup_seconds:.1f} s, restore.yml {restore_seconds:.1f} s")
