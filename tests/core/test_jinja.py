"""The Jinja2 environment escapes every printed value once, as Django's templates do."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import override
from hypothesis import given, settings
from hypothesis import strategies as st

from core.jinja import environment

HOSTILE = """<script>alert('x')</script> & "quoted\""""


def render(source: str, **values: object) -> str:
    return environment().from_string(source).render(**values)


def test_a_value_is_escaped_as_django_escapes_it() -> None:
    assert render("{{ v }}", v=HOSTILE) == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;"
    )


def test_a_value_in_an_attribute_a_filter_or_a_condition_is_escaped() -> None:
    assert render('<a href="{{ v }}">', v='x" onclick="y') == '<a href="x&quot; onclick=&quot;y">'
    assert render("{{ v|upper }}", v="<b>") == "&lt;B&gt;"
    assert render("{% if v %}{{ v }}{% endif %}", v="a&b") == "a&amp;b"
    assert render("{{ v }}", v=42) == "42"


def test_what_is_safe_stays_as_it_is() -> None:
    assert render("{{ v }}", v=mark_safe("<b>ok</b>")) == "<b>ok</b>"


def test_a_translation_is_safe_and_its_values_are_escaped() -> None:
    with override("fr"):
        assert render('{{ _("Receive") }}') == "Recevoir"
    assert render('{{ _("Hello %(who)s", who=v) }}', v="<i>") == "Hello &lt;i&gt;"


# A drawing's coordinates: Django's filter gives up on numbers far smaller than a pixel
# (1e-204 comes back as it is), which a drawing never has.
COORDINATES = st.floats(min_value=-1e6, max_value=1e6).filter(lambda v: v == 0 or abs(v) > 1e-12)


@settings(max_examples=500)
@given(COORDINATES)
def test_one_decimal_writes_the_digits_of_djangos_floatformat(value: float) -> None:
    assert render("{{ v|one_decimal }}", v=value) == floatformat(value, "1u")


def test_one_decimal_rounds_half_up_as_django_does() -> None:
    # Python's own rounding gives 0.2 and 2.6 (halves to even, binary fractions).
    assert render("{{ a|one_decimal }} {{ b|one_decimal }}", a=0.25, b=2.675) == "0.3 2.7"
    assert render("{{ v|one_decimal }}", v=-0.04) == "0.0"


def test_day_is_the_local_day_of_a_moment_as_djangos_date_filter() -> None:
    late = datetime(2024, 3, 1, 23, 30, tzinfo=UTC)  # 2 March in Paris
    assert render("{{ v|day }}", v=late) == date_filter(localtime(late), "d/m/Y") == "02/03/2024"
    assert render("{{ v|day }}", v=date(2024, 3, 1)) == "01/03/2024"
    assert render("{{ v|day }}", v=None) == ""
