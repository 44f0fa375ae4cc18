"""Free software, cooperative-run: the GNU AGPL's text is in the repository, and every
page links to the source of the version running here, whoever reads it."""

from __future__ import annotations

import io
import re
import tarfile
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from django.test import Client, override_settings

from core import source, tenancy
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World, enroll, totp_code

ROOT = Path(__file__).resolve().parents[2]
VERSION = metadata.version("carnet")
LINK = re.compile(r'<a href="([^"]*)" data-testid="source-link">')


def login(client: Client, person) -> Client:
    device = enroll(person)
    client.post(
        "/connexion/", {"username": person.username, "password": "correct horse battery staple"}
    )
    client.post("/connexion/code/", {"code": totp_code(device)})
    return client


def footer_link(page: str) -> str:
    found = LINK.findall(page)
    assert len(found) == 1, "one source link per page"
    assert f"Carnet {VERSION}" in page
    return found[0]


def test_the_licence_is_the_gnu_agpl_version_3_in_full() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE")
    assert "Version 3, 19 November 2007" in text.splitlines()[1]
    assert "13. Remote Network Interaction; Use with the GNU General Public License." in text
    assert text.rstrip().endswith("<https://www.gnu.org/licenses/>.")
    assert len(text) > 34_000  # the whole text, not a notice


def test_the_package_says_its_licence() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "AGPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]


@pytest.fixture
def pia(world: World):
    """A practice administrator of practice A, with no other role."""
    tenancy.activate(world.practice_a.pk)
    person = PersonFactory(username="pia", full_name="Pia Poirier")
    MembershipFactory(practice=world.practice_a, person=person, role="practice_admin")
    tenancy.activate(None)
    return person


@pytest.mark.parametrize("who", ["alice", "sam", "pia", "charlie"])
def test_every_role_finds_the_source_link_in_the_footer(
    client: Client, world: World, pia, who: str
) -> None:
    person = pia if who == "pia" else getattr(world, who)
    practice = world.practice_b if who == "charlie" else world.practice_a
    login(client, person)
    for path in (f"/p/{practice.slug}/", f"/p/{practice.slug}/droits/", "/profil/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert footer_link(response.content.decode()) == "/source/"


def test_the_login_and_error_pages_have_it_too(client: Client, world: World) -> None:
    assert footer_link(client.get("/connexion/").content.decode()) == "/source/"
    login(client, world.sam)
    refused = client.get(f"/p/{world.practice_b.slug}/")  # not sam's practice
    assert refused.status_code == 403
    assert footer_link(refused.content.decode()) == "/source/"


@override_settings(CARNET_SOURCE_URL="https://forge.example/carnet/-/tree/v{version}")
def test_a_node_publishing_its_source_elsewhere_links_there_with_its_version(
    client: Client, world: World
) -> None:
    page = client.get("/connexion/").content.decode()
    assert footer_link(page) == f"https://forge.example/carnet/-/tree/v{VERSION}"


def test_the_node_serves_the_code_it_runs_to_anyone(client: Client, db: None) -> None:
    response = client.get("/source/")  # no login: the code holds no data
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert f'filename="carnet-{VERSION}.tar.gz"' in response["Content-Disposition"]
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        names = set(archive.getnames())
        prefix = f"carnet-{VERSION}"
        assert f"{prefix}/LICENSE" in names
        served = archive.extractfile(f"{prefix}/services/core/source.py")
        assert served is not None
        assert served.read() == (ROOT / "services/core/source.py").read_bytes()
        for package in ("carnet", "core", "records", "billing", "sharing", "agenda", "lab"):
            assert f"{prefix}/services/{package}/__init__.py" in names
        assert f"{prefix}/services/core/templates/core/base.html" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # Nothing of the node's state: no var directory, no key file, no keyring.
    assert not [n for n in names if "/var/" in n or n.endswith(("/secret_key", ".gpg", ".kbx"))]


def test_the_archive_is_made_once_per_process(db: None) -> None:
    assert source.source_archive() is source.source_archive()


def test_the_gateway_serves_no_source_and_its_pages_still_render(client: Client, db: None) -> None:
    """The internet-facing gateway serves other nodes the federation endpoints only: no
    archive there, and its error page has no broken link."""
    from tests.adversarial.matrix.test_matrix import _gateway_urlconf

    with override_settings(ROOT_URLCONF=_gateway_urlconf()):
        response = client.get("/source/", HTTP_ACCEPT="text/html")
        assert response.status_code == 404
        page = response.content.decode()
        assert 'data-testid="source-link"' not in page and f"Carnet {VERSION}" in page
