"""The Jinja2 environment, for the layout every page shares and the few parts of pages
rendered many times per request.

Django's templates stay the rule. A part moves here when its rendering is measured to
cost most of a hot page (docs/performance.md): today's list of appointments is rendered
row by row, all day long, and Jinja2 compiles a template to Python, so a row costs a
fraction of what Django's template engine spends resolving it node by node. The layout
is drawn on every page (core/layout.py): ``url``, ``static`` and ``language`` are what
it asks of Django's ``{% url %}``, ``{% static %}`` and ``{% get_current_language %}``.

The output is the same, byte for byte, as Django's (tests/agenda/test_today_render.py):

- every printed value is escaped once, by Django's own ``conditional_escape`` (``'`` as
  ``&#x27;``), and what is already safe (a translation, a CSRF input) is left as it is.
  Jinja2 calls it (``finalize``) on the value of every ``{{ ... }}``; its own
  autoescape is off because it would escape the result a second time (it is safe, so
  that changes nothing but the time: 430 values a page). ``~`` must not join a safe
  value with another (the join would be escaped whole);
- translations (``{{ _("...") }}``) come from Django's catalogue, marked safe as
  Django's ``{% translate %}`` marks them, their variables escaped;
- ``hour_minute`` is Django's ``time:"H:i"``: hours and minutes in the local time;
  ``day`` its ``date:"d/m/Y"`` and ``day_time`` its ``date:"d/m/Y H:i"``;
  ``one_decimal`` its ``floatformat:"1u"`` (one decimal, rounded half up, a point
  whatever the language: a coordinate in a drawing); ``linebreaksbr``,
  ``truncatechars`` and ``capfirst`` are Django's own filters;
- a template's text is all rendered, its last line's newline included, as Django's are
  (Jinja2 drops that newline unless told): a part included in a loop ends as it did.

Strings are written ``{{ _("...") }}`` in templates named ``.html``: ``make messages``
reads those as Django templates and finds them. It finds no plural there: a text with a
count is made in Python (``agenda.day_views.DayLine.waited``).
"""

from __future__ import annotations

import html
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.template.defaultfilters import capfirst, linebreaksbr, truncatechars
from django.templatetags.static import static
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from django.utils.translation import get_language, gettext
from jinja2 import Environment

from core import links


def _hour_minute(value: datetime | None) -> str:
    """Django's ``value|time:"H:i"``, without its look-up of the language's formats: a
    list of 40 lines shows 120 times."""
    if value is None:
        return ""
    return template_localtime(value).strftime("%H:%M")


def _day(value: date | None) -> str:
    """Django's ``value|date:"d/m/Y"``: a moment's day in the local time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = template_localtime(value)
    return value.strftime("%d/%m/%Y")


def _day_time(value: datetime | None) -> str:
    """Django's ``value|date:"d/m/Y H:i"``, in the local time."""
    if value is None:
        return ""
    return template_localtime(value).strftime("%d/%m/%Y %H:%M")


_TENTH = Decimal("0.1")


def _one_decimal(value: float) -> str:
    """Django's ``value|floatformat:"1u"``, the same digits (tests/core/test_jinja.py):
    the number as Python writes it, rounded half up to a tenth; no minus on a zero."""
    rounded = Decimal(repr(value)).quantize(_TENTH, ROUND_HALF_UP)
    return str(rounded.copy_abs() if rounded.is_zero() else rounded)


def _escape(value: Any) -> Any:
    """Django's ``conditional_escape``: a plain string, most of a row's values, takes its
    last step directly (the same ``html.escape``, without the look-ups for lazy and safe
    values around it, 12 times a row)."""
    if type(value) is str:
        return SafeString(html.escape(value))  # nosec B703 - escaped here
    return conditional_escape(value)


def _translate(message: str, **variables: Any) -> SafeString:
    text = gettext(message)
    if variables:
        text = text % {name: conditional_escape(value) for name, value in variables.items()}
    # A text of the catalogue, its values escaped: safe, as Django's {% translate %}.
    return SafeString(text)  # nosec B703


def csrf_field(context: Any) -> SafeString:
    """The CSRF field for the Jinja2 parts of a page of Django's templates: the token its
    own forms carry, masked once for the page as Django's ``{% csrf_token %}`` does (the
    Jinja2 backend's ``csrf_input`` masks it anew at each call, 32 reads of the system's
    random source each)."""
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', context["csrf_token"]
    )


def environment(**options: Any) -> Environment:
    options.pop("autoescape", None)  # escaping is finalize's, whatever a setting says
    # Escaped by finalize, once per value (tests/core/test_jinja.py).
    env = Environment(  # nosec B701
        autoescape=False,  # noqa: S701
        finalize=_escape,
        keep_trailing_newline=True,
        **options,
    )
    env.globals["_"] = _translate
    # What the layout asks of Django's tags: {% url %}, {% static %}, the language.
    env.globals["url"] = links.url  # reversed once (core/links.py)
    env.globals["static"] = static
    env.globals["language"] = get_language
    env.filters["hour_minute"] = _hour_minute
    env.filters["day"] = _day
    env.filters["day_time"] = _day_time
    env.filters["one_decimal"] = _one_decimal
    env.filters["linebreaksbr"] = linebreaksbr
    env.filters["truncatechars"] = truncatechars
    env.filters["capfirst"] = capfirst
    return env
