"""The security log: what it records, that it only grows, its ledger chain, and the audit administrator's use of it."""

import datetime

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from administration import services
from administration.log import event_digest, security_log
from administration.models import AppendOnly, EventKind, Outcome, SecurityEvent
from administration.selectors import security_log_check
from documents.ledger_verify import ledger_verify
from documents.models import LedgerEntry, LedgerKind
from organizations.models import Role
from tests.drive import apply_purchase

pytestmark = pytest.mark.django_db
GOOD = "Dongfang-2026"


def kinds() -> list[str]:
    return list(SecurityEvent.objects.order_by("pk").values_list("kind", flat=True))


def test_login_failure_and_logout_are_logged_with_actor_address_and_outcome(client, world):
    world.leader_a.set_password(GOOD)
    world.leader_a.save()
    client.post("/accounts/login/", {"username": "leader_a", "password": "nope"}, REMOTE_ADDR="203.0.113.7")
    client.post("/accounts/login/", {"username": "leader_a", "password": GOOD}, REMOTE_ADDR="203.0.113.7")
    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.7")
    failed, login, logout = SecurityEvent.objects.order_by("pk")
    assert (failed.kind, failed.outcome, failed.actor_name, failed.address) == (
        EventKind.LOGIN_FAILED,
        Outcome.FAILURE,
        "leader_a",
        "203.0.113.7",
    )
    assert (login.kind, login.actor, login.organization) == (EventKind.LOGIN, world.leader_a, world.township_a)
    assert logout.kind == EventKind.LOGOUT and logout.at >= login.at


def test_a_refusal_at_the_jurisdiction_door_is_logged(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_b1)
    before = SecurityEvent.objects.count()
    assert client.get(matter.get_absolute_url()).status_code == 404
    refusal = SecurityEvent.objects.order_by("-pk").first()
    assert SecurityEvent.objects.count() == before + 1
    assert (refusal.kind, refusal.outcome, refusal.actor) == (EventKind.REFUSED, Outcome.REFUSED, world.secretary_b1)
    assert f"Matter {matter.pk}" in refusal.description


def test_a_403_is_logged_once(client, world):
    client.force_login(world.inspector)
    before = SecurityEvent.objects.filter(kind=EventKind.REFUSED).count()
    assert client.get(reverse("flows:matter_new")).status_code == 403
    assert SecurityEvent.objects.filter(kind=EventKind.REFUSED).count() == before + 1


def test_post_changes_rule_changes_exports_and_downloads_are_logged(client, world):
    client.force_login(world.system_admin)
    client.post(
        reverse("administration:account_detail", args=[world.secretary_a2.pk]),
        {"organization": world.village_a2.pk, "role": Role.VILLAGE_CASHIER},
    )
    assert EventKind.POST_GRANTED in kinds()
    client.force_login(world.leader_a)
    client.get(reverse("registers:member_export"))
    assert EventKind.EXPORT in kinds()
    root = type(world.leader_a).objects.create_superuser("root", password="Maint-2026-x")
    client.force_login(root)
    version = world.rule_version
    client.post(reverse("admin:organizations_ruleversion_delete", args=[version.pk]), {"post": "yes"})
    assert EventKind.RULE_CHANGED in kinds()


def test_the_log_only_grows(world):
    event = security_log(kind=EventKind.LOGIN, actor=world.leader_a, description="x")
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        SecurityEvent.objects.all().update(description="changed")
    with pytest.raises(AppendOnly):
        SecurityEvent.objects.all().delete()


@pytest.mark.postgres
def test_postgresql_refuses_updates_and_young_deletes_in_the_database(world):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    event = security_log(kind=EventKind.LOGIN, actor=world.leader_a, description="x")
    for statement in (
        "UPDATE administration_securityevent SET description = 'changed' WHERE id = %s",
        "DELETE FROM administration_securityevent WHERE id = %s",
    ):
        with (
            pytest.raises((InternalError, IntegrityError, ProgrammingError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
    old = SecurityEvent.objects.create(
        at=timezone.now() - datetime.timedelta(days=200), kind=EventKind.LOGIN, outcome="success", description="old"
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM administration_securityevent WHERE id = %s", [old.pk])
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()


def test_each_entry_is_chained_into_the_ledger_and_a_changed_entry_is_found(world):
    event = security_log(kind=EventKind.LOGIN, actor=world.leader_a, description="签到")
    entry = LedgerEntry.objects.get(kind=LedgerKind.SECURITY, object_id=str(event.pk))
    assert entry.payload == {"event": event.pk, "sha256": event_digest(event)}
    assert ledger_verify().ok
    assert security_log_check() == (SecurityEvent.objects.count(), [])
    # Someone with database access rewrites the entry behind the application's back (SQLite has no trigger).
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE administration_securityevent SET description = '无事' WHERE id = %s", [event.pk])
        assert security_log_check()[1] == [event.pk]


def test_the_audit_admin_searches_exports_and_verifies(client, world):
    security_log(kind=EventKind.LOGIN_FAILED, outcome=Outcome.FAILURE, actor_name="mallory", description="Wrong")
    client.force_login(world.audit_admin)
    response = client.get(reverse("administration:security_log"), {"q": "mallory"})
    assert [event.actor_name for event in response.context["page"]] == ["mallory"]
    assert client.get(reverse("administration:security_log"), {"date_from": "not a date"}).status_code == 400
    export = client.get(reverse("administration:security_log_export"), {"kind": "login_failed"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")
    assert SecurityEvent.objects.filter(kind=EventKind.LOG_EXPORTED, actor=world.audit_admin).exists()
    verify = client.get(reverse("administration:security_log_verify"))
    assert verify.context["bad_count"] == 0


def test_only_entries_past_180_days_are_purged_and_the_purge_is_logged(client, world):
    old = SecurityEvent.objects.create(
        at=timezone.now() - datetime.timedelta(days=200), kind=EventKind.LOGIN, outcome="success", description="old"
    )
    young = security_log(kind=EventKind.LOGIN, actor=world.leader_a, description="new")
    client.force_login(world.audit_admin)
    too_recent = timezone.localdate() - datetime.timedelta(days=10)
    client.post(reverse("administration:security_log_purge"), {"before": too_recent.isoformat()})
    assert SecurityEvent.objects.filter(pk=old.pk).exists()
    cutoff = timezone.localdate() - datetime.timedelta(days=180)
    client.post(reverse("administration:security_log_purge"), {"before": cutoff.isoformat()})
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()
    assert SecurityEvent.objects.filter(pk=young.pk).exists()
    assert SecurityEvent.objects.filter(kind=EventKind.LOG_PURGED, actor=world.audit_admin).exists()
    with pytest.raises(Exception):  # noqa: B017 - the purge is the audit administrator's alone
        services.security_log_purge(actor=world.security_admin, before=cutoff)
