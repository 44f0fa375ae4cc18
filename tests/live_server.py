"""A real Carnet for the tests that need one, started as in production: gunicorn, its
own database on the test PostgreSQL server, migrations as the owner role, the app role
for serving, the demo practice. Used by the browser tests and the live fuzzing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from carnet import embedded
from tests.conftest import superuser_conninfo

CARNET = str(Path(sys.executable).with_name("carnet"))


@dataclass
class LiveCarnet:
    url: str
    credentials: dict[str, Any]
    var_dir: Path

    def account(self, username: str) -> dict[str, Any]:
        return next(a for a in self.credentials["accounts"] if a["username"] == username)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Carnet exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def carnet_env(where: str, var_dir: Path, **settings_: str) -> dict[str, str]:
    """The environment of a `carnet` process on the database ``where`` (``name?host=..
    &port=..``): the app role to serve, the owner role to migrate, its own var dir."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carnet.settings",
        "DATABASE_URL": f"postgresql://{embedded.APP_ROLE}@/{where}",
        "DATABASE_OWNER_URL": f"postgresql://{embedded.OWNER_ROLE}@/{where}",
        "CARNET_VAR_DIR": str(var_dir),
        "CARNET_GNUPG_HOME": str(var_dir / "gnupg"),
        **settings_,
    }
    env.pop("CARNET_DATABASE_ROLE", None)
    return env


def own_database(name: str, var_dir: Path, **settings_: str) -> dict[str, str]:
    """A new, migrated database on the test PostgreSQL server, for the tests whose
    processes must see only what is committed: its name is the run's test database's
    and ``name`` (runs never collide). The environment of a `carnet` process on it, its
    name in ``CARNET_TEST_DATABASE``."""
    db = settings.DATABASES["default"]
    database = f"{db['NAME']}_{name}"
    embedded.create_database(superuser_conninfo(), database, drop_first=True)
    where = f"{database}?host={db['HOST']}&port={db['PORT']}"
    env = carnet_env(where, var_dir, CARNET_TEST_DATABASE=database, **settings_)
    subprocess.run([CARNET, "migrate", "--noinput", "-v0"], env=env, check=True)
    return env


@contextmanager
def live_carnet_running(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    setup: Sequence[Sequence[str]],
    *,
    no_tracebacks: bool = False,
) -> Iterator[LiveCarnet]:
    """Carnet served on a free loopback port from a database of its own, named after the
    run's test database and ``name`` (runs never collide), after the ``setup`` commands
    (``carnet <command>``). With ``no_tracebacks``, a traceback in the server's log fails
    the test at teardown."""
    var_dir = tmp_path_factory.mktemp(f"carnet-{name}-var")
    port = free_port()
    env = own_database(name, var_dir, SESSION_COOKIE_SECURE="false", PORT=str(port))
    for command in setup:
        subprocess.run([CARNET, *command], env=env, check=True, capture_output=True)
    log = open(var_dir / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [CARNET, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz", server)
        credentials = json.loads((var_dir / "demo-credentials.json").read_text())
        yield LiveCarnet(url=url, credentials=credentials, var_dir=var_dir)
    finally:
        server.terminate()
        # gunicorn lets a stopping worker finish its connections for up to its graceful
        # timeout (30 s), and a browser may hold one it opened ahead and never used.
        server.wait(timeout=45)
        log.close()
    if no_tracebacks:
        assert b"Traceback" not in (var_dir / "server.log").read_bytes()
