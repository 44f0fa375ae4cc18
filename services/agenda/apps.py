from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Agenda"

    def ready(self) -> None:
        from agenda import receivers
        from core import dbsecurity

        # A calendar feed is found by its secret before any practice is known (a
        # calendar program has no session): the row holds the practitioner, the
        # practice and a hash of the secret, never patient data.
        dbsecurity.register_exempt(
            "agenda_calendarfeed",
            "looked up by the hash of its secret before a practice is known; no patient data",
        )
        receivers.connect()
