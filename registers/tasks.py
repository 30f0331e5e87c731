"""Background work of the registers: rendering share certificates (股权证) as PDF, and the early-warning sweeps."""

import datetime

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from project.jobs import enqueue
from protection.masking import mask_id_number

from .models import ShareCertificate, ShareKind
from .warnings import contract_check, movement_check, warnings_scan

# All but the last four characters hidden: enough to tell holders apart, not to reuse the number.
masked_id_number = mask_id_number


def certificate_html(certificate: ShareCertificate) -> str:
    member = certificate.member
    rows = [
        (ShareKind(kind).label, certificate.holdings[kind]) for kind in ShareKind.values if kind in certificate.holdings
    ]
    # The certificate is a document of the collective, in its language, whoever's request queued it.
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "registers/certificate.html",
            {
                "certificate": certificate,
                "member": member,
                "collective": member.organization,
                "id_number": masked_id_number(member.id_number),
                "rows": rows,
                "total": sum(shares for _label, shares in rows),
                "issued_on": timezone.localtime(certificate.issued_at).date(),
                "matter": certificate.matter,
            },
        )


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def render_certificate(certificate_id: int) -> str:
    """Render the certificate's PDF once and store it; a certificate already rendered is left alone."""
    from weasyprint import HTML  # heavy import, only in the worker

    certificate = ShareCertificate.objects.select_related("member__organization", "matter").get(pk=certificate_id)
    if certificate.pdf and certificate.pdf.storage.exists(certificate.pdf.name):
        return certificate.pdf.name
    pdf = HTML(string=certificate_html(certificate)).write_pdf()
    with transaction.atomic():
        # Two workers given the same certificate: the second finds the first's file and keeps it.
        certificate = ShareCertificate.objects.select_for_update().get(pk=certificate_id)
        if certificate.pdf and certificate.pdf.storage.exists(certificate.pdf.name):
            return certificate.pdf.name
        certificate.pdf.save(f"{certificate.number}.pdf", ContentFile(pdf), save=False)
        certificate.save(update_fields=["pdf"])
    return certificate.pdf.name


# A certificate whose PDF is still missing this long after it was issued lost its job.
CERTIFICATE_SWEEP_BATCH = 200


@shared_task
def render_missing_certificates() -> int:
    """Beat's sweep: queue again the current certificates issued by a matter whose PDF never came.

    Certificates seeded in bulk (no matter) are rendered when first opened, as their seeding intends.
    """
    issued_before = timezone.now() - datetime.timedelta(seconds=settings.JOB_REQUEUE_SECONDS)
    missing = ShareCertificate.objects.filter(
        superseded_at__isnull=True, matter__isnull=False, pdf="", issued_at__lt=issued_before
    ).order_by("pk")
    return sum(enqueue(render_certificate, pk) for pk in missing.values_list("pk", flat=True)[:CERTIFICATE_SWEEP_BATCH])


# --- early warnings (监督预警) -------------------------------------------------------------
# Each rule is idempotent (one warning per rule and subject), so a retry or a beat firing twice raises nothing twice.


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def scan_early_warnings() -> int:
    """Beat's sweep: run every early-warning rule on today's data; returns how many warnings were raised."""
    return len(warnings_scan())


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def check_fund_movement(movement_id: int) -> int:
    """Queued when a movement is saved: a payment without approval is flagged at once, not at the next sweep."""
    return len(movement_check(movement_id))


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def check_contract(contract_id: int) -> int:
    """Queued when a contract is saved: off-platform trading and a near end are flagged at once."""
    return len(contract_check(contract_id))
