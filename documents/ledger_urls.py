"""URLs of the ledger part of the archive; included by documents/urls.py under the "documents" namespace."""

from django.urls import path

from . import verification

urlpatterns = [
    path("verify/", verification.verify, name="verify"),
    path("verify/verify_package.py", verification.verifier_download, name="verifier_download"),
    path("verify/<str:code>/", verification.verify_code, name="verify_code"),
    path("verify/<str:code>/proof.json", verification.proof_download, name="proof_download"),
    path("verify/<str:code>/package.zip", verification.document_package, name="document_package"),
    path("evidence/<int:pk>/package.zip", verification.evidence_package, name="evidence_package"),
    path("certificates/<int:pk>/package.zip", verification.certificate_package, name="certificate_package"),
    path("matters/<int:matter_pk>/archive-package.zip", verification.archive_package_download, name="archive_package"),
    path("ledger/", verification.ledger, name="ledger"),
    path("ledger/check/", verification.ledger_check_request, name="ledger_check_request"),
    path("ledger/checkpoint/", verification.checkpoint, name="ledger_checkpoint"),
    path("ledger/consistency/", verification.consistency, name="ledger_consistency"),
    path("ledger/witness/cosign/", verification.witness_cosign, name="witness_cosign"),
    path("ledger/witness/fork/", verification.witness_fork, name="witness_fork"),
]
