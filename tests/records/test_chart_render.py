"""The chart's clinical part, its plots and vital signs render the same HTML, byte for
byte, as they did before they moved to Jinja2 (docs/performance.md, "The chart page").

The golden files were written by the Django templates they had before
(records/_plot.html, records/_vitals.html, records/chart.html's clinical part and
records/_identity_banner.html), from the cases of chart_render_cases.py: one series and
two, a single point, small decimals, text to escape, no sign at all; every section of the
chart full, and every one empty; a banner with every fact, with none, a deceased and
merged patient, allergies known to be none, allergies the reader may not see."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone, translation

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


def test_the_chart_s_forms_carry_one_token_as_django_s_own_would() -> None:
    """The Jinja2 parts' forms carry the page's token, masked once for the page: masking
    it anew at each form costs 32 reads of the system's random source."""
    request = RequestFactory().get("/")
    page = (
        "{% load chart patients %}{% csrf_token %}{% chart_clinical %}"
        "{% care_team team=team back=back %}"
    )
    values = {**cases.clinical()["full"], **cases.care_teams()["changing"], "request": request}
    html = engines["django"].from_string(page).render(values, request)
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert len(tokens) >= 3
    assert len(set(tokens)) == 1


def test_the_clinical_golden_files_hold_each_branch() -> None:
    full = (GOLDEN / "clinical_full.fr.html").read_text(encoding="utf-8")
    assert 'Dépression &lt;&quot;sévère&quot;&gt; <span class="tag">sensible</span>' in full
    assert "jours.<br>Pas de &lt;dyspnée&gt;.</p>" in full and "Paracétamol<br>Revoir" in full
    assert "(jusqu'au 30/05/2024)" in full and "très long …" in full
    assert "/p/cab-o-brien/patients/561/encounter/51/corriger/" in full
    assert 'data-testid="lab-trends"' in full and "(2024)" in full
    empty = (GOLDEN / "clinical_empty.en.html").read_text(encoding="utf-8")
    assert "No consultation yet." in empty and "Nothing to review." in empty


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", sorted(cases.banners()))
def test_the_identity_banner_renders_the_html_it_rendered_before(
    name: str, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2026, 12, 7))  # the age
    values = cases.banners()[name]
    given = " allergies=allergies allergies_known=allergies_known" if name == "gone" else ""
    with translation.override(language):
        html = (
            engines["django"]
            .from_string("{% load patients %}{% identity_banner" + given + " %}")
            .render(values)
        )
    assert html == (GOLDEN / f"banner_{name}.{language}.html").read_text(encoding="utf-8")


def test_the_banner_golden_files_hold_each_branch() -> None:
    full = (GOLDEN / "banner_full.fr.html").read_text(encoding="utf-8")
    assert 'Pénicilline — urticaire <span class="tag">Sévère</span> ; Lactose &lt;x&gt;' in full
    assert "Dr Jeanne O&#x27;Brien &lt;b&gt; (depuis le 01/03/2024)" in full
    assert 'aria-label="Dossier du patient"' in full and "Enregistrer" not in full
    assert 'accesskey="f">Facturation</a>' in full  # another app's link on the record
    gone = (GOLDEN / "banner_gone.en.html").read_text(encoding="utf-8")
    assert "Deceased on 01/03/2024" in gone and "/p/cab-o-brien/patients/564/" in gone
    assert "No known allergy" in gone
    assert "allergy-alert" not in (GOLDEN / "banner_not_known.fr.html").read_text(encoding="utf-8")
    assert "No GP of record yet" in (GOLDEN / "banner_bare.en.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", sorted(cases.identity_sections()))
def test_the_identity_section_renders_the_html_it_rendered_before(name: str, language: str) -> None:
    with translation.override(language):
        html = (
            engines["django"]
            .from_string("{% load patients %}{% identity_section %}")
            .render(cases.identity_sections()[name])
        )
    assert html == (GOLDEN / f"identity_{name}.{language}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", sorted(cases.care_teams()))
def test_the_care_team_renders_the_html_it_rendered_before(name: str, language: str) -> None:
    request = RequestFactory().get("/")
    values = cases.care_teams()[name]
    given = " team=team back=back" if name == "changing" else ""  # as the chart gives them
    with translation.override(language):
        html = (
            engines["django"]
            .from_string("{% load patients %}{% care_team" + given + " %}")
            .render({**values, "request": request}, request)
        )
    golden = (GOLDEN / f"care_team_{name}.{language}.html").read_text(encoding="utf-8")
    assert without_csrf_values(html) == golden


def test_the_identity_and_care_team_golden_files_hold_each_branch() -> None:
    identity = (GOLDEN / "identity_full.fr.html").read_text(encoding="utf-8")
    assert '<td rowspan="2">Sam &lt;Secrétaire&gt; &amp; co</td>' in identity
    assert "<td>Date de naissance</td><td>03/01/1970</td>" in identity
    assert '<td colspan="3">Décès enregistré</td>' in identity and "Fusionner" in identity
    bare = (GOLDEN / "identity_bare.en.html").read_text(encoding="utf-8")
    assert "No change since registration." in bare and "Correct the identity" not in bare
    assert "Correct the identity" not in (GOLDEN / "identity_gone.en.html").read_text()
    team = (GOLDEN / "care_team_changing.fr.html").read_text(encoding="utf-8")
    assert 'aria-label="Retirer Paul &quot;Kiné&quot; de l\'équipe de soins"' in team
    assert "Choisissez une personne &lt;valide&gt;." in team
    assert team.count('name="back" value="chart"') == 3
    whole = (GOLDEN / "care_team_whole.en.html").read_text(encoding="utf-8")
    assert 'data-testid="practice-team"' in whole and "<form" not in whole
    assert "Nobody yet" in (GOLDEN / "care_team_nobody.en.html").read_text(encoding="utf-8")
