from django.apps import AppConfig


class BareFlowConfig(AppConfig):
    """Installed only by scripts/bench/settings.py; has no models (its processes are viewflow's own rows)."""

    name = "scripts.bench"
    label = "bench_bare"
    default_auto_field = "django.db.models.BigAutoField"
