"""In a real browser, at the keyboard only: the forms start in their first field, a
patient registered by typing and Tab lands every value in its own field (the birth date
included: Chromium's date field has three parts), and every suggestion list (drugs,
CIM-10 codes, allergens, vaccines) follows the WAI-ARIA combobox pattern: ArrowDown /
ArrowUp move the active suggestion, Enter picks it, Escape closes the list.

axe-core (tests/e2e/axe.py) finds no critical or serious violation with a list open."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

GP = "claire.martin"


@pytest.fixture(scope="module")
def gp_page(browser, live_carnet: LiveCarnet):
    """One logged-in GP for the module (a TOTP code is accepted only once)."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    log_in(page, live_carnet, GP)
    yield page
    context.close()


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def date_keys(page, day: str, month: str, year: str) -> str:
    """The digits of a date in the order the browser's date field asks them (day first
    in a French Chromium, month first in one without the French locale data)."""
    probe = page.context.new_page()
    probe.set_content('<input type="date" id="d">')
    probe.focus("#d")
    probe.keyboard.type("12311999")
    month_first = probe.input_value("#d") == "1999-12-31"
    probe.close()
    return month + day + year if month_first else day + month + year


def register_by_keyboard(page, live: LiveCarnet, family: str) -> dict[str, str]:
    """Type a new patient's identity with Tab between the fields; returns what was typed
    per field id, and leaves the form filled (not sent)."""
    slug = live.credentials["practice"]["slug"]
    keys = date_keys(page, "30", "09", "1971")
    page.goto(f"{live.url}/p/{slug}/patients/nouveau/")
    typed = {
        "id_birth_name": family,
        "id_used_name": "",
        "id_given_names": "Émile",
        "id_sex": "M",
        "id_birth_date": "1971-09-30",
        "id_birth_place": "Rouen",
        "id_nir": "",
        "id_address": "3 rue des Lilas",
        "id_postal_code": "76000",
        "id_city": "Rouen",
    }
    # The form starts in its first field.
    assert focused_id(page) == "id_birth_name"
    page.keyboard.type(family)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # no used name
    page.keyboard.type("Émile")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_sex"
    page.keyboard.type("H")  # "Homme": a list is picked by its first letters
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_birth_date"
    page.keyboard.type(keys)  # the digits only: the field moves from day to month to year
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_birth_place", "Tab after the birth date leaves the field"
    page.keyboard.type("Rouen")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # no NIR
    page.keyboard.type("3 rue des Lilas")
    page.keyboard.press("Tab")
    page.keyboard.type("76000")
    page.keyboard.press("Tab")
    page.keyboard.type("Rouen")
    return typed


def test_a_patient_registered_by_keyboard_has_each_value_in_its_field(
    gp_page, live_carnet: LiveCarnet
) -> None:
    page = gp_page
    family = f"Clavier{uuid.uuid4().hex[:4]}"
    typed = register_by_keyboard(page, live_carnet, family)
    for field_id, value in typed.items():
        assert page.locator(f"#{field_id}").input_value() == value, field_id
    # Then the rest at the keyboard: paper only, the GP, and Enter sends the form.
    page.get_by_label("Papier uniquement", exact=False).focus()
    page.keyboard.press("Space")
    page.locator("#id_gp").focus()
    page.locator("#id_gp").select_option(label="Dr Claire Martin")
    page.locator("#id_city").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/patients/\d+/$"), timeout=15_000)
    identity = page.locator("main").inner_text()
    assert family.upper() in identity.upper()
    assert "30/09/1971" in identity


def open_chart(page, live: LiveCarnet) -> str:
    family = f"Liste{uuid.uuid4().hex[:4]}"
    register_by_keyboard(page, live, family)
    page.get_by_label("Papier uniquement", exact=False).check()
    page.locator("#id_gp").select_option(label="Dr Claire Martin")
    with page.expect_navigation(timeout=15_000):
        page.locator("#id_city").press("Enter")
    if page.get_by_test_id("duplicates").count():  # an earlier test's patient is alike
        page.get_by_label("J'ai vérifié", exact=False).check()
        page.locator("#id_city").press("Enter")
    page.wait_for_url(re.compile(r".*/patients/\d+/$"), timeout=15_000)
    return page.url


def combobox_state(page, selector: str) -> dict:
    return page.locator(selector).evaluate(
        """input => {
          const active = input.getAttribute('aria-activedescendant');
          const list = document.getElementById(input.getAttribute('aria-controls') || '');
          const selected = list ? [...list.querySelectorAll('[aria-selected=true]')] : [];
          return {
            role: input.getAttribute('role'),
            expanded: input.getAttribute('aria-expanded'),
            active: active,
            listRole: list && list.getAttribute('role'),
            listVisible: !!list && !list.hidden,
            options: list ? list.querySelectorAll('[role=option]').length : 0,
            selected: selected.map(o => o.id),
            focused: document.activeElement === input,
          };
        }"""
    )


def wait_for_options(page, input_selector: str) -> None:
    page.wait_for_function(
        """selector => {
          const input = document.querySelector(selector);
          return input.getAttribute('aria-expanded') === 'true';
        }""",
        arg=input_selector,
        timeout=15_000,
    )


def test_the_drug_suggestions_work_with_arrows_enter_and_escape(
    gp_page, live_carnet: LiveCarnet
) -> None:
    page = gp_page
    chart = open_chart(page, live_carnet)
    page.goto(chart + "ordonnance/")
    field = "#id_items-0-drug_label"
    state = combobox_state(page, field)
    assert state["role"] == "combobox" and state["expanded"] == "false"
    page.locator(field).focus()
    page.keyboard.type("amoxicilline")
    wait_for_options(page, field)
    state = combobox_state(page, field)
    assert state["listRole"] == "listbox" and state["options"] > 2 and state["active"] is None

    page.keyboard.press("ArrowDown")
    first = combobox_state(page, field)
    assert first["active"] == "drugs-0-list-0" and first["selected"] == ["drugs-0-list-0"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert combobox_state(page, field)["active"] == "drugs-0-list-2"
    page.keyboard.press("ArrowUp")
    second = combobox_state(page, field)
    assert second["active"] == "drugs-0-list-1" and second["focused"]  # focus stays typed in

    problems = serious_violations(page)
    assert not problems, "axe-core with the drug list open:\n" + "\n".join(problems)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "combobox-drugs.png"), full_page=True)

    page.keyboard.press("Escape")
    closed = combobox_state(page, field)
    assert closed["expanded"] == "false" and not closed["listVisible"] and closed["active"] is None
    assert page.locator(field).input_value() == "amoxicilline"  # Escape keeps the text

    page.keyboard.press("ArrowDown")  # opens again on the first suggestion
    page.keyboard.press("ArrowDown")
    picked = page.locator("#drugs-0-list-1").get_attribute("data-label")
    page.keyboard.press("Enter")  # picks it, does not send the form
    assert page.url == chart + "ordonnance/"
    assert page.locator(field).input_value() == picked
    assert page.locator("#id_items-0-drug_cis").input_value() != ""
    assert combobox_state(page, field)["expanded"] == "false"
    assert focused_id(page) == "id_items-0-dose_quantity"


def test_the_cim10_allergen_and_vaccine_suggestions_are_comboboxes_too(
    gp_page, live_carnet: LiveCarnet
) -> None:
    page = gp_page
    chart = open_chart(page, live_carnet)

    page.goto(chart + "ajouter/problem/")
    assert focused_id(page) == "id_code"  # the form starts in its first field
    page.keyboard.type("diabete type 2")
    wait_for_options(page, "#id_code")
    page.keyboard.press("ArrowDown")
    active = combobox_state(page, "#id_code")["active"]
    code = page.locator(f"#{active}").get_attribute("data-code")
    page.keyboard.press("Enter")
    assert page.url == chart + "ajouter/problem/"
    assert page.locator("#id_code").input_value() == code
    assert page.locator("#id_label").input_value() != ""

    page.goto(chart + "ajouter/allergy/")
    page.locator("#id_substance").focus()
    page.keyboard.type("amoxicilline")
    wait_for_options(page, "#id_substance")
    page.keyboard.press("ArrowUp")  # from closed-on-nothing: the last suggestion
    state = combobox_state(page, "#id_substance")
    assert state["active"] == f"suggest-substance-list-{state['options'] - 1}"
    page.keyboard.press("ArrowDown")  # wraps to the first
    assert combobox_state(page, "#id_substance")["active"] == "suggest-substance-list-0"
    page.keyboard.press("Enter")
    assert page.locator("#id_substance_code").input_value() != ""

    page.goto(chart + "ajouter/immunization/")
    page.locator("#id_vaccine").focus()
    page.keyboard.type("revaxis")
    wait_for_options(page, "#id_vaccine")
    page.keyboard.press("Escape")
    assert combobox_state(page, "#id_vaccine")["expanded"] == "false"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.locator("#id_drug").input_value() != ""
    assert focused_id(page) == "id_lot_number"


def test_the_consent_forms_group_titles_stand_above_their_own_boxes(
    gp_page, live_carnet: LiveCarnet
) -> None:
    page = gp_page
    chart = open_chart(page, live_carnet)
    page.goto(chart + "consentements/")
    for title in ("Ce qui peut être partagé", "Informations sensibles que le patient inclut"):
        group = page.locator("fieldset.choices", has=page.locator("legend", has_text=title))
        assert group.count() == 1, title
        legend = group.locator("legend").bounding_box()
        boxes = [box.bounding_box() for box in group.locator("input[type=checkbox]").all()]
        assert legend and len(boxes) > 1
        # The title is above its boxes, flush with their left edge (not in a column of
        # its own beside them).
        assert all(box["y"] > legend["y"] + legend["height"] / 2 for box in boxes)
        assert all(abs(box["x"] - legend["x"]) < 24 for box in boxes)
    page.screenshot(path=str(SCREENSHOTS / "consent-groups.png"), full_page=True)
