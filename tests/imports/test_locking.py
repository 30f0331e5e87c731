"""Data locking (Jilin measures): once a register's baseline is confirmed, an import no longer changes it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from documents.ledger_verify import ledger_verify
from documents.models import LedgerEntry, LedgerKind
from imports import services
from imports.models import ImportStatus, Register
from registers.selectors import member_by_id_number
from tests.factories import valid_id_number

from .conftest import headers


def members(world, id_number, household="H-01"):
    return {"成员": [headers("members")[:5], [world.collective_a2.code, "张三", id_number, household, "出生"]]}


def test_a_confirmed_baseline_refuses_a_reimport_that_would_change_the_register(world, run_import):
    id_number = valid_id_number()
    run_import("members", members(world, id_number), confirm=True)
    services.baseline_confirm(user=world.county_admin, organization=world.collective_a2, register=Register.MEMBERS)
    same = run_import("members", members(world, id_number))
    assert same.status == ImportStatus.CHECKED
    changed = run_import("members", members(world, id_number, household="H-09"), confirm=True)
    assert changed.status == ImportStatus.REJECTED
    [error] = changed.errors
    assert error["row"] == 2
    assert "correction request" in error["message"] or "更正" in error["message"]
    assert member_by_id_number(organization=world.collective_a2, id_number=id_number).household == "H-01"
    added = run_import("members", members(world, valid_id_number()))
    assert added.status == ImportStatus.REJECTED


def test_a_baseline_locks_only_its_own_register_and_collective(world, run_import):
    services.baseline_confirm(user=world.county_admin, organization=world.collective_a1, register=Register.MEMBERS)
    job = run_import("members", members(world, valid_id_number()), confirm=True)
    assert job.status == ImportStatus.APPLIED


def test_a_baseline_is_confirmed_once_by_a_county_administrator_only(world):
    services.baseline_confirm(user=world.county_admin, organization=world.collective_a2, register=Register.ASSETS)
    with pytest.raises(ValidationError):
        services.baseline_confirm(user=world.county_admin, organization=world.collective_a2, register=Register.ASSETS)
    with pytest.raises(PermissionDenied):
        services.baseline_confirm(user=world.leader_a, organization=world.collective_a2, register=Register.MEMBERS)
    with pytest.raises(ValidationError):
        services.baseline_confirm(user=world.county_admin, organization=world.village_a2, register=Register.MEMBERS)


def test_the_import_file_and_the_baseline_enter_the_tamper_evident_log(world, run_import):
    job = run_import("members", members(world, valid_id_number()), confirm=True)
    services.baseline_confirm(user=world.county_admin, organization=world.collective_a2, register=Register.MEMBERS)
    leaves = LedgerEntry.objects.filter(object_type="ImportJob", object_id=str(job.pk))
    assert leaves.count() == 2
    latest = leaves.order_by("pk").last()
    assert latest.kind == LedgerKind.FILE
    assert latest.payload["files"]["file"]["sha256"] == job.sha256
    assert latest.payload["fields"]["applied_by_id"] == world.county_admin.pk
    assert LedgerEntry.objects.filter(object_type="RegisterBaseline").exists()
    assert LedgerEntry.objects.filter(object_type="Member", payload__actor_id=world.county_admin.pk).exists()
    result = ledger_verify()
    assert result.ok, result.reason


def test_a_rejected_import_leaves_the_log_intact(world, run_import):
    job = run_import("members", members(world, "110101199003074310"), confirm=True)
    assert job.status == ImportStatus.REJECTED
    result = ledger_verify()
    assert result.ok, result.reason
