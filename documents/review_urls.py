"""URLs of the review part of the archive; included by documents/urls.py under the "documents" namespace."""

urlpatterns = []
