"""Today's lists render the same HTML, byte for byte, as they did before they moved to
Jinja2 (docs/performance.md, "Today's list").

The golden files were written by the Django template the lists had before. The context is
built here, with every branch a row can take: the next patient (its keys), a caller not
registered, a time the reader may not see, a home visit, a consultation to resume, and
text that must be escaped (quotes, markup, an ampersand)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone, translation

from agenda.day_views import DayLine, with_rows
from agenda.models import Channel, Status
from agenda.selectors.appointments import AppointmentRow, Today

GOLDEN = Path(__file__).parent / "golden"
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 10, 40, tzinfo=PARIS)


def row(id: int, hour: int, minute: int = 0, **changes: object) -> AppointmentRow:
    starts = datetime(2026, 12, 7, hour, minute, tzinfo=PARIS)
    values: dict[str, object] = {
        "id": id,
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=20),
        "status": Status.BOOKED,
        "status_label": str(Status.BOOKED.label),
        "channel": Channel.DESK,
        "type_name": "Consultation",
        "minutes": 20,
        "is_home_visit": False,
        "practitioner_id": 7,
        "practitioner_name": "Dr Marie Curie",
        "site_name": "Cabinet",
        "patient_id": 100 + id,
        "name": f"Patient {id}",
        "birth_date": date(1970, 1, 1),
        "phone": "",
        "registered": True,
        "reason": "",
        "reason_hidden": False,
        "arrived_at": None,
        "seen_at": None,
        "encounter_id": None,
        "series_id": None,
    }
    values.update(changes)
    return AppointmentRow(**values)  # type: ignore[arg-type]


def line(r: AppointmentRow, **links: object) -> DayLine:
    values: dict[str, object] = {
        "row": r,
        "chart_url": f"/p/cab/patients/{r.patient_id}/" if r.registered and not r.hidden else "",
        "receive_url": "",
        "resume_url": "",
        "is_next": False,
    }
    values.update(links)
    return DayLine(**values)  # type: ignore[arg-type]


def context() -> dict[str, object]:
    arrived = {"status": Status.ARRIVED, "status_label": str(Status.ARRIVED.label)}
    next_one = row(1, 10, 0, arrived_at=NOW - timedelta(minutes=17), **arrived)
    walk_in = row(
        2,
        10,
        10,
        channel=Channel.WALK_IN,
        practitioner_id=None,
        patient_id=None,
        registered=False,
        name="Jeanne O'Brien <b>&</b>",
        arrived_at=NOW - timedelta(minutes=1),
        **arrived,
    )
    hidden = row(3, 10, 20, hidden=True, patient_id=None, name="", type_name="Busy", **arrived)
    waiting = [next_one, walk_in, hidden]
    day = [
        row(4, 8, 30, status=Status.DONE, status_label=str(Status.DONE.label), reason="Toux"),
        row(
            5,
            9,
            0,
            status=Status.IN_CONSULTATION,
            status_label=str(Status.IN_CONSULTATION.label),
            reason='Renouvellement "ordonnance" & bilan',
        ),
        row(6, 11, 0, is_home_visit=True, type_name="Visite", reason="<script>x</script>"),
        row(7, 11, 30, hidden=True, patient_id=None, name="", type_name="Busy"),
        row(8, 12, 0, registered=False, patient_id=None, name="M. Appel", phone="0600000000"),
        next_one,
    ]
    seen = [row(9, 8, 0, channel=Channel.WALK_IN, status=Status.DONE), row(10, 8, 10)]
    return {
        "day": Today(date(2026, 12, 7), day, waiting, seen),
        "waiting_lines": [
            line(next_one, receive_url="/p/cab/agenda/1/recevoir/", is_next=True),
            line(walk_in),
            line(hidden),
        ],
        "day_lines": [
            line(day[0]),
            line(day[1], resume_url="/p/cab/patients/105/consultation/?origin=appointment:5"),
            line(day[2], receive_url="/p/cab/agenda/6/recevoir/"),
            line(day[3]),
            line(day[4]),
            line(day[5], receive_url="/p/cab/agenda/1/recevoir/"),
        ],
    }


def without_csrf_values(html: str) -> str:
    """The CSRF token is masked anew on every render."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', html)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_todays_lists_render_the_html_they_rendered_before(language, monkeypatch, settings):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    request = RequestFactory().get("/p/cab/aujourdhui/")
    with translation.override(language):
        html = render_to_string("agenda/day/_today.html", with_rows(request, context()), request)
        html = without_csrf_values(html)
    golden = GOLDEN / f"today_{language}.html"
    assert html == golden.read_text(encoding="utf-8")
    # The test can fail: the golden holds what each branch shows.
    assert "Jeanne O&#x27;Brien &lt;b&gt;&amp;&lt;/b&gt;" in html
    assert 'accesskey="r"' in html and "&lt;script&gt;" in html
