"""The benchmark's report names what PostgreSQL's autovacuum did during the measurements
(bench/run.py, bench/report.py): it takes one of the two cores from the load."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def a_report(**autovacuum: list[str]) -> dict[str, Any]:
    report = json.loads((BENCH / "report.json").read_text())
    report["machine"]["vacuum_before_run_seconds"] = 5.8
    for name, result in report["operations"].items():
        result["autovacuum"] = autovacuum.get(name, [])
    return report


def test_the_report_names_the_tables_autovacuum_worked_on_and_when() -> None:
    report = load("report")
    text = report.section(
        a_report(today_list=["audit_event (done)", "autovacuum: VACUUM public.audit_event"])
    )

    assert "The node was vacuumed before the run (5.8 s)." in text
    assert (
        "Autovacuum during the measurements: today_list: audit_event (done),"
        " autovacuum: VACUUM public.audit_event." in text
    )


def test_the_report_says_when_autovacuum_did_not_run() -> None:
    text = load("report").section(a_report())

    assert "Autovacuum did not run during the measurements." in text


def test_what_autovacuum_did_between_two_samples() -> None:
    run = load("run")
    before = {"counts": {"audit_event": 2, "records_patient": 0}, "running": []}
    after = {
        "counts": {"audit_event": 3, "records_patient": 0, "accounts_session": 1},
        "running": ["autovacuum: VACUUM ANALYZE public.records_encounter"],
    }

    assert run.maintenance_during(before, after) == [
        "accounts_session (done)",
        "audit_event (done)",
        "autovacuum: VACUUM ANALYZE public.records_encounter",
    ]


def test_the_fhir_import_is_reported_as_the_median_of_its_runs_with_every_run() -> None:
    report = a_report()
    report["fhir_import"].update(
        seconds=1.15, resources_per_second=2913.0, runs_seconds=[1.21, 1.15, 1.12], exit_code=0
    )

    text = load("report").section(report)

    assert "2,913 resources/s (1.15 s, the median of 3: 1.21 s, 1.15 s, 1.12 s, exit 0)" in text


def test_answers_not_2xx_under_saturation_are_shown_there_once() -> None:
    report = a_report()
    booking = report["operations"]["appointment_book"]
    booking["fixed_rate"]["errors"] = 0
    booking["saturation"].update(errors=0, non_2xx=213)
    line = next(
        row for row in load("report").section(report).splitlines() if "book an appointment" in row
    )
    fixed, saturation = line.split(" | ")[2:4]
    assert "errors" not in fixed
    assert saturation.endswith("; 213 not 2xx)")
