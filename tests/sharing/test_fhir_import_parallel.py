"""`carnet import_fhir` with several processes, as a node runs it: the real command, in
its own database (the processes see only what is committed), on the ten Synthea
bundles. Every file is imported once, the totals are those of the files, a second run
creates nothing, the audit trail verifies; two files registering the same person at
once leave one patient and a clear refusal of the other."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from sharing.fhir.importer import counts_text
from tests.conftest import superuser_conninfo
from tests.live_server import CARNET, own_database
from tests.sharing.test_fhir_import import SYNTHEA, _bundle, _expected

COMMAND = [CARNET, "import_fhir", "--practice", "import-paralleles", "--as", "dr.import"]

SETUP = """
import django
django.setup()
from core import tenancy
from core.accounts.services import person_create
from core.practices.services import practice_create
practice = practice_create(slug="import-paralleles", name="Cabinet des imports")
with tenancy.practice_context(practice.pk):
    person_create(username="dr.import", full_name="Dr Import", password=None,
                  practice=practice, roles=("practitioner",), profession="gp",
                  check_password=False)
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A database of its own, migrated, with a practice and its GP (committed)."""
    env = own_database("fhir_parallel", tmp_path_factory.mktemp("var"), LANGUAGE_CODE="en")
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True)
    return env


def import_fhir(env: dict[str, str], *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, "--jobs", "2", *map(str, paths)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def patients_named(env: dict[str, str], birth_name: str) -> int:
    # As the node's superuser: the rows themselves, whatever the practice.
    with psycopg.connect(superuser_conninfo(env["CARNET_TEST_DATABASE"])) as database:
        row = database.execute(
            "SELECT count(*) FROM records_patient WHERE birth_name = %s", [birth_name]
        ).fetchone()
    return int(row[0]) if row else 0


def test_two_processes_import_every_file_once_with_the_files_totals(
    node: dict[str, str],
) -> None:
    files = sorted(SYNTHEA.glob("*.json"))
    expected: Counter[str] = Counter()
    for path in files:
        expected += _expected(_bundle(path))

    first = import_fhir(node, SYNTHEA)

    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.strip().splitlines()
    progress = [line for line in lines if line.startswith("[")]
    assert [line.split("]")[0] for line in progress] == [f"[{n}/10" for n in range(1, 11)]
    named = sorted(line.split("] ", 1)[1].split(":", 1)[0] for line in progress)
    assert named == [path.name for path in files]  # each file once, whatever the order
    assert lines[-1].startswith("10 of 10 files imported")
    assert lines[-1].endswith(f"created: {counts_text(expected)}.")

    again = import_fhir(node, SYNTHEA)

    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.strip().splitlines()[-1].endswith("created: nothing.")
    verify = subprocess.run(
        [CARNET, "audit", "verify"], env=node, capture_output=True, text=True, timeout=300
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_two_files_registering_the_same_person_at_once_leave_one_patient(
    node: dict[str, str], tmp_path: Path
) -> None:
    for key in ("premier", "second"):
        patient = {
            "resourceType": "Patient",
            "id": f"doublon-{key}",
            "name": [{"use": "official", "family": "Doublon", "given": ["Josette"]}],
            "gender": "female",
            "birthDate": "1962-04-01",
        }
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]}
        (tmp_path / f"{key}.json").write_text(json.dumps(bundle))

    result = import_fhir(node, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 of 2 files imported" in result.stdout
    assert result.stdout.count("FAILED: ") == 1
    assert "a patient with a close name and the same birth date" in result.stdout
    assert patients_named(node, "Doublon") == 1


def test_jobs_below_one_is_refused_clearly(node: dict[str, str]) -> None:
    result = subprocess.run(
        [*COMMAND, "--jobs", "0", str(SYNTHEA)],
        env=node,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "--jobs: at least 1." in result.stderr
