"""The address map: every named address leads to its own view, whatever the order of the
patterns (carnet/urls.py lists the API and FHIR first, as the most frequent calls)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver, resolve

# An address that is knowingly another's: the practice home is the agenda's day, and
# core's own page under the same address serves only a map without the agenda
# (carnet/urls.py).
SHADOWED = {"practices:home": "practice-home"}

SAMPLE = {"int": "7", "slug": "cabinet-x", "str": "x7", "path": "x7/y", "uuid": "0" * 32}


def named_patterns(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(a sample address, the pattern's full name) for every named pattern."""
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            address = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
            yield "/" + address, namespace + pattern.name


def test_every_named_address_leads_to_its_own_view() -> None:
    found = list(named_patterns(get_resolver()))
    assert len(found) > 250
    wrong = {}
    for address, name in found:
        match = resolve(address)
        reached = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
        if reached != SHADOWED.get(name, name):
            wrong[address] = (name, reached)
    assert not wrong


def test_a_resource_s_history_is_not_read_as_an_id() -> None:
    assert resolve("/fhir/r4/Patient/_history").url_name == "fhir-patient-history-type"
    assert resolve("/fhir/r4/Observation/_history").url_name == "fhir-observation-history-type"
    assert resolve("/fhir/r4/Observation/42").url_name == "fhir-observation-read"
    assert resolve("/fhir/r4/Observationx").url_name == "fhir-unknown"
