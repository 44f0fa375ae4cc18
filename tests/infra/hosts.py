"""Real Debian 12 systemd hosts for the Ansible tests, and a way to run playbooks on them.

The API, for any test that deploys with Ansible::

    from tests.infra import hosts

    wheelhouse = hosts.ensure_wheelhouse()          # Carnet + its deps, built here
    with hosts.boot_hosts(["node"]) as (node,):     # booted, SSH reachable
        inventory = hosts.write_inventory(
            tmp_path / "inventory", {"primary": [node]}, example="practice-server"
        )
        result = hosts.run_playbook(
            "site.yml", inventory, hosts.node_extravars(wheelhouse, hosts.test_secrets())
        )
        assert result.ok, result.failure_report()
        print(node.ssh("systemctl is-active carnet-web").stdout)

- ``ensure_rootfs()`` builds (once, cached under ``/var/cache/carnet/`` and keyed by a
  hash of its recipe) a Debian 12 tree with debootstrap: systemd, SSH, Python and every
  package the roles install, because the booted hosts have no route to any mirror.
- ``boot_hosts(names)`` boots one ``systemd-nspawn -b --volatile=overlay`` machine per
  name, each in a network namespace of its own, joined to a bridge in the root namespace
  (``10.200.N.0/24``, the controller is ``.1``), so the hosts reach each other and the
  controller reaches them. Writes go to a tmpfs: every boot starts from the clean tree.
  Everything (machines, namespaces, veths, bridge) is torn down on exit, also on failure.
- ``run_playbook(playbook, inventory, extravars)`` runs a playbook of ``infra/ansible``
  through ansible-runner over SSH and returns its status and per-host stats.

The machines are started with ``--register=no --keep-unit``: PID 1 on the controller
is not systemd, so there is no machined to register with (``machinectl`` does not list
them); each ``Host`` keeps its ``systemd-nspawn`` process instead.

Needs root, ``systemd-nspawn`` (systemd-container), ``ip`` (iproute2), ``ssh`` and
``debootstrap``; ``missing_tools()`` names what is missing so a test can skip (and CI,
which installs them all, fails instead).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = ROOT / "infra" / "ansible"
CACHE_DIR = Path(os.environ.get("CARNET_CACHE_DIR", "/var/cache/carnet"))
RUN_DIR = Path("/run/carnet-hosts")
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")

# What debootstrap installs: a bootable systemd host reachable over SSH with Python.
BASE_PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "sudo",
    "iproute2",
    "ca-certificates",
]
# Every package the roles install (the hosts cannot download anything), plus what the
# backup playbooks need. Keep in step with the roles' package lists.
ROLE_PACKAGES = [
    # base
    "nftables",
    "unattended-upgrades",
    "apt-listchanges",
    "systemd-timesyncd",
    "acl",
    "rsync",
    "procps",
    "curl",
    "openssl",
    "ssl-cert",
    "zstd",
    "xz-utils",
    # postgresql
    "postgresql-15",
    "postgresql-contrib",
    "postgresql-client-15",
    # postgresql with automatic failover (postgresql_failover: pg_auto_failover)
    "postgresql-15-auto-failover",
    # carnet
    "python3-venv",
    "gnupg",
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "fonts-dejavu-core",
    # nginx
    "nginx",
]
ROOTFS_RECIPE = {
    "suite": "bookworm",
    "variant": "minbase",
    "base": BASE_PACKAGES,
    "packages": ROLE_PACKAGES,
    "version": 2,  # raise when the preparation steps below change
}

SSH_OPTIONS = [
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=5",
]


def log(message: str) -> None:
    print(f"[hosts] {message}", flush=True)


@contextlib.contextmanager
def timed(label: str, timings: dict[str, float] | None = None) -> Iterator[None]:
    """Print how long a step took (and keep it in ``timings`` if given)."""
    start = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - start
        if timings is not None:
            timings[label] = elapsed
        print(f"[timing] {label}: {elapsed:.1f} s", flush=True)


def missing_tools() -> list[str]:
    """The tools this harness needs that are missing here (empty when all is well)."""
    missing = [
        tool
        for tool in ("systemd-nspawn", "ip", "ssh", "ssh-keygen", "debootstrap")
        if shutil.which(tool) is None
    ]
    if os.geteuid() != 0:
        missing.append("root (network namespaces and systemd-nspawn)")
    return missing


def run(command: list[str], *, timeout: float = 600, check: bool = True, **kwargs: Any):  # type: ignore[no-untyped-def]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(command)} exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )
    return result


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _key(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# --- The Debian 12 tree -------------------------------------------------------------------


def ensure_rootfs() -> Path:
    """The cached Debian 12 tree the hosts boot from (built on first use, ~3 min)."""
    key = _key(ROOTFS_RECIPE)
    rootfs = CACHE_DIR / f"ansible-host-{key}"
    with file_lock(CACHE_DIR / f"ansible-host-{key}.lock"):
        if (rootfs / ".carnet-complete").exists():
            return rootfs
        if missing := [t for t in ("debootstrap", "systemd-nspawn") if shutil.which(t) is None]:
            raise RuntimeError(f"cannot build the host tree, missing: {', '.join(missing)}")
        with timed("build the Debian 12 host tree (debootstrap, once)"):
            building = Path(tempfile.mkdtemp(prefix=f"ansible-host-{key}.", dir=CACHE_DIR))
            try:
                _build_rootfs(building)
                if rootfs.exists():
                    shutil.rmtree(rootfs)
                building.rename(rootfs)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
    return rootfs


def _build_rootfs(tree: Path) -> None:
    tree.chmod(0o755)
    run(
        [
            "debootstrap",
            f"--variant={ROOTFS_RECIPE['variant']}",
            f"--include={','.join(BASE_PACKAGES)}",
            str(ROOTFS_RECIPE["suite"]),
            str(tree),
            MIRROR,
        ],
        timeout=1200,
    )
    # No service may start while packages install in the tree.
    policy = tree / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    (tree / "etc/apt/sources.list").write_text(
        f"deb {MIRROR} bookworm main\ndeb {MIRROR} bookworm-updates main\n"
        "deb http://deb.debian.org/debian-security bookworm-security main\n"
    )
    nspawn = ["systemd-nspawn", "-q", "-D", str(tree), "--register=no", "--keep-unit"]
    env = ["env", "DEBIAN_FRONTEND=noninteractive", "LANG=C.UTF-8"]
    run([*nspawn, *env, "apt-get", "update", "-qq"], timeout=600)
    run(
        [
            *nspawn,
            *env,
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            *ROLE_PACKAGES,
        ],
        timeout=1800,
    )
    run([*nspawn, "apt-get", "clean"])
    policy.unlink()
    # Each boot gets its own machine id; SSH as root with a key only (the tests' key is
    # bind-mounted at boot).
    (tree / "etc/machine-id").write_text("")
    ssh_dir = tree / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").touch(mode=0o600)
    # The console has nobody to talk to.
    for unit in ("console-getty.service", "getty@tty1.service"):
        link = tree / "etc/systemd/system" / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    (tree / ".carnet-complete").write_text(json.dumps(ROOTFS_RECIPE))


# --- The release: a wheelhouse of Carnet and its dependencies --------------------------


@dataclasses.dataclass(frozen=True)
class Wheelhouse:
    """A tarball of wheels (Carnet and every dependency) and the release's name."""

    archive: Path
    release: str


def _source_hash() -> str:
    digest = hashlib.sha256()
    for base in ("pyproject.toml", "README.md", "services"):
        path = ROOT / base
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def ensure_wheelhouse(release: str | None = None) -> Wheelhouse:
    """Build (cached) the wheelhouse the ``carnet`` role installs from.

    Dependencies are cached by a hash of pyproject.toml (slow to build, rarely changes);
    the Carnet wheel by a hash of the source tree (fast, changes often). The release
    name defaults to ``<version>-<source hash>``.
    """
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    version = pyproject["project"]["version"]
    source = _source_hash()
    release = release or f"{version}-{source}"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)

    deps_key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    deps_dir = CACHE_DIR / f"wheels-deps-{deps_key}"
    with file_lock(CACHE_DIR / f"wheels-deps-{deps_key}.lock"):
        if not (deps_dir / ".complete").exists():
            with timed("pip wheel: Carnet's dependencies (once per pyproject.toml)"):
                shutil.rmtree(deps_dir, ignore_errors=True)
                deps_dir.mkdir()
                requirements = deps_dir / "requirements.txt"
                requirements.write_text("\n".join(pyproject["project"]["dependencies"]) + "\n")
                run(
                    [*pip, "wheel", "-q", "-w", str(deps_dir), "-r", str(requirements)],
                    timeout=1800,
                )
                requirements.unlink()
                (deps_dir / ".complete").touch()

    carnet_dir = CACHE_DIR / f"wheels-carnet-{source}"
    with file_lock(CACHE_DIR / f"wheels-carnet-{source}.lock"):
        if carnet_dir.exists():
            os.utime(carnet_dir)
        if not (carnet_dir / ".complete").exists():
            with timed("pip wheel: Carnet"):
                shutil.rmtree(carnet_dir, ignore_errors=True)
                carnet_dir.mkdir()
                with tempfile.TemporaryDirectory() as tmp:
                    # Build from a copy: setuptools writes build/ and egg-info in place.
                    src = Path(tmp) / "src"
                    src.mkdir()
                    shutil.copy(ROOT / "pyproject.toml", src)
                    shutil.copy(ROOT / "README.md", src)
                    shutil.copytree(
                        ROOT / "services",
                        src / "services",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    )
                    run(
                        [*pip, "wheel", "-q", "--no-deps", "-w", str(carnet_dir), str(src)],
                        timeout=600,
                    )
                (carnet_dir / ".complete").touch()

    archive = CACHE_DIR / f"carnet-release-{release}-{deps_key}.tar"
    with file_lock(CACHE_DIR / f"carnet-release-{release}.lock"):
        if not archive.exists():
            partial = archive.with_suffix(".partial")
            with tarfile.open(partial, "w") as tar:
                for wheel in sorted([*deps_dir.glob("*.whl"), *carnet_dir.glob("*.whl")]):
                    tar.add(wheel, arcname=wheel.name)
            partial.rename(archive)
        os.utime(archive)  # most recently used: kept by the pruning below
    _prune_cache()
    return Wheelhouse(archive=archive, release=release)


def _prune_cache(keep: int = 6) -> None:
    """Keep the most recently used release tarballs and Carnet wheels (64 MB each)."""
    for pattern, is_dir in (("carnet-release-*.tar", False), ("wheels-carnet-*", True)):
        found = [p for p in CACHE_DIR.glob(pattern) if p.is_dir() == is_dir]
        found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in found[keep:]:
            with contextlib.suppress(OSError):
                shutil.rmtree(old) if is_dir else old.unlink()


# --- Booting hosts ----------------------------------------------------------------------


@dataclasses.dataclass
class Host:
    """One booted machine: ``name``, ``ip`` (on the test bridge) and SSH as root."""

    name: str
    ip: str
    netns: str
    key: Path
    console: Path
    process: subprocess.Popen[bytes] | None = None

    def ssh(
        self, command: str, *, check: bool = True, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a shell command on the host as root; raise on a non-zero exit if check."""
        result = subprocess.run(
            ["ssh", *SSH_OPTIONS, "-i", str(self.key), f"root@{self.ip}", command],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"on {self.name}: {command!r} exited with {result.returncode}\n"
                f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
            )
        return result

    def start_unit(self, unit: str, *, timeout: float = 600) -> None:
        """Start a oneshot unit and wait for it; on failure, raise with its journal."""
        result = self.ssh(f"systemctl start {unit}", check=False, timeout=timeout)
        if result.returncode != 0:
            journal = self.ssh(
                f"journalctl -u {unit} --no-pager -o short-precise -n 120", check=False
            )
            raise RuntimeError(
                f"on {self.name}: systemctl start {unit} exited with {result.returncode}\n"
                f"--- stderr\n{result.stderr[-2000:]}\n--- journal\n{journal.stdout[-8000:]}"
            )

    def console_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.console.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclasses.dataclass
class _Network:
    index: int
    bridge: str
    lock_handle: Any

    @property
    def gateway(self) -> str:
        return f"10.200.{self.index}.1"


def _claim_network() -> _Network:
    """Take a free 10.200.N.0/24 (a lock file per N, held while the hosts run)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    for index in range(10, 250):
        handle = (RUN_DIR / f"net-{index}.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        network = _Network(index=index, bridge=f"cbr{index}", lock_handle=handle)
        _cleanup_network(network)  # leftovers of a run that was killed
        addresses = run(["ip", "-o", "-4", "addr", "show"]).stdout
        if f" 10.200.{index}." in addresses:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
            continue
        return network
    raise RuntimeError("no free 10.200.N.0/24 network for test hosts")


def _cleanup_network(network: _Network) -> None:
    pids = RUN_DIR / f"net-{network.index}.pids"
    if pids.exists():
        for pid in pids.read_text().split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(pid), signal.SIGKILL)
        pids.unlink()
    prefix = f"carnet{network.index}-"
    for line in run(["ip", "netns", "list"]).stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(prefix):
            run(["ip", "netns", "delete", name], check=False)
    run(["ip", "link", "delete", network.bridge], check=False)
    # A host stopped abruptly (the failover drill stops the primary's) can leave its veth
    # behind: the namespace loses its name, but the kernel keeps it while the dead host's
    # sockets close, and the next "ip link add" of that name fails with "File exists".
    # Deleting our end deletes the pair.
    for line in run(["ip", "-o", "link", "show"]).stdout.splitlines():
        name = line.split(":", 2)[1].strip().split("@", 1)[0] if line.count(":") >= 2 else ""
        if name.startswith(f"cv{network.index}x"):
            run(["ip", "link", "delete", name], check=False)


def _start_network(network: _Network) -> None:
    run(["ip", "link", "add", network.bridge, "type", "bridge"])
    run(["ip", "addr", "add", f"{network.gateway}/24", "dev", network.bridge])
    run(["ip", "link", "set", network.bridge, "up"])


def _plug(network: _Network, number: int, netns: str, ip: str) -> None:
    outside, inside = f"cv{network.index}x{number}", f"cp{network.index}x{number}"
    run(["ip", "netns", "add", netns])
    run(["ip", "link", "add", outside, "type", "veth", "peer", "name", inside])
    run(["ip", "link", "set", outside, "master", network.bridge, "up"])
    run(["ip", "link", "set", inside, "netns", netns])
    ns = ["ip", "-n", netns]
    run([*ns, "link", "set", inside, "name", "eth0"])
    run([*ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
    run([*ns, "link", "set", "lo", "up"])
    run([*ns, "link", "set", "eth0", "up"])
    run([*ns, "route", "add", "default", "via", network.gateway])


def _wait_until_running(host: Host, deadline: float) -> str:
    last = ""
    while time.monotonic() < deadline:
        if host.process is not None and host.process.poll() is not None:
            raise RuntimeError(
                f"{host.name}: systemd-nspawn exited with {host.process.returncode}\n"
                f"{host.console_tail()}"
            )
        try:
            result = host.ssh("systemctl is-system-running --wait", check=False, timeout=60)
        except subprocess.TimeoutExpired:
            continue
        state = result.stdout.strip()
        if state in ("running", "degraded"):
            return state
        last = f"{state} {result.stderr.strip()}"
        time.sleep(0.5)
    raise RuntimeError(f"{host.name} did not boot in time (last: {last})\n{host.console_tail()}")


def _stop_host(host: Host) -> None:
    process = host.process
    if process is None or process.poll() is not None:
        return
    # SIGTERM asks systemd-nspawn for an orderly shutdown of the machine.
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def boot_hosts(names: list[str], *, boot_timeout: float = 120) -> Iterator[list[Host]]:
    """Boot one Debian 12 systemd host per name; yield them booted and reachable.

    Each host: ``systemd-nspawn -b --volatile=overlay`` of the cached tree, in its own
    network namespace, with ``eth0`` = ``10.200.N.(10+i)/24`` on a bridge whose address
    ``10.200.N.1`` is the controller's. Root logs in over SSH with a key made for this
    boot (``host.key``). On exit, whatever happened, the machines are powered off and
    the namespaces, veths and bridge deleted.
    """
    if missing := missing_tools():
        raise RuntimeError(f"cannot boot hosts, missing: {', '.join(missing)}")
    rootfs = ensure_rootfs()
    network = _claim_network()
    workdir = Path(tempfile.mkdtemp(prefix="carnet-hosts-"))
    key = workdir / "id_ed25519"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "carnet-tests", "-f", str(key)])
    started: list[Host] = []
    try:
        with timed(f"boot {len(names)} host(s): {', '.join(names)}"):
            _start_network(network)
            for number, name in enumerate(names):
                host = Host(
                    name=name,
                    ip=f"10.200.{network.index}.{10 + number}",
                    netns=f"carnet{network.index}-{name}"[:30],
                    key=key,
                    console=workdir / f"{name}.console",
                )
                _plug(network, number, host.netns, host.ip)
                hostname = workdir / f"{name}.hostname"
                hostname.write_text(f"{name}\n")
                # Names resolve locally, as on an installed server (sudo and fact gathering
                # look the host name up); there is no DNS server to wait for.
                etc_hosts = workdir / f"{name}.hosts"
                etc_hosts.write_text(
                    "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
                    + "".join(
                        f"10.200.{network.index}.{10 + n} {other}\n"
                        for n, other in enumerate(names)
                    )
                )
                # A machine id of its own: systemd would copy the tree's dbus id, the same
                # for every host; hidden, it takes the --uuid nspawn passes.
                no_dbus_id = workdir / "empty"
                no_dbus_id.write_text("")
                resolv = workdir / "resolv.conf"
                resolv.write_text("# no DNS on the test network\noptions timeout:1 attempts:1\n")
                with host.console.open("wb") as console:
                    host.process = subprocess.Popen(
                        [
                            "systemd-nspawn",
                            "--quiet",
                            "--boot",
                            f"--directory={rootfs}",
                            f"--machine={name}",
                            f"--hostname={name}",
                            "--register=no",
                            "--keep-unit",
                            "--volatile=overlay",
                            "--console=read-only",
                            # nftables in its own namespace (the base role's firewall).
                            "--capability=CAP_NET_ADMIN",
                            f"--network-namespace-path=/run/netns/{host.netns}",
                            f"--uuid={uuid.uuid4()}",
                            f"--bind-ro={key}.pub:/root/.ssh/authorized_keys",
                            f"--bind-ro={hostname}:/etc/hostname",
                            f"--bind-ro={no_dbus_id}:/var/lib/dbus/machine-id",
                            f"--bind-ro={etc_hosts}:/etc/hosts",
                            f"--bind-ro={resolv}:/etc/resolv.conf",
                            "--resolv-conf=off",
                        ],
                        stdin=subprocess.DEVNULL,
                        stdout=console,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                started.append(host)
                with (RUN_DIR / f"net-{network.index}.pids").open("a") as pids:
                    pids.write(f"{host.process.pid}\n")
            deadline = time.monotonic() + boot_timeout
            for host in started:
                state = _wait_until_running(host, deadline)
                log(f"{host.name} is up at {host.ip} ({state})")
        yield started
    finally:
        with timed("tear down the hosts"):
            for host in started:
                _stop_host(host)
            _cleanup_network(network)
            fcntl.flock(network.lock_handle, fcntl.LOCK_UN)
            network.lock_handle.close()
            shutil.rmtree(workdir, ignore_errors=True)


# --- Running playbooks --------------------------------------------------------------------


def test_secrets() -> dict[str, str]:
    """Fresh secrets for a test node, as extravars (they override the vault's placeholders)."""
    return {
        "carnet_secret_key": secrets.token_urlsafe(50),
        "carnet_db_owner_password": secrets.token_urlsafe(24),
        "carnet_db_app_password": secrets.token_urlsafe(24),
        "carnet_db_gateway_password": secrets.token_urlsafe(24),
        "carnet_db_replication_password": secrets.token_urlsafe(24),
        "carnet_db_monitor_password": secrets.token_urlsafe(24),
    }


def node_extravars(wheelhouse: Wheelhouse, secrets_: dict[str, str], **more: Any) -> dict[str, Any]:
    """The extravars a test node needs: the release, the secrets, and small tuning (the
    test hosts share two cores with everything else)."""
    extravars: dict[str, Any] = {
        "carnet_release": wheelhouse.release,
        "carnet_release_archive": str(wheelhouse.archive),
        "carnet_web_workers": 2,
        "carnet_gateway_workers": 1,
        "postgresql_memory_mb": 1024,
        **secrets_,
    }
    extravars.update(more)
    return extravars


def write_inventory(
    directory: Path,
    groups: dict[str, list[Host]],
    *,
    example: str = "practice-server",
    server_name: str | None = None,
) -> Path:
    """An inventory for booted hosts: the example inventory's group_vars, our hosts.

    ``groups`` maps a group (``primary``, ``standby``) to hosts. The node's server name
    defaults to the first primary's IP (so ALLOWED_HOSTS and the certificate match the
    address the test fetches from).
    """
    directory.mkdir(parents=True, exist_ok=True)
    source = ANSIBLE_DIR / "inventories" / example
    shutil.copytree(source / "group_vars", directory / "group_vars", dirs_exist_ok=True)
    primary = groups.get("primary") or [h for hs in groups.values() for h in hs]
    name = server_name or primary[0].ip
    children: dict[str, Any] = {}
    for group, members in groups.items():
        children[group] = {
            "hosts": {
                host.name: {
                    "ansible_host": host.ip,
                    "ansible_user": "root",
                    "ansible_ssh_private_key_file": str(host.key),
                }
                for host in members
            }
        }
    for group in ("primary", "standby"):
        children.setdefault(group, {"hosts": {}})
    inventory = {
        "all": {
            "vars": {
                "carnet_server_name": name,
                "carnet_allowed_hosts": [name, "localhost", "127.0.0.1"],
                "base_admin_users": [
                    {
                        "name": "admin",
                        "ssh_keys": [(primary[0].key.with_suffix(".pub")).read_text().strip()],
                    }
                ],
            },
            "children": children,
        }
    }
    (directory / "hosts.yml").write_text(json.dumps(inventory, indent=2))
    return directory


@dataclasses.dataclass
class PlaybookResult:
    """What a playbook run did: ``status`` ('successful', 'failed'...), ``rc``, ``stats``
    (ansible's per-host counters: ``stats['changed'][host]``...), and its events."""

    status: str
    rc: int
    stats: dict[str, dict[str, int]]
    events: list[dict[str, Any]]
    artifacts: Path

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0

    def changed(self, host: str | None = None) -> int:
        counts = self.stats.get("changed", {})
        return counts.get(host, 0) if host else sum(counts.values())

    def changed_tasks(self) -> list[str]:
        """'host: task' for every task that reported a change."""
        return [
            f"{e['event_data'].get('host')}: {e['event_data'].get('task')}"
            for e in self.events
            if e.get("event") == "runner_on_ok" and e["event_data"].get("res", {}).get("changed")
        ]

    def failure_report(self) -> str:
        lines = [f"status={self.status} rc={self.rc} stats={self.stats}"]
        for event in self.events:
            if event.get("event") in ("runner_on_failed", "runner_on_unreachable"):
                data = event["event_data"]
                if data.get("ignore_errors"):
                    continue
                res = data.get("res", {})
                detail = {
                    k: res.get(k)
                    for k in ("msg", "stdout", "stderr", "rc", "results")
                    if res.get(k) not in (None, "", [])
                }
                lines.append(
                    f"{event['event']} {data.get('host')}: {data.get('task')}\n"
                    f"{json.dumps(detail, indent=1, default=str)[-4000:]}"
                )
        if len(lines) == 1:
            lines.append("\n".join(e.get("stdout", "") for e in self.events)[-6000:])
        return "\n".join(lines)


def run_playbook(
    playbook: str,
    inventory: Path,
    extravars: dict[str, Any] | None = None,
    *,
    label: str | None = None,
    timeout: int = 1800,
    private_data_dir: Path | None = None,
) -> PlaybookResult:
    """Run ``infra/ansible/<playbook>`` with ansible-runner over SSH.

    ``inventory`` is a directory made by ``write_inventory`` (or any inventory path).
    The run's artifacts (events, stdout) stay in ``private_data_dir`` (a new directory
    under /tmp by default; ``result.artifacts``). Returns a ``PlaybookResult``; it does
    not raise when the play fails (check ``.ok``, print ``.failure_report()``).
    """
    import ansible_runner

    private = private_data_dir or Path(tempfile.mkdtemp(prefix="carnet-runner-"))
    private.mkdir(parents=True, exist_ok=True)
    bin_dir = str(Path(sys.executable).parent)
    envvars = {
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ANSIBLE_DIR / "roles"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_SSH_ARGS": (
            "-o ControlMaster=auto -o ControlPersist=120s -o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
        ),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(private / "cp"),
        "ANSIBLE_LOCAL_TEMP": str(private / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    os.environ["PATH"] = envvars["PATH"]  # ansible-runner looks ansible-playbook up here
    with timed(label or f"ansible-runner {playbook}"):
        runner = ansible_runner.run(
            private_data_dir=str(private),
            project_dir=str(ANSIBLE_DIR),
            playbook=str(ANSIBLE_DIR / playbook),
            inventory=str(inventory),
            extravars=extravars or {},
            envvars=envvars,
            quiet=True,
            timeout=timeout,
        )
    events = list(runner.events)
    stats = runner.stats or {}
    result = PlaybookResult(
        status=runner.status,
        rc=runner.rc,
        stats={k: dict(v) for k, v in stats.items() if isinstance(v, dict)},
        events=events,
        artifacts=Path(runner.config.artifact_dir),
    )
    log(f"{playbook}: {result.status}, changed={result.stats.get('changed', {})}")
    return result


def _gpg(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--no-tty", *args], capture_output=True
    )


def cooperative_key(tmp: Path) -> tuple[Path, Path, str]:
    """The cooperative's backup key pair: (public file, secret file, fingerprint)."""
    home = tmp / "cooperative-gnupg"
    home.mkdir(mode=0o700)
    uid = "Carnet backups 2026 <backups@cooperative.example.org>"
    assert _gpg(home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
    listed = _gpg(home, "--with-colons", "--list-keys").stdout.decode()
    fingerprint = next(line.split(":")[9] for line in listed.splitlines() if line[:3] == "fpr")
    added = _gpg(home, "--passphrase", "", "--quick-add-key", fingerprint, "cv25519", "encr")
    assert added.returncode == 0, added.stderr
    public, secret = tmp / "cooperative-backup.asc", tmp / "cooperative-backup.secret.asc"
    public.write_bytes(_gpg(home, "--armor", "--export", fingerprint).stdout)
    secret.write_bytes(_gpg(home, "--armor", "--export-secret-keys", fingerprint).stdout)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)
    return public, secret, fingerprint
