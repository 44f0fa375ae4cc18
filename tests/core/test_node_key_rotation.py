"""Rotating the node key: anchors signed before and after both verify, a forged anchor
is still caught, the rotation is an audit event, and the retired secret key is gone."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.utils import ProgrammingError

from core import openpgp, tenancy
from core.audit.models import AuditAnchor, AuditEvent, NodeKey
from core.audit.services import record_event
from core.audit.verify import verify_chains
from tests.core.test_audit import as_database_superuser, execute
from tests.fixtures import World


@pytest.fixture
def node_gnupg(settings, tmp_path: Path) -> Iterator[Path]:
    """A keyring of the test's own: the node key is replaced, others must not see it."""
    home = tmp_path / "gnupg"
    settings.CARNET_GNUPG_HOME = home
    yield home
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


@pytest.fixture
def as_owner() -> Iterator[None]:
    """`carnet node_key` runs as the owner role (the keys' table is read-only to the app)."""
    execute("SET ROLE carnet_owner")
    yield
    execute("SET ROLE carnet_app")


def add_events(world: World, count: int = 3) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    for index in range(count):
        record_event(
            "patient.read", actor=world.alice, patient_id=world.paul.pk, details={"n": index}
        )
    tenancy.activate(None)


def verify() -> list[str]:
    with as_database_superuser():
        report = verify_chains(stop_at_first=False)
    return [str(problem) for problem in report.problems]


def test_anchors_signed_before_and_after_a_rotation_both_verify(
    world: World, node_gnupg: Path, as_owner: None, capsys
) -> None:
    add_events(world)
    call_command("audit", "anchor")
    first_key = openpgp.node_keyring().secret_fingerprint()
    call_command("node_key", "rotate")
    add_events(world)
    call_command("audit", "anchor")
    new_key = openpgp.node_keyring().secret_fingerprint()

    assert new_key and new_key != first_key
    signers = list(AuditAnchor.objects.order_by("id").values_list("fingerprint", flat=True))
    # the anchor before, the rotation's anchor with the old key, then two with the new one
    assert signers == [first_key, first_key, new_key, new_key]
    assert verify() == []
    capsys.readouterr()
    with as_database_superuser():
        call_command("audit", "verify")
    assert "4 anchors checked" in capsys.readouterr().out


def test_the_rotation_is_an_audit_event_and_a_statement_signed_by_both_keys(
    world: World, node_gnupg: Path, as_owner: None
) -> None:
    old = openpgp.node_keyring().ensure_node_key()
    call_command("node_key", "rotate")
    new = openpgp.node_keyring().secret_fingerprint()

    event = AuditEvent.objects.get(action="node_key.rotated")
    assert event.chain == 0 and event.practice_id is None
    assert event.details == {"previous": old, "new": new}
    row = NodeKey.objects.get(fingerprint=new)
    assert json.loads(row.statement)["previous"] == old
    keyring = openpgp.node_keyring()
    by_old, by_new = (
        keyring.signed_body(row.signed_by_previous),
        keyring.signed_body(row.signed_by_self),
    )
    assert by_old is not None and by_old.fingerprint == old and by_old.text == row.statement
    assert by_new is not None and by_new.fingerprint == new and by_new.text == row.statement
    assert NodeKey.objects.get(fingerprint=old).retired_at is not None


def test_the_retired_secret_key_is_deleted_and_its_public_key_kept(
    world: World, node_gnupg: Path, as_owner: None
) -> None:
    keyring = openpgp.node_keyring()
    old = keyring.ensure_node_key()
    call_command("node_key", "rotate")

    secret = {key["fingerprint"] for key in keyring.gpg.list_keys(secret=True)}
    public = {key["fingerprint"] for key in keyring.gpg.list_keys()}
    assert old not in secret
    assert old in public
    assert keyring.secret_fingerprint() in secret
    # gpg would silently sign with another secret key: the signer is checked.
    with pytest.raises(RuntimeError, match="no secret key"):
        keyring.clearsign_with("an anchor made with a retired key", old)


def test_rotating_twice_keeps_every_anchor_verifiable(
    world: World, node_gnupg: Path, as_owner: None
) -> None:
    add_events(world)
    call_command("audit", "anchor")
    call_command("node_key", "rotate")
    add_events(world)
    call_command("node_key", "rotate")
    add_events(world)
    call_command("audit", "anchor")

    assert len(set(AuditAnchor.objects.values_list("fingerprint", flat=True))) == 3
    assert NodeKey.objects.filter(retired_at__isnull=False).count() == 2
    assert AuditEvent.objects.filter(action="node_key.rotated").count() == 2
    assert verify() == []


def test_an_anchor_signed_by_another_key_is_caught_after_a_rotation(
    world: World, node_gnupg: Path, as_owner: None, tmp_path: Path
) -> None:
    add_events(world)
    call_command("audit", "anchor")
    call_command("node_key", "rotate")
    # An attacker's key, named like the node's, in the node's keyring (public half):
    # its anchor names its own fingerprint.
    other = openpgp.Keyring(tmp_path / "attacker")
    forger = other.generate_key("Carnet node test", openpgp.node_email())
    heads = AuditAnchor.objects.order_by("id").last().heads  # type: ignore[union-attr]
    forged = other.clearsign_with(json.dumps({"node_heads": heads}), forger)
    openpgp.node_keyring().import_public(other.public_key(forger))
    AuditAnchor.objects.create(heads=heads, signed_text=forged.text, fingerprint=forger)
    subprocess.run(["gpgconf", "--homedir", str(other.home), "--kill", "all"], check=False)

    problems = verify()
    assert len(problems) == 1
    assert "not a node key" in problems[0]


def test_an_anchor_naming_a_node_key_but_signed_by_another_is_caught(
    world: World, node_gnupg: Path, as_owner: None, tmp_path: Path
) -> None:
    add_events(world)
    old = openpgp.node_keyring().ensure_node_key()
    call_command("node_key", "rotate")
    other = openpgp.Keyring(tmp_path / "attacker")
    forger = other.generate_key("Carnet node test", openpgp.node_email())
    heads = AuditAnchor.objects.order_by("id").last().heads  # type: ignore[union-attr]
    forged = other.clearsign_with(json.dumps({"node_heads": heads}), forger)
    openpgp.node_keyring().import_public(other.public_key(forger))
    # It claims to be signed by the retired key.
    AuditAnchor.objects.create(heads=heads, signed_text=forged.text, fingerprint=old)
    subprocess.run(["gpgconf", "--homedir", str(other.home), "--kill", "all"], check=False)

    problems = verify()
    assert len(problems) == 1
    assert "signature is not valid" in problems[0]


def test_an_altered_anchor_of_the_retired_key_is_caught(
    world: World, node_gnupg: Path, as_owner: None
) -> None:
    add_events(world, 6)
    call_command("audit", "anchor")
    old_anchor = AuditAnchor.objects.order_by("id").last()
    assert old_anchor is not None
    call_command("node_key", "rotate")
    with as_database_superuser():
        execute(
            "UPDATE audit_anchor SET signed_text = replace(signed_text, '\"seq\": 6', '\"seq\": 5')"
            " WHERE id = %s",
            [old_anchor.pk],
        )
    problems = verify()
    assert problems and f"anchor {old_anchor.pk}: signature is not valid" in problems[0]
    with as_database_superuser(), pytest.raises(CommandError, match="NOT intact"):
        call_command("audit", "verify")


def test_a_retired_key_inserted_without_a_signed_statement_is_not_trusted(
    world: World, node_gnupg: Path, as_owner: None, tmp_path: Path
) -> None:
    """Someone with database access adds their own key as a 'retired node key', with a
    statement signed only by themselves: anchors signed with it are refused."""
    add_events(world)
    current = openpgp.node_keyring().ensure_node_key()
    other = openpgp.Keyring(tmp_path / "attacker")
    forger = other.generate_key("Carnet node test", openpgp.node_email())
    statement = json.dumps({"previous": forger, "new": current})
    with as_database_superuser():
        execute(
            "INSERT INTO audit_node_key (fingerprint, public_key, created_at, previous_fingerprint,"
            " statement, signed_by_previous, signed_by_self)"
            " VALUES (%s, %s, now(), %s, %s, %s, %s)",
            [
                current,
                openpgp.node_keyring().public_key(current),
                forger,
                statement,
                other.clearsign_with(statement, forger).text,
                other.clearsign_with(statement, forger).text,
            ],
        )
        execute(
            "INSERT INTO audit_node_key (fingerprint, public_key, created_at,"
            " previous_fingerprint, statement, signed_by_previous, signed_by_self)"
            " VALUES (%s, %s, now(), '', '', '', '')",
            [forger, other.public_key(forger)],
        )
    forged = other.clearsign_with(json.dumps({"node_heads": {}}), forger)
    AuditAnchor.objects.create(heads={}, signed_text=forged.text, fingerprint=forger)
    subprocess.run(["gpgconf", "--homedir", str(other.home), "--kill", "all"], check=False)

    problems = verify()
    assert len(problems) == 1 and "not a node key" in problems[0]


def test_the_application_role_cannot_write_node_keys(world: World, node_gnupg: Path) -> None:
    fingerprint = openpgp.node_keyring().ensure_node_key()
    with pytest.raises(ProgrammingError, match="permission denied"):
        NodeKey.objects.create(
            fingerprint=fingerprint,
            public_key="-",
            created_at="2026-01-01T00:00:00Z",
        )


def test_node_keys_are_never_deleted_nor_rewritten(
    world: World, node_gnupg: Path, as_owner: None
) -> None:
    old = openpgp.node_keyring().ensure_node_key()
    call_command("node_key", "rotate")
    for sql in (
        "DELETE FROM audit_node_key",
        "UPDATE audit_node_key SET public_key = 'x' WHERE fingerprint = %s",
        "UPDATE audit_node_key SET retired_at = now() WHERE fingerprint = %s",
    ):
        with pytest.raises(ProgrammingError, match="node keys are kept"), connection.cursor() as c:
            c.execute("SAVEPOINT guard")
            try:
                c.execute(sql, [old] if "%s" in sql else [])
            finally:
                c.execute("ROLLBACK TO SAVEPOINT guard")


def test_rotating_without_a_node_key_is_refused(world: World, node_gnupg: Path, as_owner) -> None:
    with pytest.raises(CommandError, match="no key to rotate"):
        call_command("node_key", "rotate")
    assert not NodeKey.objects.exists()


def test_node_key_list_names_current_and_retired_keys(
    world: World, node_gnupg: Path, as_owner: None, capsys
) -> None:
    old = openpgp.node_keyring().ensure_node_key()
    call_command("node_key", "rotate")
    new = openpgp.node_keyring().secret_fingerprint()
    capsys.readouterr()
    call_command("node_key", "list")
    out = capsys.readouterr().out
    assert f"{old}  retired" in out
    assert f"{new}  current" in out
