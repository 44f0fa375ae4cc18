"""The French reference data: loading the shipped BDPM and CIM-10 files, and searching.

The real files are loaded once for the module (committed, then removed at the end), as the
owner role: the application role, which every test runs as, may only read these tables.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from pytest_django import DjangoDbBlocker

from records import reference
from records.models import Cim10Code, Drug, Prescription, PrescriptionItem
from tests.fixtures import World, as_owner


@pytest.fixture(scope="module")
def loaded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[dict[str, int]]:
    """Load once for the module: a few seconds, instead of a few seconds per test."""
    with django_db_blocker.unblock(), as_owner():
        counts = {
            "drugs": reference.load_drugs(reference.DEFAULT_DRUGS_FILE),
            "cim10": reference.load_cim10(reference.DEFAULT_CIM10_FILE),
        }
    yield counts
    with django_db_blocker.unblock(), as_owner(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_drug")
        # The CIM-10 list stays: every test run has it (tests/conftest.py), as a node does.


@pytest.fixture
def reference_data(loaded: dict[str, int], db: None) -> dict[str, int]:
    return loaded


def names(drugs: list[Drug]) -> list[str]:
    return [drug.name for drug in drugs]


def write_bdpm(path: Path, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    return path


def bdpm_line(cis: str, name: str, marketing: str = "Commercialisée") -> str:
    fields = [cis, name, "comprimé", "orale", "Autorisation active", "Procédure nationale"]
    fields += [marketing, "01/01/2020", "", "", " LABORATOIRE TEST", "Non"]
    return "\t".join(fields)


# Loading --------------------------------------------------------------------------------


def test_the_shipped_files_load_every_drug_and_code(reference_data: dict[str, int]) -> None:
    assert reference_data["drugs"] > 15000
    assert reference_data["cim10"] > 40000
    assert Drug.objects.count() == reference_data["drugs"]
    assert Cim10Code.objects.count() == reference_data["cim10"]


def test_loading_fills_the_fields_and_the_search_columns(reference_data: dict[str, int]) -> None:
    doliprane = Drug.objects.get(name="DOLIPRANE 1000 mg, comprimé")
    assert doliprane.marketed
    assert doliprane.form == "comprimé"
    assert doliprane.routes == "orale"
    assert doliprane.holder == "OPELLA HEALTHCARE FRANCE"  # the file's leading space is gone
    assert doliprane.search_name == "doliprane 1000 mg, comprime"
    assert Drug.objects.filter(marketed=False).exists()

    diabetes = Cim10Code.objects.get(code="E119")
    assert diabetes.label.startswith("Diabète sucré de type 2")
    assert diabetes.search_label.startswith("diabete sucre de type 2")


def test_a_label_too_long_for_its_column_is_shortened_but_still_found(
    reference_data: dict[str, int],
) -> None:
    code = Cim10Code.objects.get(code="X49640")  # 319 characters in the ATIH file
    assert len(code.label) == 300
    assert code.label.endswith("…")
    assert code.search_label.endswith("cause de brulure ou corrosion")


def test_loading_twice_neither_duplicates_nor_drops_a_prescribed_drug(
    reference_data: dict[str, int], world: World
) -> None:
    world.actor(world.alice)
    drug = Drug.objects.get(name="DOLIPRANE 1000 mg, comprimé")
    prescription = Prescription.objects.create(
        practice=world.practice_a, patient=world.paul, author=world.alice
    )
    item = PrescriptionItem.objects.create(
        practice=world.practice_a,
        prescription=prescription,
        drug=drug,
        drug_label=drug.name,
        posology="1 comprimé 3 fois par jour",
    )

    with as_owner():
        assert reference.load_drugs(reference.DEFAULT_DRUGS_FILE) == reference_data["drugs"]
        assert reference.load_cim10(reference.DEFAULT_CIM10_FILE) == reference_data["cim10"]

    assert Drug.objects.count() == reference_data["drugs"]
    assert Cim10Code.objects.count() == reference_data["cim10"]
    item.refresh_from_db()
    assert item.drug == drug


def test_a_drug_gone_from_the_file_is_kept_as_not_marketed(
    reference_data: dict[str, int], world: World, tmp_path: Path
) -> None:
    world.actor(world.alice)
    gone = Drug.objects.get(name="DOLIPRANE 1000 mg, comprimé")
    prescription = Prescription.objects.create(
        practice=world.practice_a, patient=world.paul, author=world.alice
    )
    PrescriptionItem.objects.create(
        practice=world.practice_a,
        prescription=prescription,
        drug=gone,
        drug_label=gone.name,
        posology="1 comprimé si douleur",
    )
    smaller = write_bdpm(
        tmp_path / "CIS_bdpm.txt.gz",
        [
            bdpm_line("60000001", "NOUVEAUPRANE 500 mg, comprimé"),
            bdpm_line("60000002", "ANCIENPRANE 500 mg, comprimé", "Non commercialisée"),
        ],
    )

    with as_owner():
        assert reference.load_drugs(smaller) == 2

    gone.refresh_from_db()
    assert not gone.marketed
    assert Drug.objects.count() == reference_data["drugs"] + 2
    assert Drug.objects.get(cis="60000001").marketed
    assert not Drug.objects.get(cis="60000002").marketed


def test_a_windows_1252_download_loads_as_is(
    reference_data: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "CIS_bdpm.txt"
    line = bdpm_line("60000003", "SPÉCIALITÉ D\u2019ESSAI 10 mg, comprimé")
    path.write_bytes((line + "\r\n").encode("cp1252"))

    with as_owner():
        assert reference.load_drugs(path) == 1

    assert Drug.objects.get(cis="60000003").name == "SPÉCIALITÉ D\u2019ESSAI 10 mg, comprimé"


def test_a_file_that_is_not_bdpm_is_refused(reference_data: dict[str, int], tmp_path: Path) -> None:
    path = write_bdpm(tmp_path / "wrong.txt.gz", ["code,type,ssr,psy,short,long"])

    with as_owner(), pytest.raises(ValueError, match=r"line 1: not a CIS_bdpm\.txt line"):
        reference.load_drugs(path)


def test_the_command_prints_counts_and_time(reference_data: dict[str, int]) -> None:
    out = StringIO()

    with as_owner():
        call_command("load_reference", stdout=out)

    assert f"{reference_data['drugs']} drugs loaded from" in out.getvalue()
    assert f"{reference_data['cim10']} CIM-10 codes loaded from" in out.getvalue()
    assert " s\n" in out.getvalue()


def test_the_application_role_cannot_write_reference_data(
    reference_data: dict[str, int],
) -> None:
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO records_drug (cis, name, form, routes, marketed, holder, search_name)"
            " VALUES ('69999999', 'FAUX', '', '', true, '', 'faux')"
        )

    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        reference.load_cim10(reference.DEFAULT_CIM10_FILE)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO records_referenceword (word) VALUES ('faux')",
        "INSERT INTO records_referencekey (key, word) VALUES ('aux', 'faux')",
        "INSERT INTO records_drugword (drug_id, word) VALUES ('60234100', 'faux')",
        "DELETE FROM records_cim10word",
    ],
)
def test_the_application_role_cannot_write_the_searched_words(
    reference_data: dict[str, int], statement: str
) -> None:
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


# Searching ------------------------------------------------------------------------------


def test_doliprane_1000_finds_a_doliprane_1000_mg_product_first(
    reference_data: dict[str, int],
) -> None:
    results = reference.drug_search("doliprane 1000")

    assert results[0].name.startswith("DOLIPRANE 1000 mg")
    assert results[0].marketed


def test_a_misspelled_drug_name_still_finds_it(reference_data: dict[str, int]) -> None:
    results = reference.drug_search("amoxiciline")

    assert results
    assert all("AMOXICILLINE" in name.upper() for name in names(results[:10]))


def test_drug_search_ignores_accents_and_case(reference_data: dict[str, int]) -> None:
    assert names(reference.drug_search("DOLIPRANE 1000")) == names(
        reference.drug_search("dolipràne 1000")
    )


def test_marketed_drugs_come_first(reference_data: dict[str, int]) -> None:
    results = reference.drug_search("doliprane", limit=50)

    marketed = [drug.marketed for drug in results]
    assert True in marketed and False in marketed
    assert marketed == sorted(marketed, reverse=True)


def test_every_term_must_match(reference_data: dict[str, int]) -> None:
    assert reference.drug_search("doliprane zzqxw") == []
    assert reference.drug_search("   ") == []


def test_diabete_type_2_without_accent_finds_the_e11_codes(
    reference_data: dict[str, int],
) -> None:
    results = reference.cim10_search("diabete type 2")

    assert results[0].code == "E11"
    assert {"E11", "E119"} <= {code.code for code in results}


@pytest.mark.parametrize("query", ["E11.9", "e119", " E119 "])
def test_a_typed_code_finds_that_code_first(reference_data: dict[str, int], query: str) -> None:
    results = reference.cim10_search(query)

    assert results[0].code == "E119"
    assert results[0].dotted == "E11.9"


def test_a_code_prefix_lists_the_code_then_its_subdivisions(
    reference_data: dict[str, int],
) -> None:
    codes = [code.code for code in reference.cim10_search("E11", limit=5)]

    assert codes[0] == "E11"
    assert all(code.startswith("E11") for code in codes)
    assert len(codes) == 5


def test_a_word_that_looks_like_a_code_also_searches_labels(
    reference_data: dict[str, int],
) -> None:
    results = reference.cim10_search("B12")  # no such code: the vitamin

    assert results
    assert all("b12" in code.search_label for code in results)
