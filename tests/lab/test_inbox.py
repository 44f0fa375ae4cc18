"""The drop folder: the worker's round receives each settled file of a practice's folder
as an upload would, moves it to done/ or refused/, leaves a file still being written,
and never reads a file twice; another practice's folder files to that practice."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

from core import tenancy
from core.audit.models import AuditEvent
from lab.models import FileStatus, LabFile
from records.models import Observation
from tests.fixtures import World
from tests.lab.test_intake import hprim
from tests.lab.test_pages import GLUCOSE_HIGH


def settled(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    old = time.time() - 60
    os.utime(path, (old, old))


def test_the_worker_receives_the_drop_folder_and_moves_each_file(
    world: World, tmp_path: Path
) -> None:
    paul = world.paul
    folder = tmp_path / world.practice_a.slug
    folder.mkdir()
    settled(
        folder / "paul.hpr",
        hprim(paul.birth_name, paul.given_names, paul.birth_date, paul.nir, GLUCOSE_HIGH),
    )
    settled(folder / "lettre.txt", "Cher confrère".encode())
    (folder / "en-cours.hpr").write_bytes(b"****LAB****\n")  # being written: left alone
    out = io.StringIO()
    with override_settings(CARNET_LAB_INBOX=tmp_path):
        call_command("exchange", stdout=out)
        call_command("exchange", stdout=io.StringIO())  # a second round reads nothing again
    assert "1 filed" in out.getvalue() and "1 refused" in out.getvalue()
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["en-cours.hpr"]
    assert (folder / "done" / "paul.hpr").exists() and (folder / "refused" / "lettre.txt").exists()
    tenancy.activate(world.practice_a.pk)
    files = {f.filename: f for f in LabFile.objects.all()}
    assert set(files) == {"paul.hpr", "lettre.txt"}
    assert files["paul.hpr"].status == FileStatus.FILED and files["paul.hpr"].source == "folder"
    assert files["lettre.txt"].status == FileStatus.REFUSED
    assert Observation.objects.filter(patient=paul).count() == 2
    received = AuditEvent.objects.filter(action="lab_file.receive")
    assert {e.actor_label for e in received} == {"drop-folder"}
    tenancy.activate(None)


def test_a_file_in_another_practice_s_folder_is_that_practice_s(
    world: World, tmp_path: Path
) -> None:
    paul = world.paul
    folder = tmp_path / world.practice_b.slug
    folder.mkdir()
    settled(
        folder / "paul.hpr",
        hprim(paul.birth_name, paul.given_names, paul.birth_date, paul.nir, GLUCOSE_HIGH),
    )
    with override_settings(CARNET_LAB_INBOX=tmp_path):
        call_command("exchange", stdout=io.StringIO())
    tenancy.activate(world.practice_b.pk)
    (lab_file,) = LabFile.objects.all()
    assert (lab_file.status, lab_file.reason_code) == (
        FileStatus.TO_MATCH,
        "none",
    )  # not B's patient
    tenancy.activate(world.practice_a.pk)
    assert not LabFile.objects.exists() and not Observation.objects.filter(patient=paul).exists()
    tenancy.activate(None)


def test_the_patient_s_access_report_says_the_results_in_plain_french(
    world: World, tmp_path: Path
) -> None:
    """The drop folder filed them, Dr Arnaud read and signed them off: each says so on
    the patient's report, in words."""
    from django.utils import translation

    from lab import services
    from records.access_report import report_for

    paul = world.paul
    folder = tmp_path / world.practice_a.slug
    folder.mkdir()
    settled(
        folder / "paul.hpr",
        hprim(paul.birth_name, paul.given_names, paul.birth_date, paul.nir, GLUCOSE_HIGH),
    )
    with override_settings(CARNET_LAB_INBOX=tmp_path):
        call_command("exchange", stdout=io.StringIO())
    tenancy.activate(world.practice_a.pk)
    lab_file = LabFile.objects.get()
    alice = world.actor(world.alice)
    services.report_open(actor=alice, lab_file_id=lab_file.pk)
    services.sign_off(actor=alice, lab_file_id=lab_file.pk, conclusion="ras")
    with translation.override("fr"):
        lines = [
            (line.who, line.what)
            for line in report_for(patient_id=paul.pk, practice_id=world.practice_a.pk).lines
        ]
    whats = " | ".join(what for _who, what in lines)
    assert "a classé des résultats de laboratoire dans votre dossier" in whats
    assert "a lu et visé vos résultats de laboratoire" in whats
    assert any(who.startswith("le laboratoire, par le dossier de dépôt") for who, _what in lines)
    assert "drop-folder" not in str(lines)
    tenancy.activate(None)
