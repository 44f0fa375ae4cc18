"""The hostile input corpus (corpus/): each input gets a clear 4xx (in French and in
English where people read it) or is stored exactly and shown escaped; never a 500;
nothing is stored half-way (the practice's rows are counted before and after); exports
cannot carry a formula."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from billing import accounting
from billing.fec import FecEntry, escape_text, number_entries, write_fec
from core import tenancy
from sharing.fhir.importer import FhirImportError, import_bundle
from tests.adversarial import counts
from tests.adversarial.fuzz.conftest import MINIMAL_PDF, FuzzWorld
from tests.records.test_views import login, pdf_text

SUITE = "hostile input corpus"
CORPUS = Path(__file__).with_name("corpus")
STRINGS = json.loads((CORPUS / "strings.json").read_text())
UNICODE: dict[str, str] = STRINGS["unicode"]
# Refused: text PostgreSQL cannot store, or that is not text.
REFUSED_UNICODE = {"nul", "lone high surrogate", "lone low surrogate"}
# Longer than some fields: refused there with the length named, stored elsewhere.
MAY_BE_TOO_LONG = {"many combining marks"}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def tried() -> Iterator[list[str]]:
    inputs: list[str] = []
    yield inputs
    counts.record(SUITE, "inputs", len(inputs))


def api(fuzz: FuzzWorld, client: Client, method: str, path: str, body: Any, **extra: Any):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return fuzz.call(
        client,
        method,
        f"/api/v1/{path}",
        extra.pop("role", "practitioner"),
        data=data,
        content_type=extra.pop("content_type", "application/json"),
        **extra,
    )


def error_of(response: Any) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    return response.json()["error"]


def new_patient(birth_name: str = "Martin", **fields: Any) -> dict[str, Any]:
    return {
        "birth_name": birth_name,
        "given_names": "Lucie",
        "sex": "F",
        "birth_date": "1985-05-01",
        "confirm_not_duplicate": True,
        **fields,
    }


# --- Unicode -----------------------------------------------------------------------------


def test_unicode_edge_cases_are_stored_exactly_or_refused_clearly(
    client: Client, fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    for name, value in sorted(UNICODE.items()):
        unicode_case(name, value, client, fuzz_world, tried)


def unicode_case(
    name: str, value: str, client: Client, fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    paul = f"patients/{fuzz_world.world.paul.pk}"
    targets = [
        ("patients/", new_patient(value, city=value, address=value), "birth_name"),
        (f"{paul}/encounters/", {"reason": value, "subjective": value, "plan": value}, "reason"),
        (f"{paul}/problems/", {"label": value}, "label"),
        (
            f"{paul}/letters/",
            {"title": value, "recipient": value, "body": value, "document_date": "2026-11-02"},
            "title",
        ),
    ]
    for path, body, field in targets:
        tried.append(f"{name} -> {path}")
        before = fuzz_world.counts()
        response = api(fuzz_world, client, "post", path, body, HTTP_ACCEPT_LANGUAGE="en")
        fuzz_world.check_constraints()
        if name in MAY_BE_TOO_LONG and response.status_code == 400:
            assert "no more than" in str(error_of(response)["fields"])
            assert fuzz_world.counts() == before
        elif name in REFUSED_UNICODE:
            error = error_of(response)
            assert error["code"] == "invalid" and error["fields"], error
            assert fuzz_world.counts() == before, f"{name}: {path} refused but stored"
        else:
            assert response.status_code == 201, (name, path, response.content[:500])
            # Stored as sent; only leading and trailing blanks are trimmed, as in every form.
            assert response.json()[field] == value.strip()


def test_overlong_and_invalid_utf8_is_a_clear_parse_error(
    client: Client, fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    before = fuzz_world.counts()
    for hex_bytes in STRINGS["overlong utf8 hex"]:
        tried.append(hex_bytes)
        body = b'{"birth_name": "Du' + bytes.fromhex(hex_bytes) + b'pont", "given_names": "L"}'
        messages = set()
        for language in ("en", "fr"):
            response = api(
                fuzz_world, client, "post", "patients/", body, HTTP_ACCEPT_LANGUAGE=language
            )
            error = error_of(response)
            assert response.status_code == 400 and error["code"] == "parse_error", hex_bytes
            messages.add(error["message"])
        assert len(messages) == 2, messages
    assert fuzz_world.counts() == before


# --- Huge and deeply nested JSON ---------------------------------------------------------


def test_a_body_over_the_limit_is_413_in_both_languages(
    client: Client, fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    paul = f"patients/{fuzz_world.world.paul.pk}/encounters/"
    huge = json.dumps({"reason": "x", "subjective": "é" * (3 * 1024 * 1024)})
    before = fuzz_world.counts()
    messages = {}
    for language in ("en", "fr"):
        tried.append(f"3 MiB JSON ({language})")
        response = api(fuzz_world, client, "post", paul, huge, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 413
        error = response.json()["error"]
        assert error["code"] == "request_too_large"
        messages[language] = error["message"]
    assert messages["en"] != messages["fr"]
    assert fuzz_world.counts() == before


NESTED = {
    "array-100k": "[" * 100_000 + "]" * 100_000,
    "object-100k": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "field-5k": '{"reason": "x", "subjective": ' + "[" * 5_000 + "]" * 5_000 + "}",
}


def test_deeply_nested_json_is_refused_not_a_crash(
    client: Client, fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    before = fuzz_world.counts()
    for name, nested in NESTED.items():
        for path in ("patients/", f"patients/{fuzz_world.world.paul.pk}/encounters/"):
            tried.append(f"{name} -> {path}")
            response = api(fuzz_world, client, "post", path, nested, HTTP_ACCEPT_LANGUAGE="fr")
            assert response.status_code == 400, (name, response.content[:300])
            assert response.json()["error"]["code"] == "parse_error"
            assert "imbriqué trop profondément" in response.json()["error"]["message"]
    assert fuzz_world.counts() == before


# --- Malformed FHIR ----------------------------------------------------------------------


def fhir_patient(key: str = "p1", **fields: Any) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{key}",
        "resource": {
            "resourceType": "Patient",
            "id": key,
            "name": [{"family": "Corpus", "given": ["Hostile"]}],
            "gender": "female",
            "birthDate": "1970-01-01",
            **fields,
        },
    }


def observation(index: int, when: str = "2026-01-01T10:00:00+01:00") -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:obs{index}",
        "resource": {
            "resourceType": "Observation",
            "id": f"obs{index}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": "urn:uuid:p1"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": 70, "unit": "kg"},
        },
    }


def bundle(*entries: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": list(entries), **fields}


MALFORMED_BUNDLES = {
    "not a bundle": {"resourceType": "Patient", "id": "x"},
    "no resourceType": {"type": "collection", "entry": []},
    "a list": [bundle()],
    "unknown resource type": bundle(
        fhir_patient(), {"resource": {"resourceType": "Pateint", "id": "x"}}
    ),
    "invalid birth date": bundle(fhir_patient(birthDate="1980-02-30")),
    "invalid date format": bundle(fhir_patient(birthDate="01/02/1980")),
    "invalid instant": bundle(fhir_patient(), observation(1, when="2026-13-45T99:00:00")),
    "wrong type of field": bundle(fhir_patient(gender=["female"])),
    "bundle entry not an object": bundle("Patient/1"),  # type: ignore[arg-type]
    "10k entries, the last one broken": bundle(
        fhir_patient(), *(observation(i) for i in range(9_998)), observation(9_998, when="hier")
    ),
}


def test_a_malformed_fhir_bundle_is_refused_whole(
    fuzz_world: FuzzWorld, tried: list[str], tmp_path: Path
) -> None:
    """As ``carnet import_fhir`` reads them: from a file."""
    world = fuzz_world.world
    before = fuzz_world.counts()
    for name, content in MALFORMED_BUNDLES.items():
        tried.append(name)
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(content))
        with (
            pytest.raises(FhirImportError) as refused,
            tenancy.practice_context(world.practice_a.pk, world.alice.pk),
        ):
            import_bundle(
                actor=world.actor(world.alice),
                practice=world.practice_a,
                path_or_dict=path,
                gp=world.alice,
            )
        assert refused.value.code in {"not_a_bundle", "invalid", "rejected"}, name
        assert refused.value.reason
        assert fuzz_world.counts() == before, name


def test_broken_references_are_reported_and_store_nothing_they_point_to(
    fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    tried.append("broken references")
    world = fuzz_world.world
    orphan = observation(1)
    orphan["resource"]["subject"] = {"reference": "Patient/nowhere"}
    loop = observation(2)
    loop["resource"]["subject"] = {"reference": "Observation/obs2"}
    before = fuzz_world.counts()
    with tenancy.practice_context(world.practice_a.pk, world.alice.pk):
        report = import_bundle(
            actor=world.actor(world.alice),
            practice=world.practice_a,
            path_or_dict=bundle(orphan, loop, id="broken-references"),
            gp=world.alice,
        )
    assert report.created_total == 0
    assert {reference.reference for reference in report.unresolved} >= {"Patient/nowhere"}
    assert len(report.skipped) == 2
    after = fuzz_world.counts()
    assert {name: n for name, n in after.items() if n != before[name]} == {}


# --- Uploads: path traversal, polyglots, wrong extension, archives -----------------------

# file in corpus/uploads -> the content type it is stored as, or None: refused.
UPLOADS = {
    "pdf-html-js-polyglot.pdf": "application/pdf",
    "png-named.pdf": "image/png",
    "gif-js-polyglot.gif": None,
    "gif-js-polyglot-named.png": None,
    "html-named.pdf": None,
    "script.svg": None,
    "zip-bomb.zip": None,
    "zip-bomb-named.pdf": None,
    "exe-named.pdf": None,
}
HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "cr.pdf\u202egpj.exe",
    "<script>alert(1)</script>.pdf",
    "a" * 300 + ".pdf",
]


def upload(fuzz: FuzzWorld, client: Client, name: str, content: bytes, language: str = "en"):
    return fuzz.call(
        client,
        "post",
        f"/api/v1/patients/{fuzz.world.paul.pk}/documents/",
        data={
            "file": SimpleUploadedFile(name, content),
            "title": "<b>Compte rendu</b>",
            "kind": "report",
            "document_date": "2026-11-01",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_uploads_are_judged_by_their_content(
    client: Client, fuzz_world: FuzzWorld, settings: Any, tried: list[str]
) -> None:
    for name in UPLOADS:
        tried.append(name)
        upload_case(name, client, fuzz_world, settings)


def upload_case(name: str, client: Client, fuzz_world: FuzzWorld, settings: Any) -> None:
    content = (CORPUS / "uploads" / name).read_bytes()
    before = fuzz_world.counts()
    expected = UPLOADS[name]
    if expected is None:
        messages = set()
        for language in ("en", "fr"):
            error = error_of(upload(fuzz_world, client, name, content, language))
            assert "file" in error["fields"]
            messages.add(str(error["fields"]["file"]))
        assert len(messages) == 2  # one message per language
        assert fuzz_world.counts() == before
        assert not any(Path(settings.MEDIA_ROOT).rglob("*.zip"))
        return
    response = upload(fuzz_world, client, name, content)
    assert response.status_code == 201, response.content
    document = response.json()
    assert document["content_type"] == expected
    served = fuzz_world.call(
        client,
        "get",
        f"/api/v1/patients/{fuzz_world.world.paul.pk}/documents/{document['id']}/file/",
    )
    assert served["Content-Type"] == expected
    assert "sandbox" in served["Content-Security-Policy"]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == content


def test_an_uploaded_file_name_never_chooses_where_it_is_stored(
    client: Client, fuzz_world: FuzzWorld, settings: Any, tried: list[str]
) -> None:
    media = Path(settings.MEDIA_ROOT).resolve()
    for name in HOSTILE_NAMES:
        tried.append(name)
        response = upload(fuzz_world, client, name, MINIMAL_PDF)
        assert response.status_code == 201, (name, response.content)
    stored = [path.resolve() for path in media.rglob("*") if path.is_file()]
    assert stored and all(media in path.parents for path in stored)
    assert not any(
        "passwd" in path.name or ".." in path.name or "<" in path.name for path in stored
    )
    assert not (media.parent / "etc" / "passwd").exists()


# --- Formula injection in the CSV and FEC exports ----------------------------------------


@pytest.mark.parametrize("text", STRINGS["formula"])
def test_export_fields_cannot_start_a_formula(text: str, tried: list[str]) -> None:
    tried.append(text)
    cleaned = escape_text(text)
    assert not cleaned.lstrip().startswith(TRIGGERS) or cleaned.startswith("'")
    assert not any(character in cleaned for character in "\t\r\n")
    entry = FecEntry(
        journal_code="VT",
        journal_lib=text,
        date=timezone.localdate(),
        piece_ref=text,
        piece_date=timezone.localdate(),
        label=text,
        movements=[
            ("411000", text, text, text, Decimal("1.00"), accounting.ZERO),
            ("706000", text, "", "", accounting.ZERO, Decimal("1.00")),
        ],
    )
    lines = write_fec(number_entries([entry])).splitlines()
    assert len(lines) == 3  # the header and two movements: no line break got through
    for field in lines[1].split("\t"):
        assert not field.lstrip().startswith(("=", "+", "@")) or field.startswith("'"), field


def test_hostile_names_never_reach_the_accounting_exports(
    client: Client, fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    """Patients appear by number only; what text there is cannot run as a formula."""
    world = fuzz_world.world
    today = timezone.localdate()
    for index, text in enumerate(STRINGS["formula"]):
        tried.append(f"patient named {text!r} in the exports")
        created = api(fuzz_world, client, "post", "patients/", new_patient(text, given_names=text))
        assert created.status_code in (201, 400), created.content
        if created.status_code != 201:
            continue
        invoice = api(
            fuzz_world,
            client,
            "post",
            f"patients/{created.json()['id']}/invoices/",
            {
                "practitioner": world.alice.pk,
                "service_date": today.isoformat(),
                "lines": [{"code": "G"}],
            },
            role="secretary",
        )
        assert invoice.status_code == 201, invoice.content
        paid = api(
            fuzz_world,
            client,
            "post",
            f"invoices/{invoice.json()['id']}/payments/",
            {
                "method": "cheque",
                "amount": "5.00",
                "cheque_number": "1",
                "cheque_bank": text,
                "idempotency_key": f"corpus-{index}",
            },
            role="secretary",
        )
        assert paid.status_code in (201, 400), paid.content
    fec = fuzz_world.call(
        client, "get", f"/api/v1/accounting/fec/?month={today:%Y-%m}", "secretary"
    )
    assert fec.status_code == 200
    fec_text = fec.content.decode("utf-8-sig")
    with tenancy.practice_context(world.practice_a.pk):
        csv_text = accounting.csv_text(today, today)
    rows = [line.split("\t") for line in fec_text.splitlines()[1:]]
    rows += list(csv.reader(io.StringIO(csv_text), delimiter=";"))[1:]
    assert len(rows) > 4
    for row in rows:
        for field in row:
            assert not field.startswith(("=", "+", "@", "\t", "\r")), row
            assert "cmd|" not in field and "HYPERLINK" not in field, row


# --- HTML and script in every text field --------------------------------------------------


def test_markup_in_every_text_field_is_shown_as_text(
    client: Client, fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    world = fuzz_world.world
    script, image, template = STRINGS["html"][0], STRINGS["html"][1], STRINGS["html"][4]
    paul = f"patients/{world.paul.pk}"
    bodies = {
        "patients/": new_patient(
            script,
            given_names=image,
            used_name=template,
            address=script,
            city=image,
            birth_place=template,
        ),
        f"{paul}/encounters/": {
            "reason": script,
            "subjective": image,
            "objective": template,
            "assessment": script,
            "plan": image,
        },
        f"{paul}/problems/": {"label": script},
        f"{paul}/allergies/": {"substance": image, "reaction": script},
        f"{paul}/immunizations/": {
            "vaccine": script,
            "vaccinated_on": "2026-01-02",
            "lot_number": image,
        },
        f"{paul}/observations/": {"code": "x", "label": script, "value_text": image},
        f"{paul}/prescriptions/": {
            "items": [{"drug_label": script, "posology": image, "duration_days": 3}],
            "note": template,
        },
        f"{paul}/letters/": {
            "title": script,
            "recipient": image,
            "body": f"{script}\n{template}",
            "document_date": "2026-11-02",
        },
    }
    created = {}
    for path, body in bodies.items():
        tried.append(f"markup -> {path}")
        response = api(fuzz_world, client, "post", path, body)
        assert response.status_code == 201, (path, response.content)
        created[path] = response.json()
    new_id = created["patients/"]["id"]
    pages = Client()
    login(pages, world.alice)
    base = f"/p/{world.practice_a.slug}"
    for url in (
        f"{base}/patients/{world.paul.pk}/",
        f"{base}/patients/?q=alert",
        f"{base}/patients/{new_id}/",
    ):
        tried.append(f"page {url}")
        page = pages.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert "<script>alert(" not in html and "<img src=x" not in html, url
    chart = pages.get(f"{base}/patients/{world.paul.pk}/").content.decode()
    assert "&lt;script&gt;alert(" in chart
    # Template syntax typed as a name is shown as typed, never evaluated (looking for
    # "49" instead would also find it in a random CSRF token or an id).
    new_chart = pages.get(f"{base}/patients/{new_id}/").content.decode()
    assert "{{ 7*7 }}" in new_chart
    for url in (
        f"{base}/patients/{world.paul.pk}/dossier.pdf",
        f"/api/v1/patients/{world.paul.pk}/prescriptions/{created[f'{paul}/prescriptions/']['id']}/pdf/",
    ):
        tried.append(f"PDF {url}")
        response = pages.get(url) if url.startswith("/p/") else fuzz_world.call(client, "get", url)
        assert response.status_code == 200, url
        text = pdf_text(response.content)
        assert "<script>alert('carnet')</script>" in text  # printed as text, not interpreted


# --- SQL fragments in search and every filter ---------------------------------------------


def test_sql_fragments_in_searches_and_filters_are_only_text(
    client: Client, fuzz_world: FuzzWorld, tried: list[str]
) -> None:
    world = fuzz_world.world
    paul = world.paul.pk
    filters = [
        "/api/v1/patients/?q={}",
        "/api/v1/drugs/?q={}",
        "/api/v1/cim10/?q={}",
        "/api/v1/fees/?date={}",
        "/api/v1/accounting/fec/?month={}",
        "/api/v1/reports/care-work/?month={}",
        "/fhir/r4/Patient?name={}",
        "/fhir/r4/Patient?identifier={}",
        "/fhir/r4/Patient?birthdate={}",
        "/fhir/r4/Condition?patient={}",
        f"/fhir/r4/Condition?patient={paul}&code={{}}",
        f"/fhir/r4/Observation?patient={paul}&date={{}}",
        f"/fhir/r4/Encounter?patient={paul}&_count={{}}",
        "/fhir/r4/Patient/{}",
    ]
    pages = Client()
    login(pages, world.alice)
    from urllib.parse import quote

    before = fuzz_world.counts()
    for fragment in STRINGS["sql"]:
        for template in filters:
            url = template.format(quote(fragment, safe=""))
            tried.append(url)
            response = fuzz_world.call(client, "get", url)
            assert response.status_code in (200, 400, 403, 404), (url, response.status_code)
            if url.startswith("/api/v1/patients/"):
                assert response.json() == [], url  # matched nobody: not a widened search
        page = pages.get(f"/p/{world.practice_a.slug}/patients/", {"q": fragment})
        tried.append(f"page search {fragment}")
        assert page.status_code == 200
        assert "Dupont" not in page.content.decode(), fragment
    assert fuzz_world.counts() == before
