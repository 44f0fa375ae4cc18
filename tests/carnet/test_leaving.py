"""A practice leaves the cooperative (issue 22): its administrator downloads the export
encrypted to their own key, which imports on a fresh database intact; they ask to leave;
once the notice has run the node deletes every row of the practice but the membership
record and the cooperative's dues invoices (checked table by table), signs a certificate
of deletion with the node key, and its audit trail still verifies."""

from __future__ import annotations

import hashlib
import io
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import gnupg
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from core import openpgp, tenancy
from core.accounts.models import Membership, Person
from core.audit.anchor import create_anchor
from core.audit.selectors.node_keys import trusted_fingerprints
from core.audit.services import record_event
from core.audit.verify import verify_chains
from core.practices.models import CooperativeMembership
from core.practices.services.leaving import leaving_request, practice_purge
from records.access import access_for
from records.models import Document
from records.services import document_upload
from tests.carnet.test_practice_export import assert_moved_intact, fill, import_on_a_fresh_database
from tests.factories import PersonFactory
from tests.fixtures import World, as_owner
from tests.records.test_views import login

# What the cooperative keeps of a practice that left, table by table: the rows of these
# tables with the practice's id that may remain (SQL on the row); every other table with
# a practice_id column must hold none.
KEPT = {
    "practices_cooperativemembership": "true",
    "practices_membershipapplication": "true",
    "billing_invoice": "kind = 'dues'",
    "billing_invoiceline": "invoice_id IN (SELECT id FROM billing_invoice WHERE kind = 'dues')",
    "billing_duespayment": "true",
    "audit_event": "chain = 0",  # the cooperative's own trail
}


def practice_key(home: Path) -> tuple[gnupg.GPG, str]:
    """The practice's own key pair, on the administrator's machine: the public half is
    what they paste."""
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(
        gpg.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            subkey_type="ECDH",
            subkey_curve="cv25519",
            name_real="Cabinet A",
            name_email="admin@cabinet-a.test",
            no_protection=True,
        )
    )
    return gpg, str(gpg.export_keys(key.fingerprint))


def practice_rows(practice_id: int) -> dict[str, int]:
    """Every table with a practice_id column: how many rows of this practice, and how
    many of them are not what the cooperative keeps."""
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'practice_id'"
            " AND table_schema = current_schema() ORDER BY table_name"
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            kept = KEPT.get(table, "false")
            cursor.execute(
                f"SELECT count(*) FILTER (WHERE NOT ({kept})) FROM {table} WHERE practice_id = %s",
                [practice_id],
            )
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def leaving_world(billing_world: World) -> World:
    """Practice A with a consultation, a prescription, a consent, an invoice paid and a
    closed day (``fill``), the cooperative's dues to A and B, and Adèle, A's administrator."""
    fill(billing_world)
    pdf = b"%PDF-1.4\n% a scanned letter\n%%EOF\n"
    document_upload(
        actor=billing_world.actor(billing_world.alice),
        access=access_for(billing_world.paul),
        upload=io.BytesIO(pdf),
        size=len(pdf),
        title="Courrier du cardiologue",
        kind="letter",
        document_date=timezone.localdate(),
    )
    PersonFactory(username="colette", full_name="Colette Coop", is_cooperative_admin=True)
    call_command(
        "invoice_dues", "--month", timezone.localdate().strftime("%Y-%m"), "--by", "colette"
    )
    adele = PersonFactory(username="adele", full_name="Adèle Admin")
    tenancy.activate(billing_world.practice_a.pk)
    Membership.objects.create(
        practice=billing_world.practice_a, person=adele, role="practice_admin"
    )
    tenancy.activate(None)
    return billing_world


def adele() -> Person:
    return Person.objects.get(username="adele")


def test_a_practice_leaves_with_its_data_and_the_node_keeps_only_its_membership(
    leaving_world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    world = leaving_world
    practice = world.practice_a
    with tenancy.practice_context(practice.pk):
        letter = Path(settings.MEDIA_ROOT) / Document.objects.get().file.name
    assert letter.exists()
    client = login(Client(), adele())
    page = client.get(f"/p/{practice.slug}/adhesion/depart/", HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    assert "Quitter la coopérative" in page.content.decode()

    # 1. The export, encrypted to the practice's own key.
    gpg, public_key = practice_key(tmp_path / "practice-gnupg")
    response = client.post(
        f"/p/{practice.slug}/adhesion/depart/export/", {"public_key": public_key}
    )
    assert response.status_code == 200
    assert ".tar.gz.gpg" in response["Content-Disposition"]
    sealed = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert b"Dupont" not in sealed and not sealed.startswith(b"\x1f\x8b")  # not readable
    opened = gpg.decrypt(sealed)
    assert opened.ok, opened.status
    with tarfile.open(fileobj=io.BytesIO(opened.data), mode="r:gz") as tar:
        tar.extractall(tmp_path / "export", filter="data")
    moved = import_on_a_fresh_database(tmp_path / "export" / f"carnet-{practice.slug}", tmp_path)
    assert_moved_intact(moved, practice.pk)

    # 2. The request to leave, confirmed with the practice's name; the notice runs.
    response = client.post(
        f"/p/{practice.slug}/adhesion/depart/demande/", {"confirmation": "cabinet a"}
    )
    assert response.status_code == 302
    membership = CooperativeMembership.objects.get(practice=practice)
    assert membership.status == "leaving"
    assert membership.leaving_effective_on == timezone.localdate() + timedelta(days=30)

    # 3. The deletion, once the notice has run, as the node's owner role.
    with as_owner():
        before_b = practice_rows(world.practice_b.pk)
        create_anchor()  # an anchor signed while the practice was here
        with pytest.raises(ValidationError):
            practice_purge(practice_id=practice.pk)  # the notice has not run
        with django_capture_on_commit_callbacks(execute=True):
            deletion = practice_purge(
                practice_id=practice.pk, today=membership.leaving_effective_on
            )
        left = practice_rows(practice.pk)
        assert {table: n for table, n in left.items() if n} == {}
        # The cooperative kept the membership and its dues invoice to the practice.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM billing_invoice WHERE practice_id = %s AND kind = 'dues'",
                [practice.pk],
            )
            assert cursor.fetchone()[0] == 1
            cursor.execute("SELECT count(*) FROM audit_chain WHERE chain = %s", [practice.pk])
            assert cursor.fetchone()[0] == 0
        # Practice B lost nothing.
        assert practice_rows(world.practice_b.pk) == before_b
        report = verify_chains(stop_at_first=False)
        assert report.problems == []
        assert report.anchors_checked >= 1
    assert deletion.rows.get("document files") == 1, deletion.rows
    assert not letter.exists()  # the documents' files went with their rows
    # The staff who worked only there left with it; Charlie (practice B) is still here.
    assert not Person.objects.filter(username__in=["adele", "alice", "bob", "sam"]).exists()
    assert Person.objects.filter(username="charlie").exists()

    # 4. The certificate, signed with the node key.
    membership.refresh_from_db()
    assert membership.status == "left" and membership.left_on == membership.leaving_effective_on
    assert deletion.certificate == membership.deletion_certificate
    keyring = openpgp.node_keyring()
    signed = keyring.signed_body(membership.deletion_certificate)
    assert signed is not None and signed.fingerprint in trusted_fingerprints(keyring)
    assert "Cabinet A" in signed.text and "records_patient: 1" in signed.text
    assert deletion.rows["records_patient"] == 1
    # The export handed over is named in it by its digest.
    assert hashlib.sha256(sealed).hexdigest() in signed.text
    # An edited certificate no longer verifies.
    assert (
        keyring.signed_body(membership.deletion_certificate.replace("Cabinet A", "Cabinet Z"))
        is None
    )


def test_only_the_practice_admins_may_export_or_ask_to_leave(leaving_world: World) -> None:
    world = leaving_world
    slug = world.practice_a.slug
    for person in (world.sam, world.alice, world.charlie):
        client = login(Client(), person)
        assert client.get(f"/p/{slug}/adhesion/depart/").status_code == 403, person.username
        response = client.post(f"/p/{slug}/adhesion/depart/demande/", {"confirmation": "Cabinet A"})
        assert response.status_code == 403, person.username
        response = client.post(f"/p/{slug}/adhesion/depart/export/", {"public_key": "x"})
        assert response.status_code == 403, person.username
    assert CooperativeMembership.objects.get(practice=world.practice_a).status != "leaving"
    # Another practice's administrator reaches nothing of A.
    other = PersonFactory(username="boris")
    tenancy.activate(world.practice_b.pk)
    Membership.objects.create(practice=world.practice_b, person=other, role="practice_admin")
    tenancy.activate(None)
    response = login(Client(), other).post(
        f"/p/{slug}/adhesion/depart/demande/", {"confirmation": "Cabinet A"}
    )
    assert response.status_code in (403, 404)
    assert CooperativeMembership.objects.get(practice=world.practice_a).status != "leaving"


def test_a_wrong_confirmation_or_a_bad_key_is_refused_and_nothing_changes(
    leaving_world: World,
) -> None:
    slug = leaving_world.practice_a.slug
    client = login(Client(), adele())
    response = client.post(
        f"/p/{slug}/adhesion/depart/demande/",
        {"confirmation": "Cabinet B"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert "Tapez le nom du cabinet" in response.content.decode()
    assert CooperativeMembership.objects.get(practice=leaving_world.practice_a).status != "leaving"
    for key in ("not a key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nxyz"):
        response = client.post(
            f"/p/{slug}/adhesion/depart/export/", {"public_key": key}, HTTP_ACCEPT_LANGUAGE="fr"
        )
        assert response.status_code == 400
        assert "clé publique OpenPGP" in response.content.decode()


def test_a_practice_may_stay_during_the_notice(leaving_world: World) -> None:
    slug = leaving_world.practice_a.slug
    client = login(Client(), adele())
    client.post(f"/p/{slug}/adhesion/depart/demande/", {"confirmation": "Cabinet A"})
    assert CooperativeMembership.objects.get(practice=leaving_world.practice_a).status == "leaving"
    assert client.post(f"/p/{slug}/adhesion/depart/rester/").status_code == 302
    membership = CooperativeMembership.objects.get(practice=leaving_world.practice_a)
    assert membership.status == "active" and membership.leaving_effective_on is None


def test_only_the_owner_role_deletes_a_practice_and_only_after_it_asked(
    leaving_world: World,
) -> None:
    world = leaving_world
    # The application's role may not, even for a practice that asked to leave.
    leaving_request(
        actor=world.actor(adele()), practice_id=world.practice_a.pk, confirmation="Cabinet A"
    )
    far = timezone.localdate() + timedelta(days=400)
    with pytest.raises(PermissionError):
        practice_purge(practice_id=world.practice_a.pk, today=far)
    with as_owner():
        # A practice that did not ask is never deleted.
        with pytest.raises(ValidationError):
            practice_purge(practice_id=world.practice_b.pk, today=far)
        # The trail's guard: without the purge naming the practice, even the owner role
        # cannot delete an event of its chain.
        record_event("test.event", practice_id=world.practice_a.pk)
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM audit_event WHERE chain = %s", [world.practice_a.pk])
