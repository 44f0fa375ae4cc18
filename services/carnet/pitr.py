"""Point-in-time recovery: an encrypted physical base backup, and the recovery of a new
data directory to a chosen time from it and the encrypted WAL archive.

    carnet basebackup [--output-dir DIR] [--keyring DIR]          (on the node, owner role)
    carnet pitr --base FILE --wal-dir DIR --to "2026-12-04 10:42" --data-dir NEWDIR
                --gnupg-home KEYHOME [--start --port 5433 --socket-dir DIR]

The base backup is `pg_basebackup --format=tar --wal-method=none` streamed straight into
gpg, encrypted to the backup keys like `carnet backup` (nothing in clear on disk); the
server waits until the last WAL segment the backup needs is archived (by `carnet
wal_archive`), so the base backup and the archive together are complete. Its manifest
(`.basebackup.json`) gives the size, SHA-256, recipients and the time the backup was
consistent: no recovery can stop before that time.

`carnet pitr` needs no database and no Django: it decrypts the base backup into an empty
data directory, writes the recovery settings (`restore_command` = `carnet wal_restore`,
`recovery_target_time`, `recovery_target_action = 'promote'`) and `recovery.signal`,
and starts the server if asked.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shlex
import shutil
import subprocess  # nosec B404
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from carnet import backups
from carnet.backups import BackupError, Say

# --- Taking a base backup -------------------------------------------------------------


def write_base_backup(
    *,
    node: str,
    database: backups.Database,
    server_version: int,
    carnet_version: str,
    keyring: Path,
    output_dir: Path,
    wal_start: str = "",
    say: Say = print,
) -> backups.BackupResult:
    """pg_basebackup (tar on stdout, no WAL: the archive has it) | gpg, then the
    manifest. Nothing is left behind on failure."""
    stamp = backups.utc_stamp()
    base = f"carnet-{node}-{stamp}"
    major = server_version // 10000
    target = output_dir / f"{base}.base.tar.gpg"
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        with backups.backup_recipients(keyring) as recipients:
            say(f"Encrypting to {len(recipients.fingerprints)} backup key(s):")
            for fingerprint in recipients.fingerprints:
                say(f"  {fingerprint}")
            pg_basebackup = backups.pg_tool("pg_basebackup", major)
            say(f"Base backup of the PostgreSQL {major} server with {pg_basebackup}")
            if wal_start:
                say(f"  the recovery will need the archived WAL from segment {wal_start} on")
            started = datetime.now(UTC)
            written = backups.encrypted_stream(
                recipients,
                target,
                producer=[
                    pg_basebackup,
                    *database.server_args(),
                    "--pgdata=-",
                    "--format=tar",
                    # The archive holds the WAL; the server waits until the backup's last
                    # segment is archived before pg_basebackup returns.
                    "--wal-method=none",
                    "--checkpoint=fast",
                ],
                producer_env=database.env(),
                what="base",
                say=say,
                compress=True,  # a data directory compresses well (free pages, indexes)
            )
            finished = datetime.now(UTC)
            manifest = {
                "format": backups.MANIFEST_FORMAT,
                "kind": "basebackup",
                "node": node,
                "created_at": finished.isoformat(timespec="seconds"),
                "started_at": started.isoformat(timespec="microseconds"),
                # The backup is consistent once pg_basebackup has returned: a recovery
                # target before this time cannot be reached from it.
                "consistent_at": finished.isoformat(timespec="microseconds"),
                "carnet_version": carnet_version,
                "postgresql_version": server_version,
                "wal_start": wal_start,
                "base": backups.asdict_file(written),
                "recipients": recipients.fingerprints,
            }
        manifest_path = output_dir / f"{base}{backups.BASE_MANIFEST_SUFFIX}"
        backups.write_manifest(manifest_path, manifest)
        return backups.BackupResult(manifest=manifest_path, files=[written])
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        raise


# --- Recovering to a point in time ----------------------------------------------------


def parse_target(text: str) -> datetime:
    """'2026-12-04 10:42' (this host's time zone), or with seconds, or an explicit
    offset ('2026-12-04 10:42:00+01:00')."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise BackupError(
            f"Heure cible illisible : {text!r} (attendu : 2026-12-04 10:42).",
            f"Unreadable target time: {text!r} (expected: 2026-12-04 10:42).",
        ) from error
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the host's local time, as the admin reads a clock
    return moment


def conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _owner_ok(path: Path, user: str) -> bool:
    return path.stat().st_uid == pwd.getpwnam(user).pw_uid


@dataclass(frozen=True)
class Plan:
    base: Path
    wal_dir: Path
    target: datetime
    data_dir: Path
    key: backups.PrivateKey
    system_user: str | None  # who runs PostgreSQL, when we are root
    carnet_bin: str


def recover(plan: Plan, say: Say = print) -> dict:
    """Check everything, then decrypt the base backup into the empty data directory and
    write the recovery settings. Returns the base backup's manifest."""
    if plan.system_user:
        try:
            pwd.getpwnam(plan.system_user)
        except KeyError:
            raise BackupError(
                f"L'utilisateur système {plan.system_user} n'existe pas (--system-user :"
                " celui sous lequel PostgreSQL tourne).",
                f"The system user {plan.system_user} does not exist (--system-user: the one"
                " PostgreSQL runs as).",
            ) from None
    say(f"1/5 Checking the base backup {plan.base.name} against its manifest")
    manifest = backups.read_manifest(plan.base, entry="base")
    base = backups.check_file(plan.base.parent, manifest["base"])
    consistent = datetime.fromisoformat(manifest["consistent_at"])
    say(
        f"    taken on node {manifest['node']}, consistent at {consistent.isoformat()}"
        f" (PostgreSQL {manifest['postgresql_version'] // 10000})"
    )
    if plan.target < consistent:
        raise BackupError(
            f"L'heure cible {plan.target.isoformat()} est antérieure à la sauvegarde de base"
            f" (cohérente à {consistent.isoformat()}) : prenez une sauvegarde de base plus"
            " ancienne.",
            f"The target time {plan.target.isoformat()} is before the base backup"
            f" (consistent at {consistent.isoformat()}): use an older base backup.",
        )
    say(f"2/5 Target: {plan.target.isoformat()}")
    if plan.data_dir.exists() and (not plan.data_dir.is_dir() or any(plan.data_dir.iterdir())):
        raise BackupError(
            f"Le répertoire de données {plan.data_dir} n'est pas vide : récupération refusée"
            " (donnez un répertoire neuf ; rien n'a été modifié).",
            f"The data directory {plan.data_dir} is not empty: recovery refused (give a new"
            " directory; nothing was changed).",
        )
    segments = sorted(plan.wal_dir.glob("*.gpg")) if plan.wal_dir.is_dir() else []
    if not segments:
        raise BackupError(
            f"Aucun segment WAL chiffré (*.gpg) dans {plan.wal_dir}.",
            f"No encrypted WAL segment (*.gpg) in {plan.wal_dir}.",
        )
    say(f"    {len(segments)} archived WAL segments in {plan.wal_dir}, last {segments[-1].stem}")
    say(f"3/5 Checking that the key in {plan.key.home} decrypts the base backup")
    if not plan.key.home.is_dir():
        raise BackupError(
            f"Le répertoire de clé {plan.key.home} n'existe pas : donnez --gnupg-home, un"
            " répertoire gpg qui détient une clé privée de sauvegarde.",
            f"The key directory {plan.key.home} does not exist: give --gnupg-home, a gpg home"
            " holding a backup private key.",
        )
    if plan.system_user and not _owner_ok(plan.key.home, plan.system_user):
        raise BackupError(
            f"PostgreSQL déchiffre les segments WAL en tant que {plan.system_user} :"
            f" {plan.key.home} doit lui appartenir (chown -R {plan.system_user}"
            f" {plan.key.home}).",
            f"PostgreSQL decrypts the WAL segments as {plan.system_user}: {plan.key.home}"
            f" must belong to it (chown -R {plan.system_user} {plan.key.home}).",
        )
    try:
        backups.check_decryptable(plan.key, base, manifest["recipients"])
        say(f"4/5 Decrypting the base backup into {plan.data_dir}")
        plan.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tar = shutil.which("tar") or "tar"
        try:
            backups.decrypt_into(
                plan.key,
                base,
                [tar, "--extract", "--no-same-owner", "--directory", str(plan.data_dir)],
                dict(os.environ),
            )
        except BaseException:
            for child in plan.data_dir.iterdir():  # it was empty: leave it empty
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            raise
    finally:
        backups._kill_agent(plan.key.home)  # PostgreSQL's own gpg starts its agent
    say("5/5 Writing the recovery settings and recovery.signal")
    restore = (
        f"{shlex.quote(plan.carnet_bin)} wal_restore --source {shlex.quote(str(plan.wal_dir))}"
        f" --gnupg-home {shlex.quote(str(plan.key.home))}"
    )
    if plan.key.passphrase_file is not None:
        restore += f" --passphrase-file {shlex.quote(str(plan.key.passphrase_file))}"
    settings = {
        # The server that wrote the WAL may have allowed more (pg_auto_failover's
        # max_wal_senders = 12): a recovering server refuses to replay with less.
        **primary_limits(plan.data_dir, manifest["postgresql_version"] // 10000),
        "restore_command": f"{restore} %f %p",
        "recovery_target_time": plan.target.isoformat(),
        "recovery_target_action": "promote",
        # Across a failover too: the archive's history files say where the promoted
        # node's timeline forked, and a target before the fork stays on the old one.
        "recovery_target_timeline": "latest",
        # The recovered server starts a new timeline: it must not write into the
        # archive of the node it was recovered from. Turn it back on once checked.
        "archive_mode": "off",
        # A base backup of a node with automatic failover carries pg_auto_failover's
        # settings (ALTER SYSTEM): the recovered server is alone, waits for no
        # synchronous standby and follows no primary.
        "synchronous_standby_names": "",
        "primary_conninfo": "",
        "primary_slot_name": "",
    }
    with (plan.data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"\n# carnet pitr, {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        for name, value in settings.items():
            conf.write(f"{name} = {conf_quote(value)}\n")
            say(f"    {name} = {conf_quote(value)}")
    _write_missing_conf(plan, say)
    for stale in ("standby.signal", "postmaster.pid", "postmaster.opts"):
        with contextlib.suppress(FileNotFoundError):
            (plan.data_dir / stale).unlink()
    (plan.data_dir / "recovery.signal").touch()
    os.chmod(plan.data_dir, 0o700)
    if plan.system_user:
        user = pwd.getpwnam(plan.system_user)
        for root, dirs, files in os.walk(plan.data_dir):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), user.pw_uid, user.pw_gid)
        os.chown(plan.data_dir, user.pw_uid, user.pw_gid)
    return manifest


# pg_controldata's names for the settings a standby or a recovering server must have at
# least as high as the server that wrote the WAL.
CONTROL_LIMITS = {
    "max_connections setting": "max_connections",
    "max_worker_processes setting": "max_worker_processes",
    "max_wal_senders setting": "max_wal_senders",
    "max_prepared_xacts setting": "max_prepared_transactions",
    "max_locks_per_xact setting": "max_locks_per_transaction",
}


def primary_limits(data_dir: Path, server_major: int) -> dict[str, str]:
    """The base backup's own values of those settings (its pg_control)."""
    pg_controldata = backups.pg_tool("pg_controldata", server_major)
    out = subprocess.run(  # nosec B603
        [pg_controldata, str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LC_ALL": "C"},
    ).stdout
    limits = {}
    for line in out.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in CONTROL_LIMITS and value.strip().isdigit():
            limits[CONTROL_LIMITS[name.strip()]] = value.strip()
    return limits


def _write_missing_conf(plan: Plan, say: Say) -> None:
    """Debian keeps postgresql.conf and pg_hba.conf in /etc/postgresql, outside the data
    directory: the base backup has none. Minimal ones let the recovered directory start
    on its own (--start, pg_ctl); run as the Debian cluster, /etc's files apply instead."""
    conf = plan.data_dir / "postgresql.conf"
    if conf.exists():
        return
    say("    the base backup has no postgresql.conf (Debian): writing minimal ones")
    conf.write_text("# carnet pitr: PostgreSQL's defaults; postgresql.auto.conf follows.\n")
    (plan.data_dir / "pg_hba.conf").write_text(
        "# carnet pitr: the superuser through the local socket (for root and postgres),\n"
        "# the other roles with their passwords.\n"
        "local all postgres peer map=carnet_pitr\n"
        "local all all scram-sha-256\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
        "host all all ::1/128 scram-sha-256\n"
    )
    users = {"root", "postgres", plan.system_user or pwd.getpwuid(os.geteuid()).pw_name}
    (plan.data_dir / "pg_ident.conf").write_text(
        "".join(f"carnet_pitr {user} postgres\n" for user in sorted(users))
    )


def start(
    plan: Plan,
    manifest: dict,
    *,
    port: int,
    socket_dir: Path,
    superuser: str,
    timeout: float,
    say: Say = print,
) -> str:
    """Start the recovered server (local socket only), wait for the end of the recovery
    and its promotion; the time of the last transaction replayed."""
    import psycopg

    pg_ctl = backups.pg_tool("pg_ctl", manifest["postgresql_version"] // 10000)
    log = plan.data_dir / "pitr-start.log"
    options = f"-p {port} -k {shlex.quote(str(socket_dir))} -h ''"
    say(f"Starting the recovered server on port {port} (socket in {socket_dir}, log {log})")
    done = subprocess.run(  # nosec B603
        [
            pg_ctl,
            "-D",
            str(plan.data_dir),
            "-l",
            str(log),
            "-w",
            "-t",
            str(int(timeout)),
            "-o",
            options,
            "start",
        ],
        capture_output=True,
        text=True,
        check=False,
        user=plan.system_user,  # None: as whoever runs this command
    )
    if done.returncode != 0:
        raise BackupError(
            f"Le serveur n'a pas démarré : {_tail(log)}",
            f"The server did not start: {_tail(log)}",
        )
    conninfo = f"host={socket_dir} port={port} user={superuser} dbname=postgres"
    deadline = time.monotonic() + timeout
    while True:
        with (
            contextlib.suppress(psycopg.OperationalError),
            psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn,
        ):
            row = conn.execute(
                "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()"
            ).fetchone()
            if row is not None and not row[0]:
                replayed = row[1].isoformat() if row[1] else "none"
                say(f"Recovery complete, promoted. Last transaction replayed: {replayed}")
                return replayed
        status = subprocess.run(  # nosec B603
            [pg_ctl, "-D", str(plan.data_dir), "status"],
            capture_output=True,
            check=False,
            user=plan.system_user,  # None: as whoever runs this command
        )
        if status.returncode != 0 or time.monotonic() > deadline:
            raise BackupError(
                f"La récupération n'a pas abouti : {_tail(log)}",
                f"The recovery did not complete: {_tail(log)}",
            )
        time.sleep(0.5)


def _tail(log: Path, lines: int = 8) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log {log})"


def default_system_user() -> str | None:
    if os.geteuid() != 0:
        return None  # PostgreSQL runs as whoever runs this command
    return "postgres"


def pitr_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="carnet pitr",
        description="Recover a new data directory to a point in time from an encrypted"
        " base backup (carnet basebackup) and the encrypted WAL archive (carnet wal_archive).",
    )
    parser.add_argument("--base", type=Path, required=True, help="the .base.tar.gpg file")
    parser.add_argument("--wal-dir", type=Path, required=True, help="the encrypted WAL archive")
    parser.add_argument(
        "--to", required=True, help="the target time, '2026-12-04 10:42' (this host's zone)"
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="a new, empty directory")
    parser.add_argument(
        "--gnupg-home", type=Path, default=Path(os.environ.get("GNUPGHOME", "~/.gnupg"))
    )
    parser.add_argument("--passphrase-file", type=Path, default=None)
    parser.add_argument(
        "--system-user",
        default=default_system_user(),
        help="when run as root: the user PostgreSQL runs as (default postgres)",
    )
    parser.add_argument("--carnet", default=None, help="the carnet command PostgreSQL runs")
    parser.add_argument("--start", action="store_true", help="start it and wait for the end")
    parser.add_argument("--port", type=int, default=5433)
    parser.add_argument("--socket-dir", type=Path, default=Path("/var/run/postgresql"))
    parser.add_argument("--superuser", default="postgres")
    parser.add_argument("--timeout", type=float, default=600)
    options = parser.parse_args(argv)
    started = time.monotonic()
    carnet_bin = options.carnet or str(Path(sys.executable).with_name("carnet"))
    try:
        plan = Plan(
            base=options.base.resolve(),
            wal_dir=options.wal_dir.resolve(),
            target=parse_target(options.to),
            data_dir=options.data_dir.resolve(),
            key=backups.PrivateKey(options.gnupg_home.expanduser(), options.passphrase_file),
            system_user=options.system_user if os.geteuid() == 0 else None,
            carnet_bin=carnet_bin,
        )
        manifest = recover(plan)
        if options.start:
            start(
                plan,
                manifest,
                port=options.port,
                socket_dir=options.socket_dir,
                superuser=options.superuser,
                timeout=options.timeout,
            )
    except (BackupError, OSError, KeyError) as error:
        print(f"carnet pitr: {error}", file=sys.stderr)
        return 1
    print(f"Done in {time.monotonic() - started:.1f} s.")
    if not options.start:
        who = f"sudo -u {plan.system_user} " if plan.system_user else ""
        pg_ctl = "pg_ctl"
        with contextlib.suppress(BackupError, KeyError):
            pg_ctl = backups.pg_tool("pg_ctl", manifest["postgresql_version"] // 10000)
        print(
            "Start it (it replays the archived WAL up to the target, then is promoted):\n"
            f"  {who}{pg_ctl} -D {plan.data_dir} -l {plan.data_dir}/pitr-start.log start\n"
            "or, on Debian, make it the cluster's data directory (data_directory in"
            " /etc/postgresql/<version>/main/postgresql.conf) and `systemctl start"
            " postgresql@<version>-main`. Then check the records, run `carnet audit verify`,"
            " remove the key from the host, turn WAL archiving back on and take a new base"
            " backup."
        )
    return 0
