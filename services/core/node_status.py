"""The node's state, for its administrators: what matters when a node must survive
losing its primary. Read by `carnet ops status` (text, over SSH) and by the admin part
of the health check (``/healthz/node``). No patient data: PostgreSQL's statistics, the
backup directory's manifests and the node key.

Each check says OK, WARNING or CRITICAL; the thresholds (docs/operations.md,
"Monitoring a node"):

- replication: a standby's replay lag over ``LAG_WARNING`` (30 s) is WARNING, over
  ``LAG_CRITICAL`` (60 s, the recovery point objective of a regional node) or a standby
  that is not streaming is CRITICAL; no standby is OK unless ``CARNET_EXPECT_STANDBY``;
- backup: the newest complete backup (its manifest) older than ``BACKUP_WARNING`` (26 h:
  one nightly run missed) is WARNING, older than ``BACKUP_CRITICAL`` (50 h) or none at
  all is CRITICAL; a failed last run is at least WARNING;
- WAL archive: archiving off is WARNING (no point-in-time recovery); a failure more
  recent than the last archived segment is CRITICAL;
- node key: none is CRITICAL (no anchor can be signed); older than ``KEY_WARNING``
  (2 years) is WARNING (rotate it: `carnet node_key rotate`);
- failover (only with automatic failover, ``CARNET_FAILOVER_MONITOR_URL``): the
  pg_auto_failover monitor's view of the data nodes. No writable primary, or a monitor
  that cannot be read, is CRITICAL; a primary alone when a standby is expected
  (``wait_primary``: writes are not copied), a node that is unhealthy or between two
  states (a failover under way) is WARNING; a primary and its secondaries all steady is OK.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.selectors.node_keys import current_key

OK, WARNING, CRITICAL = "OK", "WARNING", "CRITICAL"
LEVELS = (OK, WARNING, CRITICAL)

LAG_WARNING = 30.0  # seconds
LAG_CRITICAL = 60.0  # seconds: the RPO
BACKUP_WARNING = timedelta(hours=26)
BACKUP_CRITICAL = timedelta(hours=50)
KEY_WARNING = timedelta(days=730)
LAST_RUN = ".last-run.json"  # written by `carnet backup_loop` (the nightly timer)


@dataclass(frozen=True)
class Check:
    name: str  # replication | backup | wal_archive | node_key
    level: str  # OK | WARNING | CRITICAL
    message: str  # in the reader's language
    value: float | str | None = None  # seconds of lag or age, or a fingerprint


def worst(checks: list[Check]) -> str:
    return max((check.level for check in checks), key=LEVELS.index, default=OK)


def _age(seconds: float) -> str:
    if seconds < 120:
        return _("%(n)d s") % {"n": round(seconds)}
    if seconds < 2 * 3600:
        return _("%(n)d min") % {"n": round(seconds / 60)}
    if seconds < 2 * 86400:
        return _("%(n).1f h") % {"n": seconds / 3600}
    return _("%(n)d days") % {"n": round(seconds / 86400)}


# --- Replication ---------------------------------------------------------------------


def replication() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        standby = cursor.fetchone()[0]
        if standby:
            # Nothing to replay (an idle primary) is no lag, whatever the last replay's age.
            cursor.execute(
                "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                " ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
            )
            lag = cursor.fetchone()[0]
            return _lag_check(_("this server is a standby"), None if lag is None else float(lag))
        cursor.execute("SELECT application_name, state, lag_seconds FROM carnet_replication()")
        rows = cursor.fetchall()
    if not rows:
        if settings.CARNET_EXPECT_STANDBY:
            return Check("replication", CRITICAL, _("no standby is connected to this primary"))
        return Check("replication", OK, _("no standby"))
    checks = []
    for name, state, lag in rows:
        label = _("standby %(name)s") % {"name": name or "?"}
        if state is None:
            checks.append(
                Check(
                    "replication",
                    WARNING,
                    _("%(label)s: its state cannot be read (grant pg_monitor to the owner role)")
                    % {"label": label},
                )
            )
        elif state != "streaming":
            checks.append(
                Check(
                    "replication",
                    CRITICAL,
                    _("%(label)s is not streaming (%(state)s)") % {"label": label, "state": state},
                )
            )
        else:
            checks.append(_lag_check(label, 0.0 if lag is None else float(lag)))
    return max(checks, key=lambda check: LEVELS.index(check.level))


def _lag_check(label: str, lag: float | None) -> Check:
    if lag is None:
        return Check(
            "replication", CRITICAL, _("%(label)s: nothing replayed yet") % {"label": label}
        )
    level = CRITICAL if lag > LAG_CRITICAL else WARNING if lag > LAG_WARNING else OK
    return Check(
        "replication",
        level,
        _("%(label)s: replication lag %(lag)s") % {"label": label, "lag": _age(lag)},
        round(lag, 1),
    )


# --- Backups -------------------------------------------------------------------------


def _manifest_time(path: Path) -> datetime:
    try:
        created = json.loads(path.read_text())["created_at"]
        return datetime.fromisoformat(created)
    except (OSError, ValueError, KeyError, TypeError):
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def backup(directory: Path | None = None, now: datetime | None = None) -> Check:
    """The newest complete backup: a manifest is written last, once the files are."""
    directory = directory or Path(settings.CARNET_BACKUP_DIR)
    now = now or timezone.now()
    manifests = sorted(directory.glob("carnet-*.manifest.json")) if directory.is_dir() else []
    if not manifests:
        return Check("backup", CRITICAL, _("no backup in %(dir)s") % {"dir": directory})
    newest = max(_manifest_time(path) for path in manifests)
    age = (now - newest).total_seconds()
    level = (
        CRITICAL
        if age > BACKUP_CRITICAL.total_seconds()
        else WARNING
        if age > BACKUP_WARNING.total_seconds()
        else OK
    )
    message = _("last backup %(age)s ago") % {"age": _age(age)}
    failed = _last_run_failed(directory, newest)
    if failed:
        level = max(level, WARNING, key=LEVELS.index)
        message += " — " + _("the last run failed (exit %(rc)s)") % {"rc": failed}
    return Check("backup", level, message, round(age))


def _last_run_failed(directory: Path, newest: datetime) -> str | None:
    path = directory / LAST_RUN
    try:
        data = json.loads(path.read_text())
        started = datetime.fromisoformat(data["started_at"])
        rc = int(data["rc"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(rc) if rc != 0 and started >= newest else None


# --- WAL archive ---------------------------------------------------------------------


def wal_archive() -> Check:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('archive_mode'), last_archived_wal, last_archived_time,"
            " failed_count, last_failed_wal, last_failed_time FROM pg_stat_archiver"
        )
        mode, wal, archived_at, failed, failed_wal, failed_at = cursor.fetchone()
    if mode == "off":
        return Check("wal_archive", WARNING, _("WAL archiving is off: no point-in-time recovery"))
    if failed_at is not None and (archived_at is None or failed_at > archived_at):
        return Check(
            "wal_archive",
            CRITICAL,
            _("archiving fails: %(wal)s since %(at)s (%(n)s failures)")
            % {"wal": failed_wal, "at": f"{failed_at:%Y-%m-%d %H:%M}", "n": failed},
        )
    if wal is None:
        return Check("wal_archive", OK, _("no WAL segment archived yet"))
    age = (timezone.now() - archived_at).total_seconds()
    return Check(
        "wal_archive",
        OK,
        _("last WAL %(wal)s archived %(age)s ago") % {"wal": wal, "age": _age(age)},
        wal,
    )


# --- Node key ------------------------------------------------------------------------


def node_key(now: datetime | None = None) -> Check:
    key = current_key()
    if key is None:
        return Check("node_key", CRITICAL, _("no node key: anchors cannot be signed"))
    now = now or timezone.now()
    age = (now - key.created_at).total_seconds() if key.created_at else 0.0
    level = WARNING if age > KEY_WARNING.total_seconds() else OK
    return Check(
        "node_key",
        level,
        _("node key %(fp)s, %(age)s old, %(n)s rotation(s)")
        % {"fp": key.fingerprint, "age": _age(age), "n": key.rotations},
        key.fingerprint,
    )


# --- Automatic failover (pg_auto_failover's monitor) ----------------------------------

# The states in which a node takes writes (pg_auto_failover's replication_state).
WRITABLE = {"single", "wait_primary", "primary", "join_primary", "apply_settings"}
STEADY_STANDBY = {"secondary"}
MONITOR_TIMEOUT = 5  # seconds: the status must answer even when the monitor does not


@dataclass(frozen=True)
class DataNode:
    """A data node as the monitor sees it."""

    name: str
    reported: str  # the state the node's pg_autoctl last reported
    goal: str  # the state the monitor assigned it
    healthy: bool | None  # the monitor's health check: None before the first one


def failover(
    url: str | None = None, formation: str | None = None, nodes: Sequence[DataNode] | None = None
) -> Check:
    """The monitor's view of the formation (``pgautofailover.node``), read with a role that
    may only read it (the postgresql role's ``carnet_status``)."""
    if nodes is None:
        try:
            nodes = _monitor_nodes(
                url or settings.CARNET_FAILOVER_MONITOR_URL,
                formation or settings.CARNET_FAILOVER_FORMATION,
            )
        except psycopg.Error as error:
            text = str(error).strip()
            reason = text.splitlines()[-1] if text else type(error).__name__
            return Check(
                "failover",
                CRITICAL,
                _("the failover monitor cannot be read: %(reason)s") % {"reason": reason},
            )
    return _failover_check(list(nodes))


def _monitor_nodes(url: str, formation: str) -> list[DataNode]:
    with psycopg.connect(url, connect_timeout=MONITOR_TIMEOUT, autocommit=True) as monitor:
        rows = monitor.execute(
            "SELECT nodename, reportedstate::text, goalstate::text, health"
            " FROM pgautofailover.node WHERE formationid = %s ORDER BY nodeid",
            (formation,),
        ).fetchall()
    return [
        DataNode(name, reported, goal, None if health < 0 else health == 1)
        for name, reported, goal, health in rows
    ]


def _node_text(node: DataNode) -> str:
    state = node.reported if node.reported == node.goal else f"{node.reported} → {node.goal}"
    text = f"{node.name} {state}"
    if node.healthy is False:
        text += " " + _("(unreachable)")
    return text


def _failover_check(nodes: list[DataNode]) -> Check:
    if not nodes:
        return Check("failover", CRITICAL, _("the failover monitor knows no data node"))
    summary = ", ".join(_node_text(node) for node in nodes)
    primaries = [n for n in nodes if n.reported in WRITABLE and n.reported == n.goal]
    if not primaries:
        return Check(
            "failover",
            CRITICAL,
            _("no primary takes writes: %(nodes)s") % {"nodes": summary},
        )
    primary = primaries[0]
    others = [n for n in nodes if n is not primary]
    steady = (
        primary.reported == "primary"
        and all(n.reported in STEADY_STANDBY and n.reported == n.goal for n in others)
        and all(n.healthy is not False for n in nodes)
    )
    if primary.reported == "single" and not others:
        # A node without a standby: steady unless the inventory promised one.
        steady = not settings.CARNET_EXPECT_STANDBY
    level = OK if steady else WARNING
    message = _("primary %(primary)s: %(nodes)s") % {"primary": primary.name, "nodes": summary}
    if primary.reported == "wait_primary":
        message += " — " + _("writes are not copied to a standby")
    return Check("failover", level, message, primary.name)


def node_status() -> list[Check]:
    checks = [replication(), backup(), wal_archive(), node_key()]
    if settings.CARNET_FAILOVER_MONITOR_URL:
        checks.append(failover())
    return checks
