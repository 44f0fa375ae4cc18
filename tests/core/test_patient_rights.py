"""The patients' rights on paper: the waiting-room poster and the one-page leaflet name
the practice and every right the patient has, in French and in English; any staff of
the practice prints them, nobody else; the registration page offers the leaflet."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from django.test import Client
from pypdf import PdfReader

from core import tenancy
from core.access.policy import Actor, PracticeAction, decide_practice
from core.audit.models import AuditEvent
from core.practices.models import Practice
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World, enroll, totp_code

# What each right says, as a reader finds it on paper (the titles of the documents).
RIGHTS = {
    "fr": (
        "Rien n'est partagé sans votre accord",
        "Vous pouvez retirer votre accord à tout moment",
        "même votre médecin traitant",
        "Vous pouvez cacher une information sensible",
        "Vous pouvez savoir qui a consulté votre dossier",
        "Vous pouvez tout avoir sur papier",
        "Il suffit de le demander à l'accueil",
    ),
    "en": (
        "Nothing is shared without your yes",
        "You can withdraw your yes at any time",
        "even your GP",
        "You can hide a sensitive piece of information",
        "You can know who looked at your record",
        "You can have everything on paper",
        "Just ask at the desk",
    ),
}
# Words of the other language that must not appear (a French poster has no English).
FOREIGN = {"fr": ("Nothing is shared", "at the desk"), "en": ("votre dossier", "accueil")}


def login(client: Client, person) -> Client:
    device = enroll(person)
    client.post(
        "/connexion/", {"username": person.username, "password": "correct horse battery staple"}
    )
    client.post("/connexion/code/", {"code": totp_code(device)})
    return client


@pytest.fixture
def practice(world: World) -> Practice:
    Practice.objects.filter(pk=world.practice_a.pk).update(
        name="Maison de santé des Tilleuls",
        address="12 rue des Tilleuls",
        postal_code="69003",
        city="Lyon",
        phone="04 78 00 00 00",
    )
    return Practice.objects.get(pk=world.practice_a.pk)


def pdf_text(content: bytes) -> str:
    """The text of the PDF as pdftotext reads it (poppler), else as pypdf reads it."""
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-", "-"],
            input=content,
            capture_output=True,
            check=True,
        ).stdout.decode()
    else:
        out = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return " ".join(out.replace("\N{RIGHT SINGLE QUOTATION MARK}", "'").split())


def pages(content: bytes) -> list[tuple[float, float]]:
    """Each page's size in millimetres."""
    return [
        (round(float(p.mediabox.width) * 25.4 / 72), round(float(p.mediabox.height) * 25.4 / 72))
        for p in PdfReader(io.BytesIO(content)).pages
    ]


def base(practice: Practice) -> str:
    return f"/p/{practice.slug}/droits/"


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(
    ("document", "query", "size"),
    [
        ("affiche.pdf", "", (210, 297)),
        ("affiche.pdf", "&size=A3", (297, 420)),
        ("depliant.pdf", "", (210, 297)),
    ],
)
def test_the_poster_and_the_leaflet_name_the_practice_and_every_right_on_one_page(
    client: Client, world: World, practice: Practice, language, document, query, size
) -> None:
    login(client, world.sam)
    response = client.get(f"{base(practice)}{document}?lang={language}{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert pages(response.content) == [size]  # one page, of the paper asked for
    text = pdf_text(response.content)
    assert "Maison de santé des Tilleuls" in text
    assert "12 rue des Tilleuls" in text and "69003 Lyon" in text
    for right in RIGHTS[language]:
        assert right in text, (right, text)
    for word in FOREIGN[language]:
        assert word not in text
    tenancy.activate(practice.pk)
    event = AuditEvent.objects.get(action="practice.patient_rights.print")
    assert event.details["language"] == language
    assert event.patient_id is None  # the document names no patient


def test_the_leaflet_gives_the_practice_phone(
    client: Client, world: World, practice: Practice
) -> None:
    login(client, world.alice)
    text = pdf_text(client.get(base(practice) + "depliant.pdf").content)
    assert "Par téléphone : 04 78 00 00 00." in text


@pytest.mark.parametrize("role", ["practitioner", "secretary", "practice_admin"])
def test_any_staff_of_the_practice_may_print_them(world: World, role: str) -> None:
    actor = Actor(person_id=1, practice_id=world.practice_a.pk, roles=frozenset({role}))
    assert decide_practice(actor, PracticeAction.PRINT_PATIENT_RIGHTS, world.practice_a.pk)


def test_nobody_outside_the_practice_may_print_them(world: World) -> None:
    other = Actor(person_id=1, practice_id=world.practice_b.pk, roles=frozenset({"practice_admin"}))
    assert not decide_practice(other, PracticeAction.PRINT_PATIENT_RIGHTS, world.practice_a.pk)
    nobody = Actor(person_id=1, practice_id=world.practice_a.pk, roles=frozenset())
    assert not decide_practice(nobody, PracticeAction.PRINT_PATIENT_RIGHTS, world.practice_a.pk)
    node_admin = Actor(
        person_id=1,
        practice_id=world.practice_a.pk,
        roles=frozenset({"secretary"}),
        is_node_admin=True,
    )
    assert not decide_practice(node_admin, PracticeAction.PRINT_PATIENT_RIGHTS, world.practice_a.pk)


def test_another_practice_gets_no_poster(client: Client, world: World, practice) -> None:
    login(client, world.charlie)  # a GP of practice B
    response = client.get(base(practice) + "affiche.pdf")
    assert response.status_code == 403
    tenancy.activate(practice.pk)
    assert not AuditEvent.objects.filter(action="practice.patient_rights.print").exists()


@pytest.mark.parametrize("query", ["lang=xx", "lang=fr&size=A0"])
def test_a_bad_choice_is_a_clear_error_and_prints_nothing(
    client: Client, world: World, practice: Practice, query: str
) -> None:
    login(client, world.sam)
    response = client.get(f"{base(practice)}affiche.pdf?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and "Sélectionnez un choix valide" in page
    tenancy.activate(practice.pk)
    assert not AuditEvent.objects.filter(action="practice.patient_rights.print").exists()


def test_the_page_offers_both_documents_in_each_language(
    client: Client, world: World, practice: Practice
) -> None:
    login(client, world.sam)
    home = client.get(f"/p/{practice.slug}/").content.decode()
    assert 'data-testid="patient-rights"' in home and base(practice) in home
    page = client.get(base(practice)).content.decode()
    assert f'action="{base(practice)}affiche.pdf"' in page
    assert f'action="{base(practice)}depliant.pdf"' in page
    assert '<option value="en">' in page and '<option value="A3">' in page
    assert "Rien n'est partagé sans votre accord" in page.replace("&#x27;", "'")


def test_the_registration_page_and_the_new_chart_offer_the_leaflet(
    client: Client, world: World, practice: Practice
) -> None:
    login(client, world.sam)
    leaflet = f"{base(practice)}depliant.pdf?lang="
    form = client.get(f"/p/{practice.slug}/patients/nouveau/").content.decode()
    assert "Imprimer le dépliant de vos droits" in form
    assert leaflet + "fr" in form and leaflet + "en" in form
    response = client.post(
        f"/p/{practice.slug}/patients/nouveau/",
        {
            "birth_name": "Lemoine",
            "given_names": "Marc",
            "sex": "M",
            "birth_date": "1980-05-04",
            "contact_preference": "paper",
            "gp": "none",
        },
    )
    assert response.status_code == 302
    chart = client.get(response["Location"]).content.decode()
    assert 'data-testid="rights-leaflet"' in chart and leaflet + "fr" in chart
    # Offered once, after the registration: the chart opened again is the usual one.
    again = client.get(response["Location"]).content.decode()
    assert 'data-testid="rights-leaflet"' not in again


def test_an_existing_patient_chart_does_not_offer_it(
    client: Client, world: World, practice: Practice
) -> None:
    login(client, world.alice)
    chart = client.get(f"/p/{practice.slug}/patients/{world.paul.pk}/").content.decode()
    assert 'data-testid="rights-leaflet"' not in chart


def test_a_new_staff_member_of_any_role_prints_the_leaflet(
    client: Client, world: World, practice: Practice
) -> None:
    tenancy.activate(practice.pk)
    pia = PersonFactory(username="pia", full_name="Pia Poirier")
    MembershipFactory(practice=practice, person=pia, role="practice_admin")
    tenancy.activate(None)
    login(client, pia)
    assert client.get(base(practice) + "depliant.pdf?lang=en").status_code == 200
