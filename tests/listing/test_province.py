"""The province generator writes the rows the services write: a copied matter against its template."""

import pytest
from django.apps import apps
from django.db import models

from benchdata.cloning import _historical_of
from benchdata.province import generate
from documents.models import LedgerEntry
from flows.models import Matter
from organizations.models import OrganizationKind

pytestmark = pytest.mark.django_db


def _columns_filled(row) -> set[str]:
    return {
        field.attname for field in row._meta.concrete_fields if getattr(row, field.attname) not in (None, "", [], {})
    }


def _matter_rows(matter: Matter) -> dict[str, list]:
    """Every row of every table that points at the matter (directly, through its process or its records)."""
    found: dict[str, list] = {}
    process_id = matter.process_id
    direct_ids = {"flows.Matter": {matter.pk}, "viewflow.Process": {process_id}}
    # Three rounds: rows pointing at the matter or its process, then rows pointing at those.
    for _round in range(3):
        for model in apps.get_models(include_auto_created=True):
            if model._meta.db_table in ("documents_treenode",):
                continue
            conditions = models.Q(pk__in=[])
            for field in model._meta.concrete_fields:
                if field.is_relation and field.related_model._meta.label in direct_ids:
                    conditions |= models.Q(**{f"{field.attname}__in": direct_ids[field.related_model._meta.label]})
            original = _historical_of(model)
            if original is not None and original._meta.label in direct_ids:
                conditions |= models.Q(**{f"{original._meta.pk.attname}__in": direct_ids[original._meta.label]})
            rows = list(model.objects.filter(conditions))
            if model is LedgerEntry:
                rows = list(LedgerEntry.objects.filter(matter=matter))
            if rows:
                found[model._meta.label] = rows
                direct_ids.setdefault(model._meta.label, set()).update(row.pk for row in rows)
    return found


def test_a_copied_matter_has_the_rows_and_columns_of_the_one_the_services_made():
    province = generate("small", log=lambda *a: None)
    assert len(province.villages) == 12
    template = province.template_matters[-1]  # the richest: meetings, notices, objections, ledger
    copies = Matter.objects.filter(title=template.title).exclude(pk=template.pk)
    assert copies.count() == len(province.collectives) - 1
    copy = copies.select_related("organization").first()
    assert copy.organization.kind == OrganizationKind.COLLECTIVE
    assert copy.organization_id != template.organization_id
    assert copy.process_id != template.process_id

    mine, theirs = _matter_rows(template), _matter_rows(copy)
    assert set(mine) == set(theirs), "the same tables"
    for label in mine:
        assert len(mine[label]) == len(theirs[label]), label
        filled_mine = sorted(tuple(sorted(_columns_filled(row))) for row in mine[label])
        filled_theirs = sorted(tuple(sorted(_columns_filled(row))) for row in theirs[label])
        assert filled_mine == filled_theirs, f"the same columns filled in {label}"
    # Relations point into the copy's own place and people, never at the template's.
    for rows in theirs.values():
        for row in rows:
            for field in row._meta.concrete_fields:
                if field.is_relation and field.related_model._meta.label == "organizations.Organization":
                    value = getattr(row, field.attname)
                    assert value is None or value != template.organization_id
    assert copy.applicant_id != template.applicant_id
    assert copy.applicant.posts.filter(organization=copy.organization.parent).exists()
