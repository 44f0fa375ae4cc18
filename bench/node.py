"""The benchmark node's database: a PostgreSQL 15 cluster of its own (Debian's binaries),
built once per set of parameters under a cache directory outside the clone, and reused.

Layout of ``<cache>/<key>/``::

    pgdata/        the cluster (owned by the ``postgres`` system user)
    run/           its unix socket
    var/           CARNET_VAR_DIR of the benchmark node (secret key, OpenPGP home)
    built.json     written last: the node is complete (parameters, build times)

The key is a hash of the parameters (patients, entries, practices, seed, audit events)
and of ``DATA_VERSION``; change ``DATA_VERSION`` when the generated data must change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATA_VERSION = 3
OWNER, APP = "carnet_owner", "carnet_app"
DATABASE = "carnet"

# While loading: no durability (a crashed build is thrown away, built.json is never
# written). While measuring: the settings of a production node (fsync, synchronous commit).
BUILD_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
    "autovacuum": "off",
    "shared_buffers": "512MB",
}
SERVE_SETTINGS = {
    "shared_buffers": os.environ.get("BENCH_PG_SHARED_BUFFERS", "256MB"),
    "work_mem": "8MB",
    "max_connections": "100",
    "effective_cache_size": "4GB",
    "random_page_cost": "1.1",
    "jit": "off",
}


@dataclass(frozen=True)
class Params:
    patients: int
    entries: int
    practices: int
    audit_events: int
    seed: int = 1

    @classmethod
    def from_env(cls) -> Params:
        return cls(
            patients=int(os.environ.get("BENCH_PATIENTS", "1000000")),
            entries=int(os.environ.get("BENCH_ENTRIES", "20000000")),
            practices=int(os.environ.get("BENCH_PRACTICES", "50")),
            audit_events=int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000")),
            seed=int(os.environ.get("BENCH_SEED", "1")),
        )

    def key(self) -> str:
        text = json.dumps({**asdict(self), "version": DATA_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, **kwargs)  # type: ignore[call-overload]


class Cluster:
    """One PostgreSQL cluster in a directory; started and stopped by us."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "pgdata"
        self.socket_dir = root / "run"
        self.port = 0

    def init(self) -> None:
        if self.data.exists():
            shutil.rmtree(self.data)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)  # noqa: S103 - the postgres user must reach its data
        self.data.mkdir()
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            stdout=subprocess.DEVNULL,
        )

    def start(self, settings: dict[str, str]) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self.port = free_port()
        options = [
            f"-p {self.port}",
            f"-k {self.socket_dir}",
            "-c listen_addresses=127.0.0.1",
            *(f"-c {name}={value}" for name, value in settings.items()),
        ]
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                " ".join(options),
                "-l",
                str(self.socket_dir / "postgres.log"),
                "-w",
                "-t",
                "300",
                "start",
            ],
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                stdout=subprocess.DEVNULL,
            )

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def conninfo(self, user: str = "postgres", dbname: str = DATABASE) -> str:
        return f"host={self.socket_dir} port={self.port} user={user} dbname={dbname}"

    def url(self, user: str) -> str:
        return f"postgresql://{user}@/{DATABASE}?host={self.socket_dir}&port={self.port}"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
