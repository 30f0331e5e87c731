"""URLs of the rendering part of the archive; included by documents/urls.py under the "documents" namespace."""

from django.urls import path

from . import rendering_views

urlpatterns = [
    path("rendered/<int:pk>/status/", rendering_views.document_status, name="document_status"),
    path("rendered/<int:pk>/pdf/", rendering_views.document_download, name="document_download"),
    path("rendered/request/<str:kind>/<int:pk>/", rendering_views.document_request, name="document_request"),
]
