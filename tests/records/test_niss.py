"""The Belgian national number (NISS): checked with its check digits (python-stdnum);
a Belgian practice records it instead of the NIR and refuses a NIR, a French practice
refuses a NISS; nothing is stored half-way."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from core import tenancy
from core.accounts import services as accounts
from core.practices.models import Practice
from records import niss
from records.models import Patient
from records.services import patient_create
from tests.fixtures import World
from tests.records.test_api import Api

VALID = "85073003328"  # born 30 July 1985
NIR = "185057800608491"  # a valid French NIR


def check_digits(body: str, born_2000s: bool) -> str:
    number = int(("2" if born_2000s else "") + body)
    return f"{97 - number % 97:02d}"


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("85073003328", "85073003328"),
        ("85.07.30-033.28", "85073003328"),
        ("85 07 30 033 28", "85073003328"),
        ("17073003384", "17073003384"),  # born in 2017: a 2 in front for the check
    ],
)
def test_a_valid_niss_is_kept_compact(raw: str, compact: str) -> None:
    assert niss.validate(raw) == compact


@pytest.mark.parametrize(
    "raw", ["85073003329", "8507300332", "850730033281", "85133003328", "ABCDEFGHIJK", ""]
)
def test_a_wrong_niss_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as error:
        niss.validate(raw)
    assert error.value.code == "niss_invalid"


def test_a_nir_is_refused_by_name_where_a_niss_is_needed() -> None:
    with pytest.raises(ValidationError) as error:
        niss.validate("1 85 05 78 006 084 91")
    assert error.value.code == "nir_not_niss"
    with pytest.raises(ValidationError) as french:
        niss.refuse_in_france(VALID)
    assert french.value.code == "niss_not_nir"


@given(
    # Years 00-24: born in the past in both centuries (a future birth date is refused).
    body=st.from_regex(r"\A([01][0-9]|2[0-4])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}\Z"),
    born_2000s=st.booleans(),
    wrong=st.integers(min_value=1, max_value=96),
)
def test_the_check_digits_decide(body: str, born_2000s: bool, wrong: int) -> None:
    good = check_digits(body, born_2000s)
    assert niss.is_valid(body + good)
    bad = f"{(int(good) + wrong) % 97:02d}"
    # Another check number is valid only if it matches the other century.
    assert niss.is_valid(body + bad) == (bad == check_digits(body, not born_2000s))


@pytest.fixture
def belgian(world: World) -> World:
    with connection.cursor() as cursor:  # practices are written by the owner role
        cursor.execute("SET ROLE carnet_owner")
        try:
            Practice.objects.filter(pk=world.practice_b.pk).update(country="BE")
        finally:
            cursor.execute("SET ROLE carnet_app")
    world.practice_b.country = "BE"
    return world


def register(world: World, practice: Practice, nir: str) -> Patient:
    person = world.charlie if practice == world.practice_b else world.alice
    return patient_create(
        actor=world.actor(person, practice),
        birth_name="Peeters",
        given_names="Jan",
        sex="M",
        birth_date=date(1985, 7, 30),
        nir=nir,
        confirm_not_duplicate=True,
    )


def test_a_belgian_practice_records_a_niss_and_refuses_a_nir(belgian: World) -> None:
    with pytest.raises(ValidationError) as refused:
        register(belgian, belgian.practice_b, NIR)
    assert "NIR" in " ".join(refused.value.message_dict["nir"])
    with pytest.raises(ValidationError) as wrong:
        register(belgian, belgian.practice_b, "85073003329")
    assert "nir" in wrong.value.message_dict
    tenancy.activate(belgian.practice_b.pk)
    assert not Patient.objects.filter(birth_name="Peeters").exists()
    patient = register(belgian, belgian.practice_b, "85.07.30-033.28")
    assert patient.nir == VALID


def test_a_french_practice_refuses_a_niss(belgian: World) -> None:
    with pytest.raises(ValidationError) as refused:
        register(belgian, belgian.practice_a, VALID)
    assert "NISS" in " ".join(refused.value.message_dict["nir"])
    tenancy.activate(belgian.practice_a.pk)
    assert not Patient.objects.filter(birth_name="Peeters").exists()


def test_the_api_refuses_a_nir_in_a_belgian_practice_in_both_languages(
    client: Client, belgian: World
) -> None:
    tenancy.activate(belgian.practice_b.pk, belgian.charlie.pk)
    _token, plaintext = accounts.api_token_create(
        person=belgian.charlie, practice=belgian.practice_b, name="t"
    )
    api = Api(client, plaintext)
    body = {"version": 1, "reason": "carte d'identité", "nir": NIR}
    french = api.send("patch", f"patients/{belgian.zoe.pk}/", body)
    assert french.status_code == 400, french.content
    assert "numéro de registre national" in french.content.decode()
    english = client.patch(
        f"/api/v1/patients/{belgian.zoe.pk}/",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=api.auth,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "a Belgian practice records the national number" in english.content.decode()
    tenancy.activate(belgian.practice_b.pk)
    assert Patient.objects.get(pk=belgian.zoe.pk).version == 1


def test_the_registration_page_of_a_belgian_practice_asks_for_the_niss(
    client: Client, belgian: World
) -> None:
    from tests.records.test_views import login

    charlie = login(client, belgian.charlie)
    url = f"/p/{belgian.practice_b.slug}/patients/nouveau/"
    assert "Numéro de registre national (NISS)" in charlie.get(url).content.decode()
    form = {
        "birth_name": "Peeters",
        "given_names": "Jan",
        "sex": "M",
        "birth_date": "1985-07-30",
        "contact_preference": "paper",
        "gp": "none",
        "nir": "1 85 05 78 006 084 91",
    }
    refused = charlie.post(url, form)
    assert refused.status_code == 400
    assert "un cabinet belge enregistre le numéro de registre national" in (
        refused.content.decode()
    )
    tenancy.activate(belgian.practice_b.pk)
    assert not Patient.objects.filter(birth_name="Peeters").exists()
    registered = charlie.post(url, {**form, "nir": "85.07.30-033.28"})
    assert registered.status_code == 302, registered.content.decode()[-1500:]
    tenancy.activate(belgian.practice_b.pk)
    assert Patient.objects.get(birth_name="Peeters").nir == VALID
