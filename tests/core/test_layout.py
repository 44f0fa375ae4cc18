"""The layout every page shares renders the same HTML, byte for byte, as it did before it
moved to Jinja2 (docs/performance.md, "The layout every page shares").

The golden files were written by the Django template the layout had before. Each case is
a real request (its person, practice, menu and language as the middleware left them), a
page of Django's templates extending ``core/base.html`` with its three blocks, and a
message to show; the CSRF tokens (new at each render) and the version are replaced by
fixed words. Values that must be escaped are in the title, the message and the source
address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib import messages
from django.template import engines
from django.test import Client, override_settings
from django.utils import translation

from core import source
from tests.factories import PersonFactory
from tests.fixtures import World
from tests.records.test_views import login

GOLDEN = Path(__file__).parent / "golden"

PAGE = (
    '{% extends "core/base.html" %}'
    '{% block title %}Jean "Jo" <Dupont> & fils{% endblock %}'
    '{% block main_attrs %} class="wide"{% endblock %}'
    "{% block content %}<p>{{ body }}</p>{% endblock %}"
)
PLAIN_PAGE = '{% extends "core/base.html" %}{% block content %}<p>{{ body }}</p>{% endblock %}'


def normalised(html: str) -> str:
    html = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1CSRF", html)
    html = re.sub(r'("X-CSRFToken": ")[^"]+', r"\1CSRF", html)
    return html.replace(source.version(), "VERSION")


def render(client: Client, path: str, page: str, language: str, message: str = "") -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    request = response.wsgi_request
    if message:
        messages.info(request, message)
    with translation.override(language):
        html = engines["django"].from_string(page).render({"body": "l'été <b>"}, request)
    return normalised(html)


def check(name: str, html: str) -> None:
    golden = GOLDEN / f"layout_{name}.html"
    assert html == golden.read_text(encoding="utf-8"), name


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_practitioners_page_in_the_practice(client: Client, world: World, language: str) -> None:
    login(client, world.alice)
    path = f"/p/{world.practice_a.slug}/patients/"
    html = render(client, path, PAGE, language, message='Enregistré : "<b>Dupont & fils</b>"')
    check(f"practice_{language}", html)


@override_settings(CARNET_SOURCE_URL='https://exemple.org/carnet?v={version}&mode="src"')
def test_a_secretarys_page_with_the_defaults_and_a_published_source(
    client: Client, world: World
) -> None:
    login(client, world.sam)
    html = render(client, f"/p/{world.practice_a.slug}/", PLAIN_PAGE, "fr")
    check("secretary_fr", html)


def test_the_cooperatives_administrator_outside_any_practice(client: Client, db: None) -> None:
    colette = PersonFactory(
        username="colette", full_name="Colette <Coop>", is_cooperative_admin=True
    )
    login(client, colette)
    check("cooperative_fr", render(client, "/cooperative/", PLAIN_PAGE, "fr", message="Bonjour"))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_visitor_not_logged_in(client: Client, db: None, language: str) -> None:
    check(f"visitor_{language}", render(client, "/connexion/", PAGE, language))
