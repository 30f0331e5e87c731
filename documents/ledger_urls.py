"""URLs of the ledger part of the archive; included by documents/urls.py under the "documents" namespace."""

from django.urls import path

from . import verification

urlpatterns = [
    path("verify/", verification.verify, name="verify"),
    path("verify/<str:code>/", verification.verify_code, name="verify_code"),
    path("ledger/", verification.ledger, name="ledger"),
]
