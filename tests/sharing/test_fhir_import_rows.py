"""The bulk import writes exactly the rows the entry-by-entry import wrote.

``data/fhir_import_rows.json`` holds the rows (tests/sharing/fhir_rows.py: without ids
nor timestamps) that the import through ``entry_create`` / ``prescription_create`` left
for three imports: Alexis Toy, Micah Schinner (deceased), then Alexis again with one new
immunization (a patient already imported, read through the records selector). Any
difference in any table fails. ``CARNET_WRITE_FHIR_ROWS=1`` writes the file again (only
after checking why it changed).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from core import tenancy
from sharing.fhir.importer import import_bundle
from tests.fixtures import World
from tests.sharing.fhir_rows import snapshot
from tests.sharing.test_fhir_import import ALEXIS, MICAH, _bundle

EXPECTED = Path(__file__).parent / "data" / "fhir_import_rows.json"


def _import(world: World, source: Path | dict[str, Any]) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    import_bundle(
        actor=world.actor(world.alice),
        practice=world.practice_a,
        path_or_dict=source,
        gp=world.alice,
    )


def test_the_import_writes_the_same_rows_as_entry_by_entry(world: World) -> None:
    _import(world, ALEXIS)
    _import(world, MICAH)
    again = _bundle(ALEXIS)
    extra = copy.deepcopy(
        next(e for e in again["entry"] if e["resource"]["resourceType"] == "Immunization")
    )
    extra["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000002"
    extra["resource"]["id"] = "00000000-0000-4000-8000-000000000002"
    again["entry"].append(extra)
    _import(world, again)
    tenancy.activate(world.practice_a.pk, world.alice.pk)

    rows = json.loads(json.dumps(snapshot()))

    if os.environ.get("CARNET_WRITE_FHIR_ROWS"):
        EXPECTED.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(expected)
    for table, table_rows in expected.items():
        assert len(rows[table]) == len(table_rows), table
        for index, (row, wanted) in enumerate(zip(rows[table], table_rows, strict=True)):
            assert row == wanted, (table, index)
    assert sum(len(table_rows) for table_rows in expected.values()) > 300
