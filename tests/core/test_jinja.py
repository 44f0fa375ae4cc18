"""The Jinja2 environment escapes every printed value once, as Django's templates do."""

from __future__ import annotations

from django.utils.safestring import mark_safe
from django.utils.translation import override

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
