"""The chart's plots and vital signs render the same HTML, byte for byte, as they did
before they moved to Jinja2 (docs/performance.md, "The chart page").

The golden files were written by the Django templates they had before
(records/_plot.html and records/_vitals.html), from the cases of chart_render_cases.py:
one series and two, a single point, small decimals, text to escape, no sign at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template import engines
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
