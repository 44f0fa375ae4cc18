"""Every page, for every role, in French and in English, in a real Chromium: axe-core
finds no critical or serious violation, and a French page shows no English word and no
untranslated message id.

The pages come from the URL configuration, as the authorization matrix classifies it
(tests/adversarial/matrix/inventory.py): every GET endpoint of the page channel, with
its path filled from the demo practice (tests/e2e/page_walk_seed.py), plus the public
pages for people. A new page is walked without a change here; a page that is no HTML
page for people must be listed in ``SKIPPED`` with the reason, or the walk fails.

Each role logs in once; a second browser context with the same session switches to
English with the site's own language switch. A page the role may not open answers the
error page, whose text is checked like any other. A page's form is also sent empty
(the inventory's ``FORM`` posts: 400 with the errors, nothing stored) and its answer
checked. axe runs on every page whose main content has a structure not judged yet in
that language (so the same markup seen by another role is not judged twice), on each
role's first page (its menus) and on the first error page of each status.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.adversarial.matrix.inventory import ENDPOINTS, FORM, PUBLIC, url_routes
from tests.e2e.axe import serious_violations
from tests.e2e.totp import fresh_code
from tests.live_server import CARNET, LiveCarnet, carnet_env, live_carnet_running

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
REPORT_DIR = REPO / "var" / "test" / "page-walk"

# The demo's people, one per role (carnet_demo/practice.py). Dr Martin is the GP who administers
# the practice; Lucie Garnier is a nurse.
ROLES = {
    "gp": "karim.benali",
    "nurse": "lucie.garnier",
    "secretary": "sophie.durand",
    "practice-admin": "claire.martin",
    "cooperative-admin": "marc.lefort",
    "node-admin": "nadia.roux",
}

# Public pages for people, walked before logging in.
ANONYMOUS = ("connexion/", "connexion/code/", "invitation/<str:secret>/")

# Routes with a GET that is not an HTML page for people, and why.
SKIPPED = {
    "p/<slug:practice_slug>/equipe/invitations/<int:invitation_id>.pdf": "a PDF",
    "p/<slug:practice_slug>/export/fec/": "a download (the accounting file)",
    "p/<slug:practice_slug>/export/csv/": "a download (a spreadsheet)",
    "cooperative/cotisations/fec/": "a download (the cooperative's accounting file)",
    "source/": "a download (the code of this version)",
    "p/<slug:practice_slug>/patients/<int:patient_id>/documents/<int:document_id>/": (
        "the document's file as it was received, or a letter as a PDF"
    ),
    "healthz": "the health check, JSON for machines",
    "healthz/node": "the node's state for its administrators' monitoring, JSON for machines",
    "i18n/setlang/": "the language switch: a form's POST, walked by every English walk",
    "deconnexion/": "a POST that ends the session",
    "federation/v1/messages": "the gateway of other nodes (JSON)",
    "api/schema/": "the OpenAPI schema (YAML for machines)",
    "api/docs/": "the API documentation for developers, drawn by Swagger UI in English",
    "fhir/r4/metadata": "FHIR (JSON for machines)",
    "fhir/r4/": "FHIR (JSON for machines)",
    "fhir/r4/<path:path>": "FHIR (JSON for machines)",
    "agenda/ical/<str:token>.ics": "a calendar feed for a calendar program",
}

# Fragments the forms fetch while typing (htmx): no page of their own, so no axe run (it
# would judge a bare fragment as a document); their text is checked like a page's.
FRAGMENT_QUERY = {
    "p/<slug:practice_slug>/medicaments/": "q=parac",
    "p/<slug:practice_slug>/allergenes/": "q=penic",
    "p/<slug:practice_slug>/cim10/": "q=diabete",
    "p/<slug:practice_slug>/vaccins/": "q=grippe",
    "p/<slug:practice_slug>/patients/<int:patient_id>/ordonnance/verifier/": "",
}

# More than one address for a route: what a person also sees there.
EXTRA_QUERIES = {
    "p/<slug:practice_slug>/patients/": ["q=zzzqqqzzz"],  # a search that finds no one
}

# Words that are English and never French (nor a name of the demo's data). "Date",
# "Patient", "Note", "Type", "Total", "Document", "Consultation" are French too.
ENGLISH = [
    "the", "and", "with", "your", "you", "this", "from", "for", "not", "yet", "any",
    "save", "cancel", "delete", "search", "submit", "edit", "print", "close", "add",
    "remove", "back", "next", "previous", "home", "settings", "name", "first name",
    "last name", "born", "office", "forbidden", "not found", "date of birth", "today",
    "tomorrow", "yesterday", "week", "day", "month", "year", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
    "april", "june", "july", "august", "october", "december", "log in", "log out",
    "sign", "signed", "password", "username", "account", "profile", "practice",
    "practitioner", "secretary", "appointment", "appointments", "invoice", "invoices",
    "payment", "payments", "receipt", "waiting", "room", "booked", "arrived",
    "cancelled", "results", "unread", "share", "shares", "shared", "received", "sent",
    "team", "staff", "members", "directory", "cooperative",
    "token", "tokens", "emergency", "letter", "certificate", "medication", "drug",
    "drugs", "problem", "problems", "history", "summary", "encounter", "vaccine",
    "identity", "death", "merge", "cover", "insurance", "insurer", "billing", "fee",
    "fees", "amount", "paid", "due", "owed", "cash", "report", "calendar", "feed",
    "holidays", "opening", "reason", "status", "new", "show", "hide", "none", "yes",
    "error", "field", "required", "choose", "select", "enter", "optional", "help",
    "skip", "content", "address", "phone", "number", "female", "male", "patient not found",
    "code:", "here", "there", "what", "who", "which", "when", "where", "will", "must",
    "may", "should", "would", "could", "was", "were", "been", "has", "have", "had",
    "does", "did", "done", "more", "less", "only", "also", "than", "then", "into",
    "about", "after", "before", "between", "without", "under", "over", "each", "every",
    "other", "same", "such", "their", "them", "they", "our", "its", "his", "her",
]  # fmt: skip
ENGLISH_WORDS = re.compile(
    r"(?<![\w@.-])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w@-])", re.IGNORECASE
)
# A message id or a code left for people to read: snake_case, a placeholder, a tag.
MESSAGE_ID = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|%\(\w+\)[sd]|\{\{|\}\}|\{%|%\}")

VISIBLE_TEXT = """() => {
  // What a person reads, without what is marked as another language (the switch to
  // English says "English", with lang="en").
  let text = document.body.innerText;
  for (const el of document.body.querySelectorAll('[lang]:not([lang|="fr"])')) {
    if (el.innerText) text = text.split(el.innerText).join(' ');
  }
  return text;
}"""


# --- the pages to walk ----------------------------------------------------------------


def form_routes() -> set[str]:
    """The pages whose form, sent empty, answers the form again with its errors (the
    inventory's ``FORM`` bodies: 400 once past the gate, nothing stored)."""
    return {
        e.route
        for e in ENDPOINTS
        if e.channel == "page" and e.method == "POST" and e.body == FORM and not e.multipart
    } - set(NOT_SENT_EMPTY)


# Forms for which nothing filled in is a valid answer, not sent empty.
NOT_SENT_EMPTY = {
    "p/<slug:practice_slug>/agenda/reglages/horaires/<int:practitioner_id>/": (
        "no span at all is a valid week: it would close the practitioner's agenda"
    ),
}


def page_routes() -> dict[str, Any]:
    """Every route with a GET for people (the inventory's page channel), PDFs apart."""
    return {
        e.route: e for e in ENDPOINTS if e.channel == "page" and e.method == "GET" and not e.pdf
    }


def planned_routes() -> list[str]:
    return [route for route in page_routes() if route not in SKIPPED]


def test_every_page_is_walked_or_skipped_with_a_reason() -> None:
    """A route of the URL configuration answering GET for people is walked, or skipped
    here with its reason; the skip list names only existing routes."""
    routes = {route for route, _pattern in url_routes()}
    pages = page_routes()
    non_get = {e.route for e in ENDPOINTS} - {e.route for e in ENDPOINTS if e.method == "GET"}
    machine = {e.route for e in ENDPOINTS if e.channel in ("api", "fhir") or e.pdf}
    problems = []
    for route in sorted(routes):
        if route in pages or route in SKIPPED or route in ANONYMOUS:
            continue
        if route in machine or route in non_get:
            continue
        problems.append(f"neither walked nor skipped: {route} (PUBLIC: {route in PUBLIC})")
    problems += [f"skipped but no such route: {route}" for route in SKIPPED if route not in routes]
    problems += [f"not in PUBLIC: {route}" for route in ANONYMOUS if route not in PUBLIC]
    assert not problems, "\n".join(problems)


@dataclass
class Visit:
    route: str
    path: str
    method: str = "GET"
    status: int = 0
    problems: list[str] = field(default_factory=list)


def fill(route: str, values: dict[str, Any], username: str) -> list[str]:
    """The addresses of a route: its path filled from the walked practice's objects; a
    route with an entry type once per type."""
    people = values["people"]
    own = people[username]
    practitioner = own if username in {"karim.benali", "claire.martin", "lucie.garnier"} else 0
    base = {
        "practice_slug": values["practice_slug"],
        "patient_id": values["patient_id"],
        "invoice_id": values["invoice_id"],
        "appointment_id": values["appointment_id"],
        "lab_file_id": values["lab_to_match"]
        if page_routes()[route].entry == "lab_to_match"
        else values["lab_file_id"],
        "site_id": values["site_id"],
        "type_id": values["type_id"],
        "invitation_id": values["invitation_id"],
        "application_id": values["application_id"],
        "practice_id": values["practice_id"],
        "message_id": values["message_id"],
        # one's own bank details and hours; the GP's for the others
        "person_id": practitioner or people["claire.martin"],
        "practitioner_id": practitioner or people["claire.martin"],
        "document_id": values["document"][1],
    }
    variants: list[dict[str, Any]] = [base]
    if "<str:entry_type>/<int:entry_id>" in route:
        variants = [
            {**base, "entry_type": kind, "patient_id": patient, "entry_id": entry}
            for kind, (patient, entry) in values["entries"].items()
        ]
    elif "<str:entry_type>" in route:
        # a consultation is written from its own page (consultation/)
        kinds = [kind for kind in values["entries"] if kind != "encounter"]
        variants = [{**base, "entry_type": kind} for kind in kinds]
    elif "<int:document_id>" in route:
        variants = [{**base, "patient_id": values["document"][0]}]
    paths = []
    for one in variants:
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m, one=one: str(one[m.group(1)]), route)
        query = FRAGMENT_QUERY.get(route) or page_routes()[route].query.format(**one)
        if route.endswith("certificat/"):
            paths += [f"{path}?modele={model}" for model in values["certificates"]]
            continue
        paths.append(f"{path}?{query}" if query else path)
        paths += [f"{path}?{extra}" for extra in EXTRA_QUERIES.get(route, [])]
    return paths


# --- the walked Carnet ------------------------------------------------------------------


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveCarnet, dict[str, Any]]]:
    """The demo practice on a Carnet of its own (the seed adds an invitation and a share,
    which other browser tests must not see), and the values that fill the addresses."""
    setup = (["load_reference"], ["load_fees"], ["demo_data", "--patients", "12"])
    with live_carnet_running(tmp_path_factory, "walk", setup) as live:
        db = settings.DATABASES["default"]
        where = f"{db['NAME']}_walk?host={db['HOST']}&port={db['PORT']}"
        seeded = subprocess.run(
            [CARNET, "shell", "-c", "from tests.e2e.page_walk_seed import main; main()"],
            env=carnet_env(where, live.var_dir, PYTHONPATH=str(REPO)),
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(x for x in seeded.stdout.splitlines() if x.startswith("PAGE-WALK "))
        values = json.loads(line.removeprefix("PAGE-WALK "))
        from records import certificates

        values["certificates"] = list(certificates.MODELS)
        yield live, values


def log_in(page: Any, live: LiveCarnet, username: str) -> None:
    account = live.account(username)
    page.goto(f"{live.url}/connexion/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(account["password"])
    page.locator("#id_password").press("Enter")
    page.wait_for_url("**/connexion/code/")
    page.locator("#id_code").fill(fresh_code(account["totp_secret"]))
    page.locator("#id_code").press("Enter")
    page.wait_for_url(lambda url: "/connexion/" not in url, timeout=30_000)


def check(page: Any, visit: Visit, language: str, *, axe: bool) -> None:
    """The page as shown now: axe-core, and in French the English words and message ids."""
    lang = page.evaluate("() => document.documentElement.lang")
    if lang and lang != language:
        visit.problems.append(f"html lang={lang!r}, not {language!r}")
    text = page.evaluate(VISIBLE_TEXT)
    if language == "fr":
        words = sorted({m.group(1) for m in ENGLISH_WORDS.finditer(text)})
        if words:
            visit.problems.append(f"English in French: {words}")
    ids = sorted(set(MESSAGE_ID.findall(text)))
    if ids:
        visit.problems.append(f"message ids or codes shown: {ids}")
    if axe:
        visit.problems += serious_violations(page)


# The structure of the page's main content (elements, ids, classes, roles, labels): the
# same page showing the same markup to another role is not judged by axe twice.
STRUCTURE = """() => Array.from(
  (document.querySelector('main') || document.body).querySelectorAll('*'),
  (e) => [e.tagName, e.id, e.className, e.getAttribute('role'), e.getAttribute('type'),
          e.getAttribute('aria-label'), e.getAttribute('for')].join(' ')
).join('|')"""


def walk(
    page: Any, live: LiveCarnet, paths: list[tuple[str, str]], language: str, judged: set[Any]
) -> list[Visit]:
    """Open each address; check the text of every page, and run axe on each page whose
    structure it has not judged yet in this language (always on a role's first page, for
    its menus) and on the first error page of each status."""
    visits = []
    first = True
    for route, path in paths:
        visit = Visit(route, path)
        response = page.goto(f"{live.url}{path}")
        visit.status = response.status if response else 0
        content_type = response.headers.get("content-type", "") if response else ""
        if "/connexion/" in page.url and not route.startswith(("connexion", "invitation")):
            visit.problems.append("sent back to the login: the session was lost")
        elif visit.status >= 500 or visit.status == 0:
            visit.problems.append(f"answered {visit.status}")
        elif not content_type.startswith("text/html"):
            visit.problems.append(f"not an HTML page ({content_type}): list it in SKIPPED")
        else:
            key = (language, route, visit.status == 200, page.evaluate(STRUCTURE))
            if visit.status != 200:
                key = (language, "error", visit.status, "")
            axe = route not in FRAGMENT_QUERY and (first or key not in judged)
            judged.add(key)
            first = False
            check(page, visit, language, axe=axe)
        visits.append(visit)
        if visit.status == 200 and route in form_routes():
            check_focus(page, visit)
            visits.append(send_empty_form(page, route, path, language, judged))
    return visits


# The first field of the page's form when the cursor is not in a field of the page's
# main content ('' when it is, or when the page shows no field to fill).
UNFOCUSED_FIELD = """() => {
  const main = document.querySelector('main') || document.body;
  const fields = Array.from(main.querySelectorAll('form input, form select, form textarea'))
    .filter((e) => !['hidden', 'submit', 'button', 'reset'].includes(e.type)
                   && !e.disabled && e.offsetParent !== null);
  if (!fields.length) return '';
  const active = document.activeElement;
  if (active && main.contains(active) && active.matches('input, select, textarea')) return '';
  return fields[0].name || fields[0].id || fields[0].tagName;
}"""


def check_focus(page: Any, visit: Visit) -> None:
    """A page whose job is a form starts with the cursor in it (issue 18: it took 13 Tabs
    to reach the first field); refused, the form puts it back in a field."""
    field = page.evaluate(UNFOCUSED_FIELD)
    if field:
        visit.problems.append(f"the cursor is not in the form: its first field is {field!r}")


SEND_EMPTY = """(path) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = path;
  const token = document.querySelector('[name=csrfmiddlewaretoken]');
  if (token) form.append(Object.assign(document.createElement('input'),
    {type: 'hidden', name: token.name, value: token.value}));
  document.body.append(form);
  form.submit();
}"""


def send_empty_form(page: Any, route: str, path: str, language: str, judged: set[Any]) -> Visit:
    """The page's form sent with nothing filled in: its errors, in the page's language."""
    visit = Visit(route, path, "POST")
    with page.expect_navigation() as navigation:
        page.evaluate(SEND_EMPTY, path)
    response = navigation.value
    visit.status = response.status if response else 0
    if visit.status >= 500 or visit.status == 0:
        visit.problems.append(f"answered {visit.status}")
        return visit
    key = (language, route, "POST", page.evaluate(STRUCTURE))
    check(page, visit, language, axe=key not in judged)
    if visit.status == 400:  # the form came back refused (not a page it led to)
        check_focus(page, visit)
    judged.add(key)
    return visit


def report(name: str, visits: dict[str, list[Visit]]) -> str:
    """A table of the pages walked (written to var/test/page-walk/), and the problems."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    lines = [f"# {name}", ""]
    problems = []
    for language, walked_visits in visits.items():
        opened = [v for v in walked_visits if v.status == 200]
        lines.append(f"## {language}: {len(opened)} pages opened, {len(walked_visits)} walked")
        lines += [f"- {v.status} {v.method} {v.path[:120]}" for v in walked_visits]
        problems += [
            f"[{language}] {v.status} {v.method} {v.path[:120]}: {problem}"
            for v in walked_visits
            for problem in v.problems
        ]
    lines += ["", "## Problems", *problems]
    (REPORT_DIR / f"{name}.md").write_text("\n".join(lines) + "\n")
    return "\n".join(problems)


ERROR_PAGES = [
    ("error-404", "/p/{practice_slug}/patients/999999999/"),
    ("error-404", "/nulle-part/"),
    # more fields than a request may carry (Django's limit is 1000): the 400 page
    ("error-400", "/p/{practice_slug}/patients/?" + "&".join("f" * 1100)),
]


def english_context(browser: Any, state: Any, live: LiveCarnet) -> Any:
    """The same session, switched to English by the site's language switch."""
    context = browser.new_context(locale="fr-FR", storage_state=state)
    page = context.new_page()
    page.goto(f"{live.url}/profil/")
    with page.expect_navigation():
        page.locator("form.lang-switch button").click()
    assert page.evaluate("() => document.documentElement.lang") == "en"
    return context, page


@pytest.fixture(scope="module")
def judged() -> set[Any]:
    """The pages axe has judged, across the roles of the module."""
    return set()


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_the_role_in_french_and_english(browser, walked, judged, role: str) -> None:
    live, values = walked
    username = ROLES[role]
    paths = [(route, path) for route in planned_routes() for path in fill(route, values, username)]
    paths += [(name, path.format(**values)) for name, path in ERROR_PAGES]
    french = browser.new_context(locale="fr-FR")
    page = french.new_page()
    log_in(page, live, username)
    visits = {"fr": walk(page, live, paths, "fr", judged)}
    # In English: the pages the role opened, and one refusal of each kind (the English
    # walk looks for message ids and accessibility; the refusals' French was read).
    seen: set[int] = set()
    again = []
    gets = [visit for visit in visits["fr"] if visit.method == "GET"]
    for (route, path), visit in zip(paths, gets, strict=True):
        if visit.status == 200 or visit.status not in seen or route.startswith("error"):
            again.append((route, path))
            seen.add(visit.status)
    english, en_page = english_context(browser, french.storage_state(), live)
    visits["en"] = walk(en_page, live, again, "en", judged)
    english.close()
    french.close()
    problems = report(role, visits)
    assert {v.route for v in visits["fr"]} >= set(planned_routes()), "a page was not walked"
    assert not problems, problems


def test_the_pages_before_login_in_french_and_english(browser, walked) -> None:
    live, values = walked
    paths = [
        ("connexion/", "/connexion/"),
        ("invitation/<str:secret>/", f"/invitation/{values['secret']}/"),
    ]
    paths += [("error-404", "/nulle-part/"), ("invitation/<str:secret>/", "/invitation/perime/")]
    visits = {}
    for language, locale in (("fr", "fr-FR"), ("en", "en-GB")):
        context = browser.new_context(locale=locale)
        page = context.new_page()
        visits[language] = walk(page, live, paths, language, set())
        # The second step, after the password (no code is typed: none is spent).
        account = live.account("sophie.durand")
        page.goto(f"{live.url}/connexion/")
        page.locator("#id_username").fill(account["username"])
        page.locator("#id_password").fill(account["password"])
        page.locator("#id_password").press("Enter")
        page.wait_for_url("**/connexion/code/")
        visit = Visit("connexion/code/", "/connexion/code/", status=200)
        check(page, visit, language, axe=True)
        visits[language].append(visit)
        context.close()
    problems = report("anonymous", visits)
    assert not problems, problems
