"""Encrypted backups: the node holds only the cooperative's public backup keys, so it
cannot read its own backups; a backup restores, with a backup private key, into a fresh
database with the same rows and a verifying audit trail; altered backups are refused;
a failed backup leaves nothing behind.

Real parts only: the embedded PostgreSQL, pg_dump/pg_restore, gpg with throwaway homes,
and the `carnet` command in its own processes (as an admin would run it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from carnet import embedded
from tests.conftest import superuser_conninfo

CARNET = str(Path(sys.executable).with_name("carnet"))


def gpg(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--no-tty", *args],
        input=stdin,
        capture_output=True,
    )


def new_home(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True)
    return path


def make_key(home: Path, name: str) -> str:
    done = gpg(
        home,
        "--passphrase",
        "",
        "--quick-gen-key",
        f"{name} <{name}@backup.example.org>",
        "ed25519",
        "sign",
        "never",
    )
    assert done.returncode == 0, done.stderr
    rows = gpg(home, "--with-colons", "--list-keys", f"{name}@backup.example.org").stdout.decode()
    fingerprint = next(line.split(":")[9] for line in rows.splitlines() if line.startswith("fpr"))
    done = gpg(home, "--passphrase", "", "--quick-add-key", fingerprint, "cv25519", "encr", "never")
    assert done.returncode == 0, done.stderr
    return fingerprint


def stop_agent(home: Path) -> None:
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)


@dataclass
class Node:
    """One node's settings: its own database, var directory and keyring."""

    database: str
    var: Path

    def env(self, **extra: str) -> dict[str, str]:
        db = settings.DATABASES["default"]
        where = f"{self.database}?host={db['HOST']}&port={db['PORT']}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "carnet.settings",
            "DATABASE_URL": f"postgresql://{embedded.APP_ROLE}@/{where}",
            "DATABASE_OWNER_URL": f"postgresql://{embedded.OWNER_ROLE}@/{where}",
            "CARNET_VAR_DIR": str(self.var),
            "CARNET_GNUPG_HOME": str(self.var / "gnupg"),
            "CARNET_NODE_NAME": "lyon",
            **extra,
        }
        env.pop("CARNET_DATABASE_ROLE", None)
        env.pop("GNUPGHOME", None)
        return env

    def carnet(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [CARNET, *args], env=self.env(**extra), capture_output=True, text=True, timeout=600
        )

    def conninfo(self) -> str:
        return superuser_conninfo(self.database)

    def rows(self, sql: str) -> list[tuple]:
        with psycopg.connect(self.conninfo()) as conn:
            return [tuple(row) for row in conn.execute(sql).fetchall()]

    def tables(self) -> int:
        return self.rows("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0]


def fresh_node(tmp: Path, suffix: str) -> Node:
    name = f"{settings.DATABASES['default']['NAME']}_{suffix}"
    embedded.create_database(superuser_conninfo(), name, drop_first=True)
    return Node(database=name, var=tmp / suffix)


@dataclass
class Setup:
    source: Node
    keyring: Path  # the node's: public keys only
    private_home: Path  # the cooperative's: the backup secret key
    fingerprint: str
    backups: Path
    manifest: dict
    manifest_path: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp("backup")
    private_home = new_home(tmp / "cooperative-gnupg")
    fingerprint = make_key(private_home, "carnet-backup-2026")
    keyring = tmp / "backup-keys"
    keyring.mkdir()
    public = gpg(private_home, "--armor", "--export", fingerprint)
    (keyring / "cooperative-2026.asc").write_bytes(public.stdout)

    source = fresh_node(tmp, "bk_src")
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["load_fees"],
        ["demo_data", "--patients", "12"],
        ["audit", "anchor"],
    ):
        done = source.carnet(*command)
        assert done.returncode == 0, (command, done.stderr[-3000:])
    document = source.var / "media" / "documents" / "2026" / "11" / "scan.pdf"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_bytes(b"%PDF-1.4 a scanned letter\n")

    backups = tmp / "backups"
    done = source.carnet("backup", "--output-dir", str(backups), CARNET_BACKUP_KEYRING=str(keyring))
    assert done.returncode == 0, done.stderr
    manifests = list(backups.glob("*.manifest.json"))
    assert len(manifests) == 1
    yield Setup(
        source=source,
        keyring=keyring,
        private_home=private_home,
        fingerprint=fingerprint,
        backups=backups,
        manifest=json.loads(manifests[0].read_text()),
        manifest_path=manifests[0],
    )
    stop_agent(private_home)


def test_the_backup_is_encrypted_to_the_backup_keys_and_described_by_its_manifest(
    setup: Setup,
) -> None:
    manifest = setup.manifest
    names = sorted(p.name for p in setup.backups.iterdir())
    dump, archive = manifest["dump"]["name"], manifest["files"]["name"]
    assert names == sorted([dump, archive, setup.manifest_path.name])  # no .partial left
    assert dump.startswith("carnet-lyon-") and dump.endswith(".dump.gpg")
    assert manifest["recipients"] == [setup.fingerprint]
    assert manifest["node"] == "lyon" and manifest["carnet_version"]
    assert ["audit", "0001_initial"] in manifest["migrations"]
    applied = setup.source.rows("SELECT app, name FROM django_migrations ORDER BY id")
    assert [tuple(m) for m in manifest["migrations"]] == applied
    for entry in (manifest["dump"], manifest["files"]):
        data = (setup.backups / entry["name"]).read_bytes()
        assert len(data) == entry["size"]
        # Not a clear pg_dump archive nor a clear tar: an OpenPGP message.
        assert not data.startswith(b"PGDMP") and b"ustar" not in data[:1024]
        listed = gpg(setup.private_home, "--list-packets", stdin=data).stdout.decode()
        assert "pubkey enc packet" in listed
    # The patients' names are nowhere in clear.
    assert b"Dupont" not in (setup.backups / dump).read_bytes()


def test_the_node_cannot_read_its_own_backup(setup: Setup, tmp_path: Path) -> None:
    # The node's gpg knows only the public keys, exactly what the keyring holds.
    node_home = new_home(tmp_path / "node-gnupg")
    for key in setup.keyring.iterdir():
        assert gpg(node_home, "--import", str(key)).returncode == 0
    dump = setup.backups / setup.manifest["dump"]["name"]
    done = gpg(node_home, "--decrypt", str(dump))
    assert done.returncode != 0
    assert b"No secret key" in done.stderr
    assert done.stdout == b""

    target = fresh_node(tmp_path, "bk_nokey")
    assert target.carnet("migrate", "--noinput", "-v0").returncode == 0
    embedded.create_database(superuser_conninfo(), target.database, drop_first=True)
    refused = target.carnet("restore", str(dump), "--gnupg-home", str(node_home))
    stop_agent(node_home)
    assert refused.returncode != 0
    assert "this host cannot read its backups, by design" in refused.stderr
    assert "cet hôte ne peut pas lire ses sauvegardes" in refused.stderr
    assert setup.fingerprint in refused.stderr
    assert target.tables() == 0


COUNTS = {
    "patients": "SELECT count(*) FROM records_patient",
    "encounters": "SELECT count(*) FROM records_encounter",
    "problems": "SELECT count(*) FROM records_problem",
    "prescriptions": "SELECT count(*) FROM records_prescription",
    "invoices": "SELECT count(*) FROM billing_invoice",
    "payments": "SELECT count(*) FROM billing_payment",
    "audit events": "SELECT count(*) FROM audit_event",
    "audit anchors": "SELECT count(*) FROM audit_anchor",
    "people": "SELECT count(*) FROM accounts_person",
}
SAMPLES = {
    "patients": "SELECT id, birth_name, given_names, nir, birth_date FROM records_patient"
    " ORDER BY id LIMIT 5",
    "encounters": "SELECT id, reason, subjective FROM records_encounter ORDER BY id DESC LIMIT 5",
    "invoices": "SELECT reference, status, total, due_at_desk FROM billing_invoice"
    " ORDER BY id LIMIT 5",
    "audit": "SELECT chain, seq, hash FROM audit_event ORDER BY id DESC LIMIT 5",
}


def test_a_backup_restores_on_a_fresh_database_with_the_same_rows(
    setup: Setup, tmp_path: Path
) -> None:
    target = fresh_node(tmp_path, "bk_dst")
    dump = setup.backups / setup.manifest["dump"]["name"]
    done = target.carnet("restore", str(dump), "--gnupg-home", str(setup.private_home))
    assert done.returncode == 0, done.stderr
    assert "Audit trail intact" in done.stdout
    assert "1 anchors checked" in done.stdout  # the node's keyring came back with it

    counts = {label: setup.source.rows(sql)[0][0] for label, sql in COUNTS.items()}
    assert counts["patients"] == 12 and counts["invoices"] > 0 and counts["audit anchors"] == 1
    assert {label: target.rows(sql)[0][0] for label, sql in COUNTS.items()} == counts
    for label, sql in SAMPLES.items():
        assert target.rows(sql) == setup.source.rows(sql), label
    restored = target.var / "media" / "documents" / "2026" / "11" / "scan.pdf"
    assert restored.read_bytes() == b"%PDF-1.4 a scanned letter\n"

    # The restored node works as the application role (grants and row-level security
    # came back) and its trail still verifies on its own.
    verify = target.carnet("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    # A second restore onto the now full database is refused without --force.
    again = target.carnet("restore", str(dump), "--gnupg-home", str(setup.private_home))
    assert again.returncode != 0 and "not empty" in again.stderr


def copy_backup(setup: Setup, where: Path) -> Path:
    where.mkdir()
    for path in setup.backups.iterdir():
        shutil.copy2(path, where / path.name)
    return where / setup.manifest["dump"]["name"]


def test_an_altered_backup_is_refused(setup: Setup, tmp_path: Path) -> None:
    target = fresh_node(tmp_path, "bk_tamper")
    # One byte changed: the manifest's SHA-256 no longer matches.
    dump = copy_backup(setup, tmp_path / "flipped")
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    done = target.carnet("restore", str(dump), "--gnupg-home", str(setup.private_home))
    assert done.returncode != 0
    assert "does not match its manifest" in done.stderr
    assert target.tables() == 0

    # The same change with the manifest rewritten to match: gpg's integrity check refuses.
    manifest_path = dump.with_name(setup.manifest_path.name)
    manifest = json.loads(manifest_path.read_text())
    import hashlib

    manifest["dump"]["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    done = target.carnet("restore", str(dump), "--gnupg-home", str(setup.private_home))
    assert done.returncode != 0
    assert "Cannot decrypt" in done.stderr or "Decryption failed" in done.stderr
    assert target.tables() == 0

    # A backup without its manifest is refused too.
    manifest_path.unlink()
    done = target.carnet("restore", str(dump), "--gnupg-home", str(setup.private_home))
    assert done.returncode != 0 and "No manifest" in done.stderr


def test_a_failed_backup_leaves_nothing_behind(setup: Setup, tmp_path: Path) -> None:
    source = setup.source
    out = tmp_path / "out"

    def backup(**extra: str) -> subprocess.CompletedProcess:
        return source.carnet("backup", "--output-dir", str(out), **extra)

    missing = backup(CARNET_BACKUP_KEYRING=str(tmp_path / "nowhere"))
    assert missing.returncode != 0
    assert "does not exist" in missing.stderr and "n'existe pas" in missing.stderr

    empty = tmp_path / "empty-keyring"
    empty.mkdir()
    none = backup(CARNET_BACKUP_KEYRING=str(empty))
    assert none.returncode != 0 and "No backup public key" in none.stderr

    # A secret key in the node's keyring is refused: the node could read its backups.
    with_secret = tmp_path / "secret-keyring"
    with_secret.mkdir()
    secret = gpg(setup.private_home, "--armor", "--export-secret-keys", setup.fingerprint)
    (with_secret / "oops.asc").write_bytes(secret.stdout)
    refused = backup(CARNET_BACKUP_KEYRING=str(with_secret))
    assert refused.returncode != 0 and "holds a SECRET key" in refused.stderr

    # pg_dump fails: the application role may not read every row.
    app = f"postgresql://{embedded.APP_ROLE}@/{source.database}?host="
    db = settings.DATABASES["default"]
    failed = backup(
        CARNET_BACKUP_KEYRING=str(setup.keyring),
        DATABASE_OWNER_URL=f"{app}{db['HOST']}&port={db['PORT']}",
    )
    assert failed.returncode != 0 and "pg_dump failed" in failed.stderr
    assert not out.exists() or list(out.iterdir()) == []

    # The disk fills up half-way: a file system half the size of the dump.
    small = tmp_path / "small"
    small.mkdir()
    size_k = max(setup.manifest["dump"]["size"] // 2048, 8)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_k}k", "tmpfs", str(small)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr!r}")
    try:
        full = source.carnet(
            "backup", "--output-dir", str(small), CARNET_BACKUP_KEYRING=str(setup.keyring)
        )
        assert full.returncode != 0
        assert "Disk full" in full.stderr and "Disque plein" in full.stderr
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_wal_segments_are_archived_encrypted_and_restored_with_the_private_key(
    setup: Setup, tmp_path: Path
) -> None:
    """`carnet wal_archive %p %f` (PostgreSQL's archive_command) on a real segment of the
    running server; `carnet wal_restore %f %p` (restore_command) brings it back."""
    wal_dir = Path(settings.VAR_DIR) / "postgres" / "pg_wal"
    segment = sorted(p for p in wal_dir.iterdir() if p.is_file() and len(p.name) == 24)[0]
    copy = tmp_path / segment.name
    shutil.copy2(segment, copy)  # the server may recycle its own file meanwhile
    archive = tmp_path / "wal"
    env = {**os.environ, "CARNET_BACKUP_KEYRING": str(setup.keyring)}

    def carnet(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([CARNET, *args], env=env, capture_output=True, text=True)

    done = carnet("wal_archive", "--dest", str(archive), str(copy), segment.name)
    assert done.returncode == 0, done.stderr
    stored = archive / f"{segment.name}.gpg"
    assert [p.name for p in archive.iterdir()] == [stored.name]
    assert stored.read_bytes()[:64] != copy.read_bytes()[:64]
    # PostgreSQL retries a segment whose archiving it did not hear about: harmless.
    assert carnet("wal_archive", "--dest", str(archive), str(copy), segment.name).returncode == 0

    public_only = new_home(tmp_path / "node-gnupg")
    for key in setup.keyring.iterdir():
        gpg(public_only, "--import", str(key))
    back = tmp_path / "RECOVERYXLOG"
    refused = carnet(
        "wal_restore",
        "--source",
        str(archive),
        "--gnupg-home",
        str(public_only),
        segment.name,
        str(back),
    )
    stop_agent(public_only)
    assert refused.returncode == 1 and not back.exists()
    restored = carnet(
        "wal_restore",
        "--source",
        str(archive),
        "--gnupg-home",
        str(setup.private_home),
        segment.name,
        str(back),
    )
    assert restored.returncode == 0, restored.stderr
    assert back.read_bytes() == copy.read_bytes()
    # The end of the archive: the segment after the last one is not there (exit 1).
    assert (
        carnet(
            "wal_restore",
            "--source",
            str(archive),
            "--gnupg-home",
            str(setup.private_home),
            "0000000100000099000000FF",
            str(tmp_path / "none"),
        ).returncode
        == 1
    )

    # Without the keys, nothing is written and PostgreSQL keeps the segment (exit 1).
    env["CARNET_BACKUP_KEYRING"] = str(tmp_path / "nowhere")
    other = tmp_path / "wal2"
    failed = carnet("wal_archive", "--dest", str(other), str(copy), segment.name)
    assert failed.returncode == 1 and "does not exist" in failed.stderr
    assert not other.exists() or list(other.iterdir()) == []


def test_the_nightly_loop_backs_up_prunes_and_reports_its_health(
    setup: Setup, tmp_path: Path
) -> None:
    """`carnet backup_loop` (the compose stack's backup service), one pass at a time."""
    out = tmp_path / "nightly"
    env = {"CARNET_BACKUP_KEYRING": str(setup.keyring), "CARNET_BACKUP_DIR": str(out)}
    for _ in range(2):
        done = setup.source.carnet("backup_loop", "--now", "--keep", "1", **env)
        assert done.returncode == 0, done.stderr
    assert len(list(out.glob("*.manifest.json"))) == 1
    assert len(list(out.glob("*.gpg"))) == 2  # the dump and the files of the newest only
    assert setup.source.carnet("backup_loop", "--check", **env).returncode == 0

    env["CARNET_BACKUP_KEYRING"] = str(tmp_path / "nowhere")
    assert setup.source.carnet("backup_loop", "--now", **env).returncode != 0
    check = setup.source.carnet("backup_loop", "--check", **env)
    assert check.returncode == 1 and "the last backup failed" in check.stdout
    assert len(list(out.glob("*.manifest.json"))) == 1  # a failed night prunes nothing


def test_pg_dump_is_given_the_urls_libpq_options(db: None, settings) -> None:
    """With automatic failover the owner's URL names every data node with
    ``target_session_attrs=read-write``: pg_dump must keep it, or it could dump a standby
    (or a demoted node). The option reaches the server's tools through the environment:
    asked for a standby, the same server (a primary) is refused."""
    from carnet import backups
    from carnet.management.commands.backup import database_params, server_version

    settings.DATABASES["default"]["OPTIONS"] = {
        **settings.DATABASES["default"]["OPTIONS"],
        "target_session_attrs": "read-write",
        "connect_timeout": "3",
    }
    database = database_params()
    assert database.env()["PGTARGETSESSIONATTRS"] == "read-write"
    assert database.env()["PGCONNECT_TIMEOUT"] == "3"
    pg_dump = backups.pg_tool("pg_dump", server_version() // 10000)

    def dump(target: str) -> subprocess.CompletedProcess[str]:
        options = tuple(
            (k, target if k == "target_session_attrs" else v) for k, v in database.options
        )
        where = backups.Database(**{**database.__dict__, "options": options})
        return subprocess.run(
            [pg_dump, "--schema-only", "--table=django_migrations", *where.args()],
            env=where.env(),
            capture_output=True,
            text=True,
        )

    assert dump("read-write").returncode == 0
    refused = dump("standby")
    assert refused.returncode != 0 and "standby" in refused.stderr
