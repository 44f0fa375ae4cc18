"""The chart's clinical part, its plots and vital signs render the same HTML, byte for
byte, as they did before they moved to Jinja2 (docs/performance.md, "The chart page").

The golden files were written by the Django templates they had before
(records/_plot.html, records/_vitals.html, and records/chart.html's clinical part), from
the cases of chart_render_cases.py: one series and two, a single point, small decimals,
text to escape, no sign at all; every section of the chart full, and every one empty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from tests.records import chart_render_cases as cases

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", sorted(cases.plots()))
def test_a_plot_renders_the_html_it_rendered_before(name: str, language: str) -> None:
    with translation.override(language):
        html = (
            engines["django"]
            .from_string("{% load vitals %}{% plot p %}")
            .render({"p": cases.plots()[name]})
        )
    assert html == (GOLDEN / f"plot_{name}.{language}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", sorted(cases.vitals()))
def test_the_vital_signs_render_the_html_they_rendered_before(name: str, language: str) -> None:
    with translation.override(language):
        html = (
            engines["django"]
            .from_string("{% load vitals %}{% vital_signs v %}")
            .render({"v": cases.vitals()[name]})
        )
    assert html == (GOLDEN / f"vitals_{name}.{language}.html").read_text(encoding="utf-8")


def test_the_golden_files_hold_each_branch() -> None:
    """The comparison can fail: the golden files show what each case must draw."""
    hostile = (GOLDEN / "plot_hostile.fr.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;&quot;Tom&quot; &amp; &#x27;Jerry&#x27;&lt;/b&gt;" in hostile
    assert "<script" not in hostile and "<i>" not in hostile
    pressure = (GOLDEN / "plot_pressure.fr.html").read_text(encoding="utf-8")
    assert 'class="legend"' in pressure and "Diastolique" in pressure
    single = (GOLDEN / "plot_single.en.html").read_text(encoding="utf-8")
    assert single.count('y="106"') == 1 and "<summary>Values</summary>" in single
    lab = (GOLDEN / "plot_lab.fr.html").read_text(encoding="utf-8")
    assert "1,125 g/L" in lab
    assert "No vital sign recorded." in (GOLDEN / "vitals_none.en.html").read_text(encoding="utf-8")


def without_csrf_values(html: str) -> str:
    """The CSRF token is masked anew on every render."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', html)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", sorted(cases.clinical()))
def test_the_charts_clinical_part_renders_the_html_it_rendered_before(
    name: str, language: str
) -> None:
    request = RequestFactory().get("/")
    with translation.override(language):
        html = (
            engines["django"]
            .from_string("{% load chart %}{% chart_clinical %}")
            .render({**cases.clinical()[name], "request": request}, request)
        )
    golden = (GOLDEN / f"clinical_{name}.{language}.html").read_text(encoding="utf-8")
    assert without_csrf_values(html) == golden
    assert 'name="csrfmiddlewaretoken" value="' in html  # the form is still protected


def test_the_clinical_golden_files_hold_each_branch() -> None:
    full = (GOLDEN / "clinical_full.fr.html").read_text(encoding="utf-8")
    assert 'Dépression &lt;&quot;sévère&quot;&gt; <span class="tag">sensible</span>' in full
    assert "jours.<br>Pas de &lt;dyspnée&gt;.</p>" in full and "Paracétamol<br>Revoir" in full
    assert "(jusqu'au 30/05/2024)" in full and "très long …" in full
    assert "/p/cab-o-brien/patients/561/encounter/51/corriger/" in full
    assert 'data-testid="lab-trends"' in full and "(2024)" in full
    empty = (GOLDEN / "clinical_empty.en.html").read_text(encoding="utf-8")
    assert "No consultation yet." in empty and "Nothing to review." in empty
