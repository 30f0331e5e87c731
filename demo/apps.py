from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Seeding of the demo county: it needs every other app, so it sits above them all."""

    name = "demo"
    verbose_name = "Demo"
