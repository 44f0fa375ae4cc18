from django.apps import AppConfig


class CarnetDemoConfig(AppConfig):
    """Installed with the product so that its commands (`demo_data`, `generate_volume`)
    are at hand on every node; it has no models, pages or hooks."""

    name = "carnet_demo"
    verbose_name = "Carnet demo and benchmark data (tools)"
