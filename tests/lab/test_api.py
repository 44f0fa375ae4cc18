"""The lab API: a file posted as it came (raw body or multipart), received once; the
queue (identity only) for the desk; the list to read and a report for the practitioner;
matching and signing off; bad input a clear 400, a secretary refused a report, another
practice a 404."""

from __future__ import annotations

from typing import Any

from core import tenancy
from lab.models import FileStatus, LabFile
from tests.fixtures import World
from tests.lab.test_intake import hprim
from tests.lab.test_pages import GLUCOSE_HIGH
from tests.token_api import TokenApi


class Api(TokenApi):
    part = "lab/"

    def post(
        self, path: str, data: Any, content_type: str = "application/json", **more: Any
    ) -> Any:
        return self.send("post", path, data, more.get("language", "en"), content_type)


def paul_raw(world: World, name: str = "") -> bytes:
    paul = world.paul
    return hprim(name or paul.birth_name, paul.given_names, paul.birth_date, paul.nir, GLUCOSE_HIGH)


def test_a_laboratory_posts_a_file_once_and_the_gp_reads_and_signs_it_off(world: World) -> None:
    sam, alice = Api(world, world.sam), Api(world, world.alice)
    first = sam.post("files/", paul_raw(world), content_type="text/plain")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "filed" and first.json()["result_count"] == 2
    again = sam.post("files/", paul_raw(world), content_type="application/octet-stream")
    assert again.status_code == 200 and again.json()["already"] is True
    (row,) = alice.get("to-read/").json()
    assert row["patient_id"] == world.paul.pk and row["abnormal_count"] == 1
    report = alice.get(f"files/{row['id']}/").json()
    assert [line["code"] for line in report["lines"]] == ["GLU", "NA"]
    assert report["lines"][0]["abnormal"] is True and report["read"] is True
    bad = alice.post(f"files/{row['id']}/sign-off/", {"conclusion": "peut-être"})
    assert bad.status_code == 400 and "conclusion" in bad.json()["error"]["fields"]
    done = alice.post(f"files/{row['id']}/sign-off/", {"conclusion": "ras"})
    assert done.status_code == 200
    assert alice.get("to-read/").json() == []


def test_the_desk_matches_through_the_api_and_never_receives_a_value(world: World) -> None:
    sam = Api(world, world.sam)
    response = sam.client.post(
        "/api/v1/lab/files/",
        {"file": _file(paul_raw(world, name="DUPOND"))},  # multipart, as a form sends it
        HTTP_AUTHORIZATION=sam.auth,
    )
    assert response.status_code == 201 and response.json()["status"] == "to_match"
    queue = sam.get("queue/")
    text = queue.content.decode()
    assert "DUPOND" in text and "GLYCEMIE" not in text and "1.30" not in text
    lab_file_id = queue.json()[0]["id"]
    assert sam.get(f"files/{lab_file_id}/").status_code == 404  # not filed yet
    matched = sam.post(f"files/{lab_file_id}/match/", {"patient": world.paul.pk})
    assert matched.status_code == 200 and matched.json()["status"] == "filed"
    assert sam.get(f"files/{lab_file_id}/").status_code == 403  # a secretary reads no value


def _file(raw: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("bilan.hpr", raw)


def test_bad_input_is_a_clear_400_in_both_languages_and_stores_nothing(world: World) -> None:
    sam = Api(world, world.sam)
    for language, words in (("fr", "Envoyez le fichier"), ("en", "Send the file")):
        empty = sam.post("files/", b"", content_type="text/plain", language=language)
        assert empty.status_code == 400 and words in empty.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert LabFile.objects.count() == 0
    tenancy.activate(None)
    waiting = sam.post("files/", paul_raw(world, name="DUPOND"), content_type="text/plain")
    bad_match = sam.post(f"files/{waiting.json()['id']}/match/", {"patient": "x"})
    assert bad_match.status_code == 400 and "patient" in bad_match.json()["error"]["fields"]
    assert sam.post("files/999999/match/", {"patient": world.paul.pk}).status_code == 404
    tenancy.activate(world.practice_a.pk)
    assert LabFile.objects.get().status == FileStatus.TO_MATCH  # nothing filed
    tenancy.activate(None)
    refused = sam.post("files/", b"Cher confrere", content_type="text/plain")
    assert refused.json()["reason_code"] == "unknown_format"
    assert refused.status_code == 201 and refused.json()["status"] == FileStatus.REFUSED


def test_another_practice_sees_nothing(world: World) -> None:
    sam, charlie = Api(world, world.sam), Api(world, world.charlie, world.practice_b)
    made = sam.post("files/", paul_raw(world, name="DUPOND"), content_type="text/plain").json()
    assert charlie.get("queue/").json() == []
    assert charlie.post(f"files/{made['id']}/match/", {"patient": world.zoe.pk}).status_code == 404
    assert charlie.get(f"files/{made['id']}/").status_code == 404
