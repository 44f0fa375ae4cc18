"""URL map of a Carnet process. CARNET_SERVICE=gateway serves only the federation
endpoints (added by the sharing service) and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.accounts import schema as _auth_schemes  # noqa: F401 - registers them with the schema
from core.health import healthz, healthz_node

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
]

if settings.CARNET_SERVICE in {"all", "gateway"}:
    from sharing.gateway import receive

    urlpatterns += [path("federation/v1/messages", receive, name="federation-messages")]

if settings.CARNET_SERVICE in {"all", "practice"}:
    from agenda.day_views import home as practice_home
    from agenda.feed_views import calendar_feed
    from carnet import leaving_views
    from core.source import source

    urlpatterns += [
        # The API and FHIR first: their calls are the most frequent, and Django tries the
        # patterns in order (no address of theirs is another's:
        # tests/test_urls.py::test_every_named_address_leads_to_its_own_view).
        path("api/v1/", include("core.accounts.api_urls")),
        path("api/v1/", include("core.practices.api_urls")),
        path("api/v1/", include("records.api_urls")),
        path("api/v1/", include("billing.api_urls")),
        path("api/v1/", include("sharing.api_urls")),
        path("api/v1/", include("agenda.api_urls")),
        path("api/v1/", include("lab.api_urls")),
        path("fhir/r4/", include("sharing.fhir.urls")),
        # GNU AGPL: the code of the version running here, linked from every page's footer
        # (not on the gateway, which serves other nodes the federation endpoints only).
        path("source/", source, name="source"),
        # The node's state, for its administrators (the gateway serves the public part).
        path("healthz/node", healthz_node, name="healthz-node"),
        path("", include("core.accounts.urls")),
        # The practice home shows today (the agenda's day, issue 14). Core owns the
        # address and its name (``practices:home`` still reverses to it) but cannot import
        # the agenda (tests/test_layers.py), so the composition root routes it first;
        # core's own page under the same address is only reached by a URL configuration
        # without the agenda. See docs/architecture.md, "The practice home".
        path("p/<slug:practice_slug>/", practice_home, name="practice-home"),
        path("p/<slug:practice_slug>/", include("core.practices.urls")),
        # Leaving the cooperative needs every service's export: the composition root's.
        path("p/<slug:practice_slug>/adhesion/depart/", leaving_views.leaving_page, name="leaving"),
        path(
            "p/<slug:practice_slug>/adhesion/depart/export/",
            leaving_views.leaving_export,
            name="leaving-export",
        ),
        path(
            "p/<slug:practice_slug>/adhesion/depart/demande/",
            leaving_views.leaving_request,
            name="leaving-request",
        ),
        path(
            "p/<slug:practice_slug>/adhesion/depart/rester/",
            leaving_views.leaving_withdraw,
            name="leaving-withdraw",
        ),
        path("cooperative/", include("core.practices.cooperative_urls")),
        path("cooperative/", include("sharing.cooperative_urls")),
        path("cooperative/", include("billing.cooperative_urls")),
        # Applying to join the cooperative: public, no login (core/practices/join_views.py).
        path("adherer/", include("core.practices.join_urls")),
        path("p/<slug:practice_slug>/", include("records.urls")),
        path("p/<slug:practice_slug>/", include("billing.urls")),
        path("p/<slug:practice_slug>/", include("sharing.urls")),
        path("p/<slug:practice_slug>/", include("agenda.urls")),
        path("p/<slug:practice_slug>/", include("lab.urls")),
        # A calendar program fetches it with the secret in the address, without a login
        # or a practice session (agenda/feed_views.py).
        path("agenda/ical/<str:token>.ics", calendar_feed, name="agenda-feed"),
        path(
            "api/schema/",
            login_not_required(SpectacularAPIView.as_view()),
            name="api-schema",
        ),
        path(
            "api/docs/",
            login_not_required(SpectacularSwaggerView.as_view(url_name="api-schema")),
            name="api-docs",
        ),
    ]
