"""The directory from the pages: the cooperative's administrator installs the signed
directory on the node and sees what it lists; a bad file is refused with its reason and
nothing is stored; a practice sees its partner practices; the consent form lists them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gnupg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from core import tenancy
from core.accounts.models import Person
from sharing import directory
from sharing.models import DirectoryEntry
from tests.core.test_cooperative_page import events
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login
from tests.sharing.test_share_pages import english_left

PAGE = "/cooperative/annuaire/"
BAD_SIGNATURE = "La signature n\u2019est pas valable"


@dataclass
class Cooperative:
    gpg: gnupg.GPG
    fingerprint: str
    public_key: str

    def directory(self, version: int, practices: list[tuple[str, str, str]]) -> str:
        """A directory signed by this key: (node, slug, name) practices."""
        nodes: dict[str, dict] = {}
        for node, slug, name in practices:
            nodes.setdefault(
                node, {"name": node, "gateway": f"https://{node}.example/", "practices": []}
            )["practices"].append(
                {
                    "slug": slug,
                    "name": name,
                    "fingerprints": [f"FP{slug.upper()}"],
                    "public_keys": "",
                }
            )
        document = directory.build(cooperative="Coop", version=version, nodes=list(nodes.values()))
        return directory.sign(self.gpg, document, cooperative_fingerprint=self.fingerprint)


def _key(home: Path) -> tuple[gnupg.GPG, str]:
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    gpg.encoding = "utf-8"
    params = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        name_real="Coopérative",
        name_email="annuaire@coop.example",
        expire_date=0,
        no_protection=True,
    )
    return gpg, str(gpg.gen_key(params).fingerprint)


@pytest.fixture
def coop(tmp_path: Path) -> Iterator[Cooperative]:
    gpg, fingerprint = _key(tmp_path / "coop")
    with override_settings(CARNET_COOPERATIVE_FINGERPRINT=fingerprint):
        yield Cooperative(gpg, fingerprint, str(gpg.export_keys(fingerprint)))
    subprocess.run(["gpgconf", "--homedir", str(tmp_path / "coop"), "--kill", "all"], check=False)


@pytest.fixture
def colette(db: None) -> Person:
    return PersonFactory(username="colette", full_name="Colette Coop", is_cooperative_admin=True)


PRACTICES = [
    ("carnet-local", "cabinet-a", "Cabinet A"),
    ("paris", "maison-sante-paris", "Maison de santé de Paris"),
    ("paris", "cabinet-montmartre", "Cabinet Montmartre"),
]


def practice_admin(world: World) -> Person:
    admin = PersonFactory(username="pauline", full_name="Pauline Admin")
    tenancy.activate(world.practice_a.pk)
    MembershipFactory(practice=world.practice_a, person=admin, role="practice_admin")
    tenancy.activate(None)
    return admin


def upload(client: Client, signed: str, key: str = "") -> object:
    files = {"signed": SimpleUploadedFile("annuaire.asc", signed.encode())}
    if key:
        files["cooperative_key"] = SimpleUploadedFile("cooperative.asc", key.encode())
    return client.post(PAGE, files)


def test_the_cooperative_admin_installs_the_signed_directory_and_sees_its_entries(
    client: Client, world: World, coop: Cooperative, colette: Person
) -> None:
    page = login(client, colette)
    assert "Aucun annuaire installé" in page.get(PAGE).content.decode()
    response = upload(page, coop.directory(1, PRACTICES), coop.public_key)
    assert response.status_code == 302
    assert {(e.node, e.slug) for e in DirectoryEntry.objects.all()} == {
        (n, s) for n, s, _name in PRACTICES
    }
    shown = page.get(PAGE).content.decode()
    assert "Version 1" in shown and "Maison de santé de Paris" in shown and "paris" in shown
    assert english_left(shown) == []
    assert [d["version"] for _o, _t, d in events("directory.import", colette)] == [1]
    # The cooperative's key stays on the node: the next version needs no key file.
    assert upload(page, coop.directory(2, PRACTICES[:2])).status_code == 302
    assert DirectoryEntry.objects.count() == 2
    assert set(DirectoryEntry.objects.values_list("directory_version", flat=True)) == {2}


@pytest.mark.parametrize(
    "spoil, reason",
    [
        (
            lambda signed: signed.replace("Cabinet A", "Cabinet Z"),
            "La signature n\u2019est pas valable",
        ),
        (lambda signed: "{}", "La signature n\u2019est pas valable"),
    ],
)
def test_a_tampered_or_unsigned_directory_is_refused_with_its_reason_storing_nothing(
    client: Client, world: World, coop: Cooperative, colette: Person, spoil, reason: str
) -> None:
    page = login(client, colette)
    response = upload(page, spoil(coop.directory(1, PRACTICES)), coop.public_key)
    assert response.status_code == 400
    text = response.content.decode()
    assert "rien n\u2019a été installé" in text and reason in text
    assert english_left(text) == []
    assert not DirectoryEntry.objects.exists()
    assert [d["code"] for _o, _t, d in events("directory.refused", colette)] == ["bad_signature"]


def test_a_directory_signed_by_another_key_is_refused_and_the_installed_one_kept(
    client: Client, world: World, coop: Cooperative, colette: Person, tmp_path: Path
) -> None:
    page = login(client, colette)
    assert upload(page, coop.directory(1, PRACTICES), coop.public_key).status_code == 302
    rogue_gpg, rogue_fp = _key(tmp_path / "rogue")
    rogue = Cooperative(rogue_gpg, rogue_fp, str(rogue_gpg.export_keys(rogue_fp)))
    response = upload(page, rogue.directory(5, PRACTICES[:1]), rogue.public_key)
    assert response.status_code == 400
    assert "n\u2019est pas celle de la coopérative" in response.content.decode()
    # Nor does giving the cooperative's own key make another signer acceptable.
    response = upload(page, rogue.directory(5, PRACTICES[:1]), coop.public_key)
    assert response.status_code == 400
    assert "La signature n\u2019est pas valable" in response.content.decode()
    assert DirectoryEntry.objects.count() == 3
    subprocess.run(["gpgconf", "--homedir", str(tmp_path / "rogue"), "--kill", "all"], check=False)


def test_an_older_directory_is_refused(
    client: Client, world: World, coop: Cooperative, colette: Person
) -> None:
    page = login(client, colette)
    assert upload(page, coop.directory(3, PRACTICES), coop.public_key).status_code == 302
    response = upload(page, coop.directory(2, PRACTICES[:1]))
    assert response.status_code == 400
    assert "plus ancien" in response.content.decode()
    assert DirectoryEntry.objects.count() == 3


def test_only_the_cooperative_admin_installs_a_directory(
    client: Client, world: World, coop: Cooperative
) -> None:
    admin = practice_admin(world)
    for person in (admin, world.alice):
        page = login(Client(), person)
        assert page.get(PAGE).status_code == 403
        assert upload(page, coop.directory(1, PRACTICES), coop.public_key).status_code == 403
        assert [o for o, _t, _d in events("access.denied", person)] == ["denied", "denied"]
    assert not DirectoryEntry.objects.exists()


def test_the_practice_sees_its_partners_and_the_consent_form_lists_them(
    client: Client, world: World, coop: Cooperative, colette: Person
) -> None:
    upload(login(Client(), colette), coop.directory(1, PRACTICES), coop.public_key)
    admin = practice_admin(world)
    page = login(client, admin)
    partners = page.get(f"/p/{world.practice_a.slug}/partenaires/").content.decode()
    assert "Maison de santé de Paris" in partners and "Cabinet Montmartre" in partners
    assert "Ce cabinet figure dans l\u2019annuaire" in partners
    # The practice itself is no partner of its own.
    assert "<td>Cabinet A</td>" not in partners
    # Another practice's member sees nothing of practice A's page.
    charlie = login(Client(), world.charlie)
    assert charlie.get(f"/p/{world.practice_a.slug}/partenaires/").status_code in (403, 404)

    sam = login(Client(), world.sam)
    form = sam.get(f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consentements/")
    text = form.content.decode()
    assert "Cabinet destinataire" in text
    assert (
        'value="paris/maison-sante-paris"' in text and 'value="carnet-local/cabinet-a"' not in text
    )


def test_the_consent_form_says_when_no_partner_is_known(client: Client, world: World) -> None:
    sam = login(client, world.sam)
    text = sam.get(f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consentements/")
    assert 'data-testid="no-partner"' in text.content.decode()
