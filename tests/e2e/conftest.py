"""A real Carnet, started as in production (gunicorn, its own database on the test
PostgreSQL server, migrations as the owner role, the app role for serving), and a real
Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from carnet import embedded
from tests.conftest import superuser_conninfo

CHROMIUM = os.environ.get("CARNET_CHROMIUM", "/usr/bin/chromium")
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


@pytest.fixture(scope="session")
def live_carnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCarnet]:
    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_e2e"  # beside the run's own test database: runs never collide
    embedded.create_database(superuser_conninfo(), name, drop_first=True)
    var_dir = tmp_path_factory.mktemp("carnet-var")
    where = f"{name}?host={db['HOST']}&port={db['PORT']}"
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carnet.settings",
        "DATABASE_URL": f"postgresql://{embedded.APP_ROLE}@/{where}",
        "DATABASE_OWNER_URL": f"postgresql://{embedded.OWNER_ROLE}@/{where}",
        "CARNET_VAR_DIR": str(var_dir),
        "CARNET_GNUPG_HOME": str(var_dir / "gnupg"),
        "SESSION_COOKIE_SECURE": "false",
        "PORT": str(port),
    }
    env.pop("CARNET_DATABASE_ROLE", None)
    subprocess.run([CARNET, "migrate", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([CARNET, "load_reference"], env=env, check=True, capture_output=True)
    subprocess.run([CARNET, "load_fees"], env=env, check=True, capture_output=True)
    subprocess.run(
        [CARNET, "demo_data", "--patients", "30"], env=env, check=True, capture_output=True
    )
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
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()
