"""site.yml, run by ansible-runner over SSH against a booted Debian 12 systemd host,
brings up a working practice server; a second run changes nothing.

One host is booted for the module (systemd-nspawn in a network namespace made by
tests/infra/hosts.py) and site.yml runs on it once; the tests then look at the node
from the controller, over the test network, as a user and as an admin would.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra import hosts

pytestmark = pytest.mark.skipif(
    bool(hosts.missing_tools()),
    reason=f"cannot boot test hosts here, missing: {', '.join(hosts.missing_tools())}",
)

SERVICES = ["carnet-web", "carnet-gateway", "carnet-worker", "nginx", "postgresql"]


@dataclass
class Node:
    host: hosts.Host
    inventory: Path
    extravars: dict[str, object]
    first_run: hosts.PlaybookResult
    ca_file: Path


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    started = time.monotonic()
    with hosts.timed("wheelhouse (cached)"):
        wheelhouse = hosts.ensure_wheelhouse()
    with hosts.boot_hosts(["practice"]) as (host,), tempfile.TemporaryDirectory() as tmp:
        inventory = hosts.write_inventory(
            Path(tmp) / "inventory", {"primary": [host]}, example="practice-server"
        )
        # The cooperative's backup public key, so site.yml sets up the nightly backups.
        public_key, _secret, _fingerprint = hosts.cooperative_key(Path(tmp))
        keys = inventory / "files" / "backup-keys"
        keys.mkdir(parents=True, exist_ok=True)
        shutil.copy(public_key, keys / public_key.name)
        extravars = hosts.node_extravars(wheelhouse, hosts.test_secrets())
        first = hosts.run_playbook("site.yml", inventory, extravars, label="site.yml, first run")
        assert first.ok, first.failure_report()
        # The self-signed certificate the nginx role made on the host is the test's CA.
        ca_file = Path(tmp) / "node-cert.pem"
        ca_file.write_text(host.ssh("cat /etc/nginx/tls/cert.pem").stdout)
        yield Node(host, inventory, extravars, first, ca_file)
    print(f"[timing] test_ansible_site module: {time.monotonic() - started:.1f} s", flush=True)


def https_get(node: Node, path: str) -> tuple[int, dict[str, str], str]:
    """GET over TLS from the controller, verifying the node's certificate and name."""
    context = ssl.create_default_context(cafile=str(node.ca_file))
    connection = http.client.HTTPSConnection(node.host.ip, 443, context=context, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept-Language": "fr"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def test_the_login_page_is_served_over_https_by_nginx_with_hsts(node: Node) -> None:
    status, headers, body = https_get(node, "/connexion/")
    assert status == 200, body[:500]
    assert "Se connecter à Carnet" in body
    assert headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Server"] == "nginx"  # server_tokens off: no version

    # The home page sends an anonymous visitor to the login page.
    status, headers, _ = https_get(node, "/")
    assert status == 302 and "/connexion/" in headers["Location"]

    # nginx serves the collected static files itself (its Expires header), with HSTS.
    status, headers, _ = https_get(node, "/static/core/carnet.css")
    assert status == 200
    assert "Expires" in headers
    assert "Strict-Transport-Security" in headers

    # Plain HTTP only redirects to HTTPS.
    connection = http.client.HTTPConnection(node.host.ip, 80, timeout=30)
    connection.request("GET", "/connexion/")
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location", "").startswith("https://")
    connection.close()


def test_the_services_are_active_under_systemd_and_run_as_the_carnet_user(node: Node) -> None:
    active = node.host.ssh(f"systemctl is-active {' '.join(SERVICES)}", check=False)
    assert active.stdout.split() == ["active"] * len(SERVICES), active.stdout
    assert node.host.ssh("systemctl is-active postgresql@15-main").stdout.strip() == "active"
    for timer in ("carnet-audit-anchor.timer", "carnet-leaving.timer"):
        assert node.host.ssh(f"systemctl is-enabled {timer}").stdout.strip() == "enabled"
    for unit in ("carnet-web", "carnet-gateway", "carnet-worker"):
        pid = node.host.ssh(f"systemctl show -p MainPID --value {unit}").stdout.strip()
        assert pid not in ("", "0"), unit
        user = node.host.ssh(f"ps -o user= -p {pid}").stdout.strip()
        assert user == "carnet", f"{unit} runs as {user}"
        # Every process of the unit (gunicorn's workers too), not only the main one.
        users = node.host.ssh(f"ps -o user= --ppid {pid} --pid {pid} | sort -u").stdout.split()
        assert users == ["carnet"], f"{unit}: {users}"
    # The web process runs with the application role, never the owner's settings.
    environ = node.host.ssh(
        "tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value carnet-web)/environ"
    ).stdout
    assert "DATABASE_URL=postgresql://carnet_app:" in environ
    assert "DATABASE_OWNER_URL" not in environ
    gateway_environ = node.host.ssh(
        "tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value carnet-gateway)/environ"
    ).stdout
    assert "DATABASE_URL=postgresql://carnet_gateway:" in gateway_environ


def test_the_database_belongs_to_the_owner_role_and_the_audit_trail_verifies(node: Node) -> None:
    psql = "runuser -u postgres -- psql -XAt -d carnet -c"
    not_owned = node.host.ssh(
        f"{psql} \"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
        "AND tableowner <> 'carnet_owner'\""
    ).stdout.strip()
    tables = node.host.ssh(
        f"{psql} \"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'\""
    ).stdout.strip()
    assert int(tables) > 20 and not_owned == "0"
    # The reference data was loaded (as the owner role: the app role may only read it).
    drugs = node.host.ssh(f'{psql} "SELECT count(*) FROM records_drug"').stdout.strip()
    assert int(drugs) > 0
    # The node key exists and signs an anchor; the audit trail verifies (owner role).
    node.host.start_unit("carnet-audit-anchor.service", timeout=120)
    assert "carnet" in node.host.ssh("ls -l /var/lib/carnet/gnupg | tail -1").stdout
    verify = node.host.ssh("carnet audit verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # WAL archiving is on, each segment encrypted to the cooperative's backup keys (the
    # backups role, set up by site.yml because the inventory has a backup key).
    settings = node.host.ssh(
        "runuser -u postgres -- psql -XAt -c 'SHOW archive_mode' -c 'SHOW archive_command'"
    ).stdout.split("\n")
    assert settings[0] == "on" and "wal_archive --keyring" in settings[1]
    # The patient search can use its trigram index under row-level security.
    leakproof = node.host.ssh(
        'runuser -u postgres -- psql -XAtd carnet -c "SELECT count(*) FROM pg_proc'
        " WHERE proname LIKE 'word_similarity%op' AND proleakproof\""
    ).stdout.strip()
    assert leakproof == "2"


def test_site_sets_up_nightly_backups_with_public_keys_only(node: Node) -> None:
    assert node.host.ssh("systemctl is-active carnet-backup.timer").stdout.strip() == "active"
    # The nightly base backup (point-in-time recovery): its timer, and the owner role may
    # take it (REPLICATION, and a local replication line in pg_hba.conf).
    assert node.host.ssh("systemctl is-active carnet-basebackup.timer").stdout.strip() == "active"
    replication = node.host.ssh(
        "runuser -u postgres -- psql -XAtc"
        " \"SELECT rolreplication FROM pg_roles WHERE rolname = 'carnet_owner'\""
    ).stdout.strip()
    assert replication == "t"
    hba = node.host.ssh("cat /etc/postgresql/15/main/pg_hba.conf").stdout.split("\n")
    assert "host replication carnet_owner 127.0.0.1/32 scram-sha-256" in [
        " ".join(line.split()) for line in hba
    ]
    # The keyring directory holds the cooperative's public key, and no secret key: the
    # node cannot read its own backups.
    keys = node.host.ssh("cat /etc/carnet-backup-keys/*.asc").stdout
    assert "BEGIN PGP PUBLIC KEY BLOCK" in keys
    assert "PRIVATE KEY BLOCK" not in keys


def test_the_base_system_is_hardened(node: Node) -> None:
    sshd = node.host.ssh("sshd -T").stdout
    assert "passwordauthentication no" in sshd
    assert "permitrootlogin without-password" in sshd
    # The admin account logs in with its key, and is an administrator.
    admin = node.host.ssh("id admin").stdout
    assert "(sudo)" in admin
    # The firewall drops PostgreSQL from elsewhere (and lets HTTPS through, see above).
    with socket.socket() as sock:
        sock.settimeout(3)
        with pytest.raises(OSError):
            sock.connect((node.host.ip, 5432))
    ruleset = node.host.ssh("nft list chain inet filter input").stdout
    assert "policy drop" in ruleset
    assert node.host.ssh(
        "systemctl is-enabled unattended-upgrades systemd-timesyncd"
    ).stdout.split() == [
        "enabled",
        "enabled",
    ]


def test_a_second_run_changes_nothing(node: Node) -> None:
    second = hosts.run_playbook(
        "site.yml", node.inventory, node.extravars, label="site.yml, second run"
    )
    assert second.ok, second.failure_report()
    print(f"first run: {node.first_run.changed()} changes; second run: {second.changed()}")
    assert node.first_run.changed() > 0
    assert second.changed() == 0, second.changed_tasks()
    # Still serving afterwards.
    assert https_get(node, "/connexion/")[0] == 200
