"""Test set-up: real PostgreSQL (the embedded server under var/test), the real roles.

The test database is created fresh for each run, owned by the owner role; migrations run
as the owner role, and every test runs as the application role, so row-level security
and the audit grants are exactly those of production.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from carnet import db as carnet_db
from carnet import embedded
from tests.adversarial import counts as adversarial_counts

pytest_plugins = ["tests.fixtures"]

# Property tests judge behaviour, not speed: on a loaded two-core machine generating
# inputs can be slow, and that must not fail a run (timings belong to `make bench`).
hypothesis.settings.register_profile(
    "carnet", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("carnet")


def pytest_configure(config: pytest.Config) -> None:
    carnet_db.install()
    adversarial_counts.reset()


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Print how much the adversarial suites tried: cases, examples, faults injected."""
    summed = adversarial_counts.totals()
    if not summed:
        return
    terminalreporter.section("adversarial verification: what was tried")
    for (suite, what), count in sorted(summed.items()):
        terminalreporter.write_line(f"{suite}: {count} {what}")


def superuser_conninfo(dbname: str = "postgres") -> str:
    db = settings.DATABASES["default"]
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={dbname}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker: pytest.FixtureRequest) -> None:
    name = settings.DATABASES["default"]["NAME"]
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        embedded.bootstrap(superuser_conninfo(), embedded.DATABASE)
        embedded.create_database(superuser_conninfo(), name, drop_first=True)
        connection = connections["default"]
        connection.close()
        connection.settings_dict["CARNET_ROLE"] = embedded.OWNER_ROLE
        call_command("migrate", verbosity=0)
        # The CIM-10 list, as every node has it (`carnet load_reference`): a problem's
        # code must be one of its codes. A few seconds, once per run.
        from records.reference import DEFAULT_CIM10_FILE, load_cim10

        load_cim10(DEFAULT_CIM10_FILE)
        connection.close()
        connection.settings_dict["CARNET_ROLE"] = embedded.APP_ROLE


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """With CI=true a test may not be skipped for a missing tool: it fails instead."""
    report = yield
    if os.environ.get("CI", "").lower() == "true" and report.skipped:
        report.outcome = "failed"
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, which is not allowed: {reason}"
    return report
