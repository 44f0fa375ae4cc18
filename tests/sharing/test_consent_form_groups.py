"""The consent form's groups of boxes: each group's title is the legend of a fieldset
around its own boxes (not a heading laid out in a grid beside them), so the title
stays with its boxes and a screen reader names the group on each box."""

from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client

from tests.fixtures import World
from tests.records.test_views import login
from tests.sharing.test_consent_pages import paris_in_directory


class Groups(HTMLParser):
    """The checkboxes of the page, each with the legend of its fieldset (or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[list[str]] = []  # legend text per open fieldset
        self.in_legend = False
        self.boxes: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "fieldset":
            self.stack.append([])
        elif tag == "legend":
            self.in_legend = True
        elif tag == "input" and found.get("type") == "checkbox":
            legend = " ".join(self.stack[-1]).strip() if self.stack else None
            self.boxes[f"{found['name']}={found['value']}"] = legend

    def handle_endtag(self, tag: str) -> None:
        if tag == "fieldset":
            self.stack.pop()
        elif tag == "legend":
            self.in_legend = False

    def handle_data(self, data: str) -> None:
        if self.in_legend and self.stack:
            self.stack[-1].append(data.strip())


def test_each_group_of_boxes_has_its_title_as_legend(client: Client, world: World) -> None:
    paris_in_directory()
    sam = login(client, world.sam)
    page = sam.get(f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consentements/")
    parser = Groups()
    parser.feed(page.content.decode())
    categories = {k: v for k, v in parser.boxes.items() if k.startswith("categories=")}
    labels = {k: v for k, v in parser.boxes.items() if k.startswith("labels=")}
    assert len(categories) > 3 and len(labels) > 1
    assert set(categories.values()) == {"Ce qui peut être partagé *"}
    assert set(labels.values()) == {"Informations sensibles que le patient inclut expressément"}
