"""The node's state for its administrators: `carnet ops status` (text, exit code) and
the admin part of the health check; the public /healthz stays minimal."""

from __future__ import annotations

import gc
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from carnet import cli
from core import node_status, openpgp
from core.access.policy import Actor, NodeAction, decide_node
from core.accounts.models import Person
from tests.core.test_cooperative_page import events
from tests.factories import PersonFactory
from tests.fixtures import World
from tests.records.test_views import login

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def write_manifest(directory: Path, created: datetime, name: str = "lyon") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = created.strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"carnet-{name}-{stamp}.manifest.json"
    path.write_text(json.dumps({"created_at": created.isoformat(timespec="seconds")}))
    return path


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The checks' messages in English (pages and `--lang` choose their own)."""
    with translation.override("en"):
        yield


@pytest.fixture
def node_gnupg(settings, tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "gnupg"
    settings.CARNET_GNUPG_HOME = home
    yield home
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


@pytest.fixture
def backups(settings, tmp_path: Path) -> Path:
    settings.CARNET_BACKUP_DIR = tmp_path / "backups"
    return settings.CARNET_BACKUP_DIR


# --- the checks ----------------------------------------------------------------------


def test_a_primary_without_standby_says_so(db: None) -> None:
    check = node_status.replication()
    assert (check.level, check.message) == ("OK", "no standby")


def test_no_standby_is_critical_on_a_regional_node(db: None, settings) -> None:
    settings.CARNET_EXPECT_STANDBY = True
    check = node_status.replication()
    assert check.level == "CRITICAL" and "no standby" in check.message


@pytest.mark.parametrize(
    ("age", "level"),
    [
        (timedelta(hours=10), "OK"),
        (timedelta(hours=30), "WARNING"),
        (timedelta(days=3), "CRITICAL"),
    ],
)
def test_the_backup_check_reads_the_newest_manifest(
    tmp_path: Path, age: timedelta, level: str
) -> None:
    write_manifest(tmp_path, NOW - timedelta(days=20))
    write_manifest(tmp_path, NOW - age)
    check = node_status.backup(tmp_path, now=NOW)
    assert check.level == level
    assert check.value == round(age.total_seconds())


def test_no_backup_at_all_is_critical(tmp_path: Path) -> None:
    check = node_status.backup(tmp_path / "none", now=NOW)
    assert check.level == "CRITICAL" and "no backup" in check.message


def test_a_failed_last_run_is_a_warning_even_after_a_recent_backup(tmp_path: Path) -> None:
    write_manifest(tmp_path, NOW - timedelta(hours=20))
    (tmp_path / ".last-run.json").write_text(
        json.dumps({"started_at": (NOW - timedelta(hours=1)).isoformat(), "rc": 1})
    )
    check = node_status.backup(tmp_path, now=NOW)
    assert check.level == "WARNING" and "failed (exit 1)" in check.message


def test_an_incomplete_backup_does_not_count(tmp_path: Path) -> None:
    """Files without their manifest (written last) are no backup."""
    (tmp_path / "carnet-lyon-20261204T110000Z.dump.gpg").write_bytes(b"x")
    (tmp_path / ".carnet-lyon-20261204T110000Z.manifest.json.partial").write_text("{}")
    assert node_status.backup(tmp_path, now=NOW).level == "CRITICAL"


def test_the_wal_archive_check_says_when_archiving_is_off(db: None) -> None:
    # The test cluster does not archive; a node with backups does (archive_mode = on).
    check = node_status.wal_archive()
    assert check.level == "WARNING" and "off" in check.message


def test_the_node_key_check_names_its_fingerprint(db: None, node_gnupg: Path) -> None:
    assert node_status.node_key().level == "CRITICAL"
    fingerprint = openpgp.node_keyring().ensure_node_key()
    check = node_status.node_key()
    assert check.level == "OK" and check.value == fingerprint
    assert fingerprint in check.message
    old = node_status.node_key(now=datetime.now(UTC) + timedelta(days=800))
    assert old.level == "WARNING"


# --- carnet ops status ----------------------------------------------------------------


def test_ops_status_prints_one_line_per_check_and_exits_with_the_worst(
    db: None, node_gnupg: Path, backups: Path, capsys
) -> None:
    openpgp.node_keyring().ensure_node_key()
    write_manifest(backups, datetime.now(UTC) - timedelta(days=3))
    with pytest.raises(SystemExit) as exited:
        call_command("ops_status", "--lang", "en")
    assert exited.value.code == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Node carnet-local: CRITICAL"
    assert lines[1].split()[:3] == ["OK", "replication", "no"]
    assert lines[2].startswith("CRITICAL backup") and "3 days ago" in lines[2]
    assert lines[3].startswith("WARNING  WAL archive")
    assert lines[4].startswith("OK       node key")


def test_ops_status_speaks_french(db: None, node_gnupg: Path, backups: Path, capsys) -> None:
    openpgp.node_keyring().ensure_node_key()
    write_manifest(backups, datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(SystemExit) as exited:
        call_command("ops_status", "--lang", "fr")
    assert exited.value.code == 1  # the WAL archive is off here
    out = capsys.readouterr().out
    assert "pas de serveur de secours" in out
    assert "dernière sauvegarde il y a" in out


def test_carnet_ops_status_runs_the_status_command_as_the_owner_role(monkeypatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: seen.append(argv)
    )
    monkeypatch.delenv("CARNET_DATABASE_ROLE", raising=False)
    cli.main(["carnet", "ops", "status", "--lang", "en"])
    gc.unfreeze()  # the command line froze the test process's objects, as it would its own
    assert seen == [["carnet", "ops_status", "--lang", "en"]]
    import os

    assert os.environ["CARNET_DATABASE_ROLE"] == "owner"


# --- the health check's admin part ----------------------------------------------------


@pytest.fixture
def nadia(db: None) -> Person:
    return PersonFactory(username="nadia", full_name="Nadia Node", is_node_admin=True)


def test_a_node_admin_reads_the_node_state(
    world: World, nadia: Person, node_gnupg: Path, backups: Path
) -> None:
    write_manifest(backups, datetime.now(UTC) - timedelta(hours=1))
    response = login(Client(), nadia).get("/healthz/node")
    assert response.status_code == 200
    body = response.json()
    assert [check["name"] for check in body["checks"]] == [
        "replication",
        "backup",
        "wal_archive",
        "node_key",
    ]
    assert body["checks"][0]["message"] == "pas de serveur de secours"
    assert body["status"] == "CRITICAL"  # no node key in this keyring yet
    assert events("node.status.read", nadia)[0][0] == "success"


def test_the_node_state_is_refused_to_everyone_else_and_audited(
    world: World, node_gnupg: Path
) -> None:
    colette = PersonFactory(username="colette", is_cooperative_admin=True)
    for person in (world.alice, world.sam, world.charlie, colette):
        response = login(Client(), person).get("/healthz/node")
        assert response.status_code == 403, person.username
        assert b"replication" not in response.content
        assert events("access.denied", person)[0][2]["rule"] == "not-node-admin"
    anonymous = Client().get("/healthz/node")
    assert anonymous.status_code == 302 and "/connexion/" in anonymous["Location"]


def test_the_public_health_check_stays_minimal(db: None) -> None:
    body = Client().get("/healthz").json()
    assert set(body) == {"status", "database", "service"}


def test_only_the_node_admin_flag_opens_the_node_state() -> None:
    def actor(**flags: bool) -> Actor:
        return Actor(person_id=1, practice_id=None, **flags)

    assert decide_node(actor(is_node_admin=True), NodeAction.VIEW_STATUS)
    assert not decide_node(actor(is_cooperative_admin=True), NodeAction.VIEW_STATUS)
    practice_admin = Actor(person_id=1, practice_id=7, roles=frozenset({"practice_admin"}))
    assert not decide_node(practice_admin, NodeAction.VIEW_STATUS)
    token = decide_node(actor(is_node_admin=True), NodeAction.VIEW_STATUS, by_token=True)
    assert not token and token.rule == "practice-token"


# --- automatic failover: the pg_auto_failover monitor's view -------------------------


def node(name: str, reported: str, goal: str | None = None, healthy: bool | None = True):
    return node_status.DataNode(name, reported, goal or reported, healthy)


@pytest.mark.parametrize(
    ("nodes", "level", "words"),
    [
        ([node("pg-1", "primary"), node("pg-2", "secondary")], "OK", "primary pg-1: "),
        # The primary lost: the monitor promotes the secondary, nothing takes writes yet.
        (
            [
                node("pg-1", "primary", "demote_timeout", healthy=False),
                node("pg-2", "prepare_promotion", "stop_replication"),
            ],
            "CRITICAL",
            "no primary takes writes",
        ),
        # Promoted, alone: writes go on, but are no longer copied.
        (
            [node("pg-1", "demoted", "catchingup", healthy=False), node("pg-2", "wait_primary")],
            "WARNING",
            "writes are not copied to a standby",
        ),
        # The old primary back, catching up.
        (
            [node("pg-1", "catchingup", "secondary"), node("pg-2", "primary")],
            "WARNING",
            "pg-1 catchingup → secondary",
        ),
        (
            [node("pg-1", "primary"), node("pg-2", "secondary", healthy=False)],
            "WARNING",
            "unreachable",
        ),
        ([node("pg-1", "single")], "OK", "primary pg-1"),
        ([], "CRITICAL", "knows no data node"),
    ],
)
def test_the_failover_check_reads_the_monitors_states(nodes, level: str, words: str) -> None:
    check = node_status.failover(nodes=nodes)
    assert check.level == level, check.message
    assert words in check.message
    assert check.name == "failover"


def test_a_lone_primary_is_a_warning_where_a_standby_is_expected(settings) -> None:
    settings.CARNET_EXPECT_STANDBY = True
    assert node_status.failover(nodes=[node("pg-1", "single")]).level == "WARNING"


@pytest.fixture
def monitor_database(django_db_blocker) -> Iterator[str]:
    """A database shaped as pg_auto_failover's monitor (its node table's columns that the
    check reads, with the same enum type), on the test cluster; its URL."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    name = f"{connection.settings_dict['NAME']}_monitor"
    admin = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dbname=name, autocommit=True, **admin) as monitor:
        monitor.execute(
            "CREATE SCHEMA pgautofailover;"
            " CREATE TYPE pgautofailover.replication_state AS ENUM"
            " ('single', 'wait_primary', 'primary', 'secondary', 'catchingup', 'demoted');"
            " CREATE TABLE pgautofailover.node (formationid text NOT NULL DEFAULT 'default',"
            " nodeid bigserial, nodename text NOT NULL,"
            " goalstate pgautofailover.replication_state NOT NULL,"
            " reportedstate pgautofailover.replication_state NOT NULL,"
            " health integer NOT NULL DEFAULT -1);"
            " INSERT INTO pgautofailover.node (nodename, goalstate, reportedstate, health)"
            " VALUES ('pg-1', 'primary', 'primary', 1), ('pg-2', 'secondary', 'secondary', 1),"
            " ('elsewhere', 'single', 'single', 1);"
            " UPDATE pgautofailover.node SET formationid = 'other' WHERE nodename = 'elsewhere'"
        )
    url = psycopg.conninfo.make_conninfo(dbname=name, **admin)
    yield url
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_the_failover_check_reads_the_monitors_node_table(monitor_database: str) -> None:
    check = node_status.failover(monitor_database, "default")
    assert (check.level, check.value) == ("OK", "pg-1")
    assert check.message == "primary pg-1: pg-1 primary, pg-2 secondary"


def test_a_monitor_that_cannot_be_read_is_critical(monitor_database: str) -> None:
    check = node_status.failover(monitor_database.replace("_monitor", "_nowhere"), "default")
    assert check.level == "CRITICAL"
    assert check.message.startswith("the failover monitor cannot be read: ")
    assert "_nowhere" in check.message


def test_ops_status_adds_the_failover_line_on_a_node_with_automatic_failover(
    db: None, settings, node_gnupg: Path, backups: Path, monitor_database: str, capsys
) -> None:
    settings.CARNET_FAILOVER_MONITOR_URL = monitor_database
    openpgp.node_keyring().ensure_node_key()
    write_manifest(backups, datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(SystemExit):
        call_command("ops_status", "--lang", "fr")
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("OK       bascule")
    assert "primaire pg-1 : pg-1 primary, pg-2 secondary" in last


def test_the_node_state_has_no_failover_line_without_a_monitor(db: None, settings) -> None:
    settings.CARNET_FAILOVER_MONITOR_URL = ""
    assert "failover" not in [check.name for check in node_status.node_status()]


def test_the_node_admin_reads_the_failover_state_in_the_health_check(
    world: World, nadia: Person, node_gnupg: Path, backups: Path, monitor_database: str, settings
) -> None:
    settings.CARNET_FAILOVER_MONITOR_URL = monitor_database
    response = login(Client(), nadia).get("/healthz/node")
    assert response.status_code == 200
    failover = response.json()["checks"][-1]
    assert failover == {
        "name": "failover",
        "level": "OK",
        "message": "primaire pg-1 : pg-1 primary, pg-2 secondary",
        "value": "pg-1",
    }
