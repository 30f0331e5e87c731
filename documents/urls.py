from django.urls import include, path

from . import views

app_name = "documents"

# Each part of the archive keeps its own URL module; all share the "documents" namespace.
urlpatterns = [
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("", include("documents.ledger_urls")),
    path("", include("documents.rendering_urls")),
    path("", include("documents.capture_urls")),
    path("", include("documents.review_urls")),
]
