"""Backups on real systemd hosts: a backup taken on one node cannot be decrypted there
(the node holds the backup keys' public halves only), and `restore.yml` brings it back
on a second, fresh node with the same rows and a verifying audit trail. WAL segments
are archived encrypted by PostgreSQL's archive_command.

Off the host: the node's inventory names a backup host (`backups_target`). After the
backup and its push, the backup host holds the same encrypted files (same SHA-256) and
cannot decrypt them; the node's push key cannot read, delete or replace a file already
there; and `restore.yml` on the fresh node fetches the backup from the backup host
itself (relayed by the controller, no key added there).

The nightly base backup: the role installs `carnet-basebackup.timer` and gives the owner
role REPLICATION; its service writes an encrypted base backup that lands on the backup
host; a second `site.yml` changes nothing. `pitr.yml` recovers the fresh node, from the
backup host, to a minute between two known consultations: the first is there, the
second is not, and the audit trail verifies.

Three Debian 12 hosts booted with systemd-nspawn (tests/infra/hosts.py): two nodes
deployed by site.yml, and a bare backup host set up by the backups role; driven by
ansible-runner over SSH.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import tempfile
import textwrap
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
    store: hosts.Host
    old_inventory: Path
    new_inventory: Path
    extravars: dict
    secret_key: Path
    fingerprint: str
    fetched: Path
    tmp: Path


def inventory_for(
    tmp: Path,
    name: str,
    host: hosts.Host,
    public_key: Path,
    store: hosts.Host | None = None,
    *,
    push: bool = True,
) -> Path:
    """A node's inventory with the cooperative's public key; with ``store``, a backup
    host in group ``backup``, that the node pushes to (``backups_target``) if ``push``."""
    groups = {"primary": [host]}
    if store is not None:
        groups["backup"] = [store]
    inventory = hosts.write_inventory(tmp / name, groups)
    keys = inventory / "files" / "backup-keys"
    keys.mkdir(parents=True)
    shutil.copy(public_key, keys / public_key.name)
    if store is not None and push:
        (inventory / "group_vars" / "all" / "backups.yml").write_text(
            f"---\nbackups_target: {store.name}\nbackups_base_keep: 1\n"
        )
    return inventory


def play(playbook: str, inventory: Path, extravars: dict) -> hosts.PlaybookResult:
    result = hosts.run_playbook(playbook, inventory, extravars)
    assert result.ok, result.failure_report()
    return result


def psql(host: hosts.Host, sql: str) -> str:
    return host.ssh(f"runuser -u postgres -- psql -XAtd carnet -c {json.dumps(sql)}").stdout


def wait_for_logins(host: hosts.Host, timeout: float = 120) -> None:
    """A host booted under load can be up but 'degraded' with /run/nologin still there:
    the backup host's own user (carnet-backups, not root) is then refused ("System is
    booting up"). Wait for it to go. systemd-user-sessions, which removes it, has been
    seen to fail at boot when the controller is loaded ("status=219/CGROUP": systemd
    could not place its process in a cgroup): it is then started again, as an admin
    would, up to three times. If logins stay refused, say which units failed."""
    deadline = time.monotonic() + timeout
    restarts = 0
    while host.ssh("test -e /run/nologin", check=False).returncode == 0:
        failed = host.ssh("systemctl is-failed --quiet systemd-user-sessions", check=False)
        if failed.returncode == 0 and restarts < 3:
            restarts += 1
            host.ssh("systemctl restart systemd-user-sessions", check=False)
            continue
        if time.monotonic() > deadline:
            failed = host.ssh(
                "systemctl --failed --no-legend; systemctl status systemd-user-sessions --no-pager",
                check=False,
            )
            raise AssertionError(f"{host.name} still refuses logins: {failed.stdout}")
        time.sleep(2)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    tmp = tmp_path_factory.mktemp("ansible-backup")
    public_key, secret_key, fingerprint = hosts.cooperative_key(tmp)
    wheelhouse = hosts.ensure_wheelhouse()
    extravars = hosts.node_extravars(wheelhouse, hosts.test_secrets())
    with hosts.boot_hosts(["bk-old", "bk-new", "bk-store"]) as (old, new, store):
        both = hosts.write_inventory(tmp / "both", {"primary": [old, new]})
        play("site.yml", both, extravars)
        for host in (old, new, store):
            wait_for_logins(host)
        yield Nodes(
            old=old,
            new=new,
            store=store,
            old_inventory=inventory_for(tmp, "old", old, public_key, store),
            new_inventory=inventory_for(tmp, "new", new, public_key, store, push=False),
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


def sha256s(host: hosts.Host, directory: str) -> dict[str, str]:
    """Name -> SHA-256 of the regular files directly in a directory of a host (not the
    hidden ones: files being written, the node's note of its last run)."""
    listed = host.ssh(
        f"cd {shlex.quote(directory)} && find . -maxdepth 1 -type f -name '[!.]*' -printf '%P\\0'"
        " | sort -z | xargs -0r sha256sum"
    ).stdout
    return {name: digest for digest, name in (line.split("  ", 1) for line in listed.splitlines())}


def local_sha256s(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in directory.iterdir()
        if path.is_file()
    }


# A consultation as the application writes one (as in tests/carnet/test_pitr.py): the
# demo practice's GP, under the practice's row-level security, through records.services
# (audit events included).
WRITE = textwrap.dedent(
    """
    import os
    from django.db import transaction
    from carnet_demo.practice import PRACTICE_SLUG
    from core import tenancy
    from core.accounts.models import Person
    from core.accounts.selectors import actor_for
    from core.practices.models import Practice
    from records import services
    from records.access import access_for
    from records.models import Patient
    with transaction.atomic():
        practice = Practice.objects.get(slug=PRACTICE_SLUG)
        gp = Person.objects.get(username="claire.martin")
        tenancy.activate_then(practice.pk, gp.pk, care_team_mode=practice.care_team_mode)
        patient = Patient.objects.order_by("pk").first()
        encounter = services.consultation_record(
            actor=actor_for(gp, practice.pk), access=access_for(patient),
            reason=os.environ["PITR_REASON"],
        )
    print(encounter.pk)
    """
)


def write_consultation(host: hosts.Host, reason: str) -> str:
    """Write a consultation on the node; the node's clock once it is committed."""
    host.ssh(
        f"PITR_REASON={shlex.quote(reason)} /usr/local/sbin/carnet shell -c {shlex.quote(WRITE)}",
        timeout=300,
    )
    return host.ssh("date '+%F %T'").stdout.strip()


PUSH_SSH = (
    "ssh -i /etc/carnet/backup-push-key -o IdentitiesOnly=yes -o BatchMode=yes"
    " -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/carnet/backup-known-hosts"
)


def check_the_backup_host_cannot_decrypt(store: hosts.Host, encrypted: str) -> None:
    """No OpenPGP secret key anywhere on the backup host, and gpg there cannot decrypt."""
    decrypt = store.ssh(f"gpg --batch --decrypt {encrypted} > /dev/null; echo rc=$?")
    assert "No secret key" in decrypt.stderr and "rc=2" in decrypt.stdout, decrypt
    assert "sec" not in store.ssh("gpg --batch --list-secret-keys --with-colons").stdout
    secret_files = store.ssh(
        "grep -rlsI -e 'PGP PRIVATE KEY BLOCK' /etc /root /home /srv /var"
        " /opt /usr/local /tmp; find / -xdev -path '*/private-keys-v1.d/*' -type f;"
        " find / -xdev -name 'secring.gpg'",
        check=False,
    ).stdout
    assert secret_files.strip() == "", secret_files


def check_the_push_key_cannot_read_delete_or_replace(
    node: hosts.Host, store: hosts.Host, store_dir: str, name: str
) -> None:
    """With the node's own push key (a node broken into), an older file on the backup
    host can be neither deleted, replaced nor read back; nothing but rsync runs."""
    before = store.ssh(f"sha256sum {store_dir}/{name}").stdout
    target = f"carnet-backups@{store.ip}"

    def attempt(command: str) -> subprocess.CompletedProcess[str]:
        return node.ssh(f"cd $(mktemp -d) && {command}", check=False, timeout=120)

    # Delete: a push of an empty directory with --delete, or of a missing file with
    # --delete-missing-args.
    deleted = attempt(f"mkdir empty && rsync -r --delete -e '{PUSH_SSH}' empty/ {target}:")
    assert deleted.returncode != 0, deleted
    attempt(f"rsync -r --delete-missing-args -e '{PUSH_SSH}' ./{name} {target}:")
    assert store.ssh(f"sha256sum {store_dir}/{name}").stdout == before
    # Replace: the same name with other content, sent whatever the times (-I), in place too.
    for options in ("-rI", "-rI --inplace", "-rI --backup --suffix=.old"):
        attempt(
            f"mkdir forged && echo forged > forged/{name}"
            f" && rsync {options} -e '{PUSH_SSH}' forged/ {target}:"
        )
        assert store.ssh(f"sha256sum {store_dir}/{name}").stdout == before, options
    # Read it back.
    read = attempt(f"rsync -e '{PUSH_SSH}' {target}:{name} got; ls got")
    assert read.returncode != 0 and "got" not in read.stdout, read
    # Anything but rsync.
    shell = attempt(f"{PUSH_SSH} {target} rm -f {store_dir}/{name}")
    assert shell.returncode != 0 and "does not run rsync" in shell.stderr, shell
    assert store.ssh(f"sha256sum {store_dir}/{name}").stdout == before
    assert store.ssh(f"ls {store_dir}").stdout.split().count(f"{name}.old") == 0


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

    # The nightly base backup: its timer is on, the owner role may take it.
    assert old.ssh("systemctl is-enabled carnet-basebackup.timer").stdout.strip() == "enabled"
    assert old.ssh("systemctl is-active carnet-basebackup.timer").stdout.strip() == "active"
    assert "carnet-basebackup.service" in old.ssh("systemctl list-timers --all").stdout
    owner_replication = "SELECT rolreplication FROM pg_roles WHERE rolname = 'carnet_owner'"
    assert psql(old, owner_replication).strip() == "t"

    # A second site.yml changes nothing (the backups role included).
    again = play("site.yml", nodes.old_inventory, nodes.extravars)
    assert again.changed() == 0, again.changed_tasks()

    # Off the host: backup.yml pushed its backup to the backup host; the nightly unit
    # takes another one and pushes it, with the WAL segments archived so far.
    store_dir = f"/srv/carnet-backups/{old.name}"
    pushed_first = sha256s(nodes.store, store_dir)
    assert set(pushed_first) == {p.name for p in fetched.iterdir()}, pushed_first
    assert pushed_first == local_sha256s(fetched)
    old.start_unit("carnet-backup.service", timeout=600)
    on_node = sha256s(old, "/var/backups/carnet")
    on_store = sha256s(nodes.store, store_dir)
    assert on_store == on_node
    assert len([n for n in on_node if n.endswith(".manifest.json")]) == 2
    wal_on_node = sha256s(old, "/var/backups/carnet-wal")
    wal_on_store = sha256s(nodes.store, f"{store_dir}/wal")
    assert wal_on_store and all(wal_on_node[n] == h for n, h in wal_on_store.items())
    check_the_backup_host_cannot_decrypt(nodes.store, f"{store_dir}/{dump}")
    check_the_push_key_cannot_read_delete_or_replace(old, nodes.store, store_dir, dump)
    assert sha256s(nodes.store, store_dir) == on_node
    dumps_on_node = on_node

    # The nightly base backup's service: an encrypted base backup, pushed.
    old.start_unit("carnet-basebackup.service", timeout=900)
    on_node = sha256s(old, "/var/backups/carnet")
    bases = sorted(n for n in on_node if n.endswith(".base.tar.gpg"))
    assert len(bases) == 1, on_node
    base_name = bases[0].removesuffix(".base.tar.gpg")
    base_json = old.ssh(f"cat /var/backups/carnet/{base_name}.basebackup.json").stdout
    base_manifest = json.loads(base_json)
    assert base_manifest["kind"] == "basebackup"
    assert base_manifest["recipients"] == [nodes.fingerprint]
    assert base_manifest["base"]["sha256"] == on_node[bases[0]]
    assert sha256s(nodes.store, store_dir) == on_node
    check_the_backup_host_cannot_decrypt(nodes.store, f"{store_dir}/{bases[0]}")

    # The next night's: the node keeps the newest base backup only (backups_base_keep: 1)
    # and the WAL from its first segment on; the backup host keeps everything.
    old.start_unit("carnet-basebackup.service", timeout=900)
    on_node = sha256s(old, "/var/backups/carnet")
    on_store = sha256s(nodes.store, store_dir)
    [newest] = [n for n in on_node if n.endswith(".base.tar.gpg")]
    assert newest != bases[0] and on_store[bases[0]] and on_store[newest] == on_node[newest]
    assert all(on_store[n] == h for n, h in on_node.items())
    newest_json = old.ssh(
        f"cat /var/backups/carnet/{newest.removesuffix('.base.tar.gpg')}.basebackup.json"
    ).stdout
    wal_start = json.loads(newest_json)["wal_start"]
    wal_on_node = sha256s(old, "/var/backups/carnet-wal")
    wal_on_store = sha256s(nodes.store, f"{store_dir}/wal")
    segments_on_node = [n for n in wal_on_node if not n.endswith(".history.gpg")]
    assert segments_on_node and min(n[:24] for n in segments_on_node) >= wal_start
    assert any(n[:24] < wal_start for n in wal_on_store), (wal_start, sorted(wal_on_store))
    assert all(wal_on_store[n] == h for n, h in wal_on_node.items())

    # Two consultations a minute apart, after the base backup; their WAL reaches the
    # backup host.
    first_written = write_consultation(old, "PITR first consultation")
    seconds = int(old.ssh("date +%S").stdout)
    time.sleep(61 - seconds)  # into the next minute of the node's clock
    target = old.ssh("date '+%Y-%m-%d %H:%M'").stdout.strip()
    time.sleep(1)
    second_written = write_consultation(old, "PITR second consultation")
    print(f"[pitr] first {first_written}, target {target}, second {second_written}")
    switched = psql(old, "SELECT pg_walfile_name(pg_switch_wal())").strip()
    for _ in range(60):
        if old.ssh(f"test -f /var/backups/carnet-wal/{switched}.gpg", check=False).returncode == 0:
            break
        time.sleep(1)
    else:
        raise AssertionError(f"{switched} was not archived")
    old.ssh("/usr/local/sbin/carnet-backup-push", timeout=300)
    assert f"{switched}.gpg" in sha256s(nodes.store, f"{store_dir}/wal")

    # Restore on the fresh node: restore.yml fetches the first backup from the backup
    # host itself (relayed by the controller), with the backup key for the restore only;
    # the backup host gets no new key.
    authorized = nodes.store.ssh("cat /srv/carnet-backups/.ssh/authorized_keys").stdout
    relays_before = set(Path(tempfile.gettempdir()).glob("carnet-restore-*"))
    started = time.monotonic()
    result = play(
        "restore.yml",
        nodes.new_inventory,
        {
            **nodes.extravars,
            "restore_from_backup_host": True,
            "restore_backup_node": old.name,
            "restore_manifest": manifests[0].name,
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
    # The key is gone from the new node, and so are the copies of the backup, on the
    # node and on the controller; the backup host's keys are the same.
    assert new.ssh("ls -A /var/lib/carnet/restore").stdout.strip() == ""
    assert set(Path(tempfile.gettempdir()).glob("carnet-restore-*")) == relays_before
    assert nodes.store.ssh("cat /srv/carnet-backups/.ssh/authorized_keys").stdout == authorized
    on_store = sha256s(nodes.store, store_dir)
    assert all(on_store[n] == h for n, h in sha256s(old, "/var/backups/carnet").items())
    assert set(dumps_on_node) < set(on_store)
    assert new.ssh("systemctl is-active carnet-web").stdout.strip() == "active"
    print(f"[timing] backup.yml {backup_seconds:.1f} s, restore.yml {restore_seconds:.1f} s")

    # A target before every base backup is refused before anything is changed.
    refused = hosts.run_playbook(
        "pitr.yml",
        nodes.new_inventory,
        {
            **nodes.extravars,
            "pitr_target": "2020-01-01 00:00",
            "restore_backup_node": old.name,
            "restore_private_key": str(nodes.secret_key),
            "restore_force": True,
        },
    )
    assert not refused.ok
    assert "a recovery cannot stop before its base backup" in refused.failure_report()
    assert {label: psql(new, sql).strip() for label, sql in COUNTS.items()} == after
    assert (
        new.ssh(
            "ls -d /var/lib/postgresql/15/main.before-pitr-* /var/lib/carnet/restore/*", check=False
        ).stdout.strip()
        == ""
    )
    assert new.ssh("systemctl is-active carnet-web").stdout.strip() == "active"

    # Point-in-time recovery of the same fresh node (it holds the restore above: forced),
    # from the backup host, to the minute between the two consultations. (Relays of other
    # runs, stopped by hand, may be there already: only this run's must go.)
    pitr_relays_before = set(Path(tempfile.gettempdir()).glob("carnet-pitr-*"))
    started = time.monotonic()
    play(
        "pitr.yml",
        nodes.new_inventory,
        {
            **nodes.extravars,
            "pitr_target": target,
            "restore_backup_node": old.name,
            "restore_private_key": str(nodes.secret_key),
            "restore_force": True,
        },
    )
    pitr_seconds = time.monotonic() - started
    reasons = (
        "SELECT string_agg(reason, '|' ORDER BY id) FROM records_encounter"
        " WHERE reason LIKE 'PITR %'"
    )
    assert psql(old, reasons).strip() == "PITR first consultation|PITR second consultation"
    assert psql(new, reasons).strip() == "PITR first consultation"
    assert psql(new, COUNTS["patients"]).strip() == before["patients"]
    verify = new.ssh("/usr/local/sbin/carnet audit verify")
    assert "Audit trail intact" in verify.stdout, verify
    assert psql(new, "SELECT pg_is_in_recovery()").strip() == "f"
    assert psql(new, "SELECT current_setting('archive_mode')").strip() == "on"
    # The key, the base backup and the WAL are gone from the node, the relay from here.
    assert new.ssh("test -e /var/lib/postgresql/pitr; echo $?").stdout.strip() == "1"
    assert set(Path(tempfile.gettempdir()).glob("carnet-pitr-*")) == pitr_relays_before
    assert new.ssh("systemctl is-active carnet-web").stdout.strip() == "active"
    print(f"[timing] pitr.yml {pitr_seconds:.1f} s")
