"""The matrix world, built once per test module inside a transaction rolled back at the
end (real PostgreSQL; requests run as the application role, under row-level security)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from tests.adversarial.matrix.world import MatrixWorld, build


def _load_fees() -> None:
    """The shipped fee schedules, as the owner role (the application may only read)."""
    from billing import fees

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE carnet_owner")
        for path in fees.DEFAULT_FILES["acts"]:
            fees.load_acts(path)
        for path in fees.DEFAULT_FILES["rules"]:
            fees.load_rules(path)
        cursor.execute("SET ROLE carnet_app")


class HtmlForPdf:
    """Stands in for WeasyPrint's HTML in the matrix: the page is rendered from its
    template as usual (every query and every check runs), only the typesetting into PDF
    is skipped. It keeps the matrix fast, and lets it search printed pages for data the
    reader may not see. PDF output itself is tested in tests/records and tests/billing."""

    def __init__(self, string: str = "", **kwargs: object) -> None:
        self.html = string

    def write_pdf(self) -> bytes:
        return b"%PDF-1.4 (matrix: HTML follows)\n" + self.html.encode()


@pytest.fixture(scope="package")
def mx(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[MatrixWorld]:
    import weasyprint

    quiet = logging.getLogger("django.request")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # thousands of expected 403/404 need no log line
    real_html = weasyprint.HTML
    weasyprint.HTML = HtmlForPdf  # type: ignore[misc,assignment]
    try:
        yield from _world(django_db_blocker)
    finally:
        weasyprint.HTML = real_html  # type: ignore[misc]
        quiet.setLevel(level)


def _world(django_db_blocker: pytest.FixtureRequest) -> Iterator[MatrixWorld]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            _load_fees()
            yield build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
