"""URLs of the capture part of the archive; included by documents/urls.py under the "documents" namespace."""

from django.urls import path

from . import capture, views

urlpatterns = [
    path("matters/<int:matter_id>/capture/", capture.capture, name="capture"),
    path("evidence/<int:pk>/thumbnail/", views.evidence_thumbnail, name="evidence_thumbnail"),
]
