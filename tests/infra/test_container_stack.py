"""The container image builds with podman, and the compose stack serves the login page
over HTTPS on loopback (first item of the deployment issue).

Slow (the first run builds a Debian base image and three images): it skips when podman
is missing, and CI, which turns skips into failures, installs podman (.ci/run).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "infra" / "compose"

# The workarounds this machine kind needs (see the testbed notes): crun cannot set
# RLIMIT_NOFILE here and the cgroups are hybrid.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""
# Where builds go through a TLS-intercepting proxy, pip inside the build needs the
# host's CA bundle; it is mounted for the build only.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def timed(label: str, timings: dict[str, float]):  # type: ignore[no-untyped-def]
    class _Timer:
        def __enter__(self) -> None:
            self.start = time.monotonic()

        def __exit__(self, *exc: object) -> None:
            timings[label] = time.monotonic() - self.start
            print(f"[timing] {label}: {timings[label]:.1f} s", flush=True)

    return _Timer()


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(command: list[str], env: dict[str, str], timeout: float = 1800) -> str:
    result = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result.stdout


def podman_compose() -> list[str]:
    found = shutil.which("podman-compose") or str(Path(sys.executable).parent / "podman-compose")
    if not Path(found).exists():
        pytest.skip("podman-compose is not installed (pip install podman-compose)")
    return [found]


def write_env_files(directory: Path) -> None:
    """Real env files, made from the committed examples with fresh passwords."""
    owner, app, gateway = (secrets.token_urlsafe(24) for _ in range(3))
    (directory / "postgres.env").write_text(
        f"CARNET_OWNER_PASSWORD={owner}\nCARNET_APP_PASSWORD={app}\n"
        f"CARNET_GATEWAY_PASSWORD={gateway}\n"
    )
    carnet_env = (COMPOSE_DIR / "carnet.env.example").read_text()
    carnet_env = carnet_env.replace("change-me-to-50-random-characters", secrets.token_urlsafe(50))
    carnet_env = carnet_env.replace("change-me-app", app)
    (directory / "carnet.env").write_text(carnet_env + "WEB_CONCURRENCY=2\n")
    (directory / "migrate.env").write_text(
        f"DATABASE_OWNER_URL=postgresql://carnet_owner:{owner}@db:5432/carnet\n"
    )
    (directory / "gateway.env").write_text(
        f"DATABASE_URL=postgresql://carnet_gateway:{gateway}@db:5432/carnet\n"
    )


def https_get(url: str, timeout: float = 10) -> tuple[int, dict[str, str], str]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the stack's certificate is self-signed
    try:
        # An https:// URL the test builds itself.
        with urllib.request.urlopen(url, context=context, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


def wait_for_login_page(url: str, deadline: float) -> tuple[int, dict[str, str], str]:
    last: object = None
    while time.monotonic() < deadline:
        try:
            status, headers, body = https_get(url)
            if status == 200:
                return status, headers, body
            last = status
        except (OSError, ssl.SSLError) as error:
            last = error
        time.sleep(2)
    raise AssertionError(f"{url} did not answer 200 in time (last: {last!r})")


def wait_until_healthy(container: str, env: dict[str, str], deadline: float) -> None:
    """Run the container's declared health check until it passes. The login page
    answering means the web service is up, not that its siblings have finished starting
    (podman-compose before podman 4.6 starts them together), so each is given the time its
    health check's start period allows."""
    while True:
        result = subprocess.run(
            ["podman", "healthcheck", "run", container],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{container} still unhealthy: {result.stdout.strip()} {result.stderr.strip()}"
            )
        time.sleep(2)


@pytest.fixture
def podman_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (CI installs it: .ci/run)")
    conf = tmp_path / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    write_env_files(env_dir)
    env = dict(os.environ)
    env.update(
        CONTAINERS_CONF=str(conf),
        CARNET_ENV_DIR=str(env_dir),
        CARNET_HTTPS_BIND=f"127.0.0.1:{free_loopback_port()}",
    )
    yield env


def build_images(env: dict[str, str], timings: dict[str, float]) -> None:
    podman_build = ["podman", "build", "--format", "docker", "--quiet"]
    ca = []
    if HOST_CA_BUNDLE.exists():
        ca = [
            "-v",
            f"{HOST_CA_BUNDLE}:/run/build-ca.crt:ro",
            "--build-arg",
            "PIP_CERT=/run/build-ca.crt",
        ]
    with timed("base image", timings):
        run(["bash", str(COMPOSE_DIR / "base-image.sh")], env)
    with timed("build carnet image", timings):
        run(
            [
                *podman_build,
                *ca,
                "--ignorefile",
                str(COMPOSE_DIR / "containerignore"),
                "-f",
                str(COMPOSE_DIR / "Containerfile"),
                "-t",
                "localhost/carnet:dev",
                str(ROOT),
            ],
            env,
        )
    for name, tag in (
        ("postgres", "localhost/carnet-postgres:15"),
        ("nginx", "localhost/carnet-nginx:dev"),
    ):
        with timed(f"build {name} image", timings):
            run(
                [
                    *podman_build,
                    "-f",
                    str(COMPOSE_DIR / f"{name}.Containerfile"),
                    "-t",
                    tag,
                    str(COMPOSE_DIR),
                ],
                env,
            )


def test_the_stack_serves_the_login_page_over_https_on_loopback(
    podman_env: dict[str, str],
) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()
    build_images(podman_env, timings)

    project = f"carnet-test-{secrets.token_hex(3)}"
    compose = [*podman_compose(), "-p", project, "-f", str(COMPOSE_DIR / "compose.yaml")]
    base_url = f"https://{podman_env['CARNET_HTTPS_BIND']}"
    try:
        with timed("compose up", timings):
            run([*compose, "up", "-d", "--no-build"], podman_env, timeout=600)
        with timed("stack ready (login page answers)", timings):
            status, headers, body = wait_for_login_page(
                f"{base_url}/connexion/", deadline=time.monotonic() + 300
            )

        assert status == 200
        assert "Se connecter à Carnet" in body
        assert headers.get("Strict-Transport-Security", "").startswith("max-age=")

        # The health checks each service declares pass (podman runs them on demand
        # where no systemd timer runs them), within their start period (compose.yaml).
        with timed("every health check passes", timings):
            deadline = time.monotonic() + 120
            for service in ("db", "web", "gateway", "worker", "nginx"):
                wait_until_healthy(f"{project}_{service}_1", podman_env, deadline)

        # nginx serves the collected static files itself.
        static_status, static_headers, _ = https_get(f"{base_url}/static/core/carnet.css")
        assert static_status == 200
        assert "Expires" in static_headers  # nginx's, not whitenoise's
    except BaseException:
        logs = subprocess.run(
            [*compose, "logs"], env=podman_env, cwd=ROOT, capture_output=True, text=True
        )
        print(logs.stdout[-20000:], logs.stderr[-5000:])
        raise
    finally:
        with timed("compose down -v", timings):
            subprocess.run(
                [*compose, "down", "-v", "-t", "5"],
                env=podman_env,
                cwd=ROOT,
                capture_output=True,
                timeout=300,
            )
        print(f"[timing] whole test: {time.monotonic() - started:.1f} s", flush=True)
