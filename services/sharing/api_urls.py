from django.urls import URLPattern, path

from sharing import api

urlpatterns: list[URLPattern] = [
    path("patients/<int:patient_id>/consents/", api.ConsentListApi.as_view(), name="api-consents"),
    path("consents/<int:consent_id>/", api.ConsentApi.as_view(), name="api-consent"),
    path(
        "consents/<int:consent_id>/receipt/",
        api.ConsentReceiptApi.as_view(),
        name="api-consent-receipt",
    ),
    path("patients/<int:patient_id>/shares/", api.ShareApi.as_view(), name="api-shares"),
    path("outbox/", api.OutboxApi.as_view(), name="api-outbox"),
    path("inbox/", api.InboxApi.as_view(), name="api-inbox"),
    path("inbox/<str:message_id>/", api.InboxMessageApi.as_view(), name="api-inbox-message"),
    path("inbox/<str:message_id>/accept/", api.InboxAcceptApi.as_view(), name="api-inbox-accept"),
    path(
        "inbox/<str:message_id>/decline/", api.InboxDeclineApi.as_view(), name="api-inbox-decline"
    ),
    path("directory/", api.DirectoryApi.as_view(), name="api-directory"),
    path("patients/<int:patient_id>/refusal/", api.RefusalApi.as_view(), name="api-refusal"),
    path(
        "patients/<int:patient_id>/portability/",
        api.PortabilityApi.as_view(),
        name="api-portability",
    ),
]
