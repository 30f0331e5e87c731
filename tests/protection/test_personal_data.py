"""Personal data sealed at rest, found by its blind index, masked on the server, shown in full only where needed."""

import base64

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from administration.models import EventKind, SecurityEvent
from flows.models import Objection, Step
from protection.crypto import SealError, seal, unseal
from protection.masking import mask_id_number, mask_phone
from registers.models import Member
from registers.selectors import member_by_id_number, members_by_id_numbers
from tests.factories import MemberFactory
from tests.flows.test_member_confirmation import apply_confirmation, candidate
from tests.responses import body_of
from tests.views.conftest import to_step

pytestmark = pytest.mark.django_db


def raw(table: str, column: str, pk: int, key: str = "id") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {key} = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("algorithm", ["aes256gcm", "sm4cbc-hmacsm3"])
def test_both_algorithms_seal_and_open_and_detect_tampering(settings, algorithm):
    settings.FIELD_ENCRYPTION_ALGORITHM = algorithm
    token = seal("140123198005170012", context="registers.Member.id_number")
    assert token.startswith(f"v1:{algorithm}:") and "140123198005170012" not in token
    assert unseal(token, context="registers.Member.id_number") == "140123198005170012"
    assert seal("same", context="c") != seal("same", context="c"), "a fresh nonce each time"
    with pytest.raises(SealError):
        unseal(token, context="flows.Objection.phone")  # moved to another column
    head, body = token.rsplit(":", 1)
    flipped = bytearray(base64.b64decode(body))
    flipped[-1] ^= 1
    with pytest.raises(SealError):
        unseal(f"{head}:{base64.b64encode(bytes(flipped)).decode()}", context="registers.Member.id_number")


def test_a_value_sealed_under_an_old_key_or_algorithm_still_opens(settings):
    token = seal("13800001111", context="c")
    old_key = settings.FIELD_ENCRYPTION_KEY
    settings.FIELD_ENCRYPTION_KEY = base64.b64encode(b"k" * 32).decode()
    settings.FIELD_ENCRYPTION_OLD_KEYS = [old_key]
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4cbc-hmacsm3"
    assert unseal(token, context="c") == "13800001111"
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    with pytest.raises(SealError):
        unseal(token, context="c")


def test_id_numbers_and_phones_are_ciphertext_in_the_database_and_plain_in_python(world):
    member = MemberFactory(organization=world.collective_a1)
    stored = raw("registers_member", "id_number", member.pk)
    assert stored.startswith("v1:") and member.id_number not in stored
    assert Member.objects.get(pk=member.pk).id_number == member.id_number
    # A history row's own key is history_id; its id is the member's (they differ once other histories exist).
    history = raw("registers_historicalmember", "id_number", member.history.get().history_id, key="history_id")
    assert member.id_number not in history and member.history.get().id_number == member.id_number


def test_lookups_go_through_the_blind_index(world):
    member = MemberFactory(organization=world.collective_a1, id_number="14012319800517001X")
    assert member_by_id_number(organization=world.collective_a1, id_number="14012319800517001x") == member
    assert member_by_id_number(organization=world.collective_a2, id_number=member.id_number) is None
    assert list(members_by_id_numbers(organization=world.collective_a1, id_numbers=[member.id_number])) == [member]
    with pytest.raises(FieldError):
        Member.objects.filter(id_number=member.id_number).exists()


def test_the_roster_keeps_one_row_per_id_number(world):
    from django.db import IntegrityError, transaction

    member = MemberFactory(organization=world.collective_a1)
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(organization=world.collective_a1, id_number=member.id_number)


def test_masks():
    assert mask_id_number("140123198005170012") == "**************0012"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "***45"


def confirmation_at_township(world):
    person = candidate()
    return person, to_step(world, apply_confirmation(world, person), Step.CHECK_BY_TOWNSHIP)


@pytest.mark.parametrize("persona", ["officer_a", "leader_a"])
def test_the_township_check_shows_full_id_numbers_on_request_and_logs_it(client, world, persona):
    person, matter = confirmation_at_township(world)
    client.force_login(getattr(world, persona))
    page = client.get(matter.get_absolute_url()).content.decode()
    assert person["id_number"] not in page and mask_id_number(person["id_number"]) in page
    assert "?reveal=1" in page
    revealed = client.get(matter.get_absolute_url() + "?reveal=1").content.decode()
    assert person["id_number"] in revealed
    event = SecurityEvent.objects.get(kind=EventKind.REVEAL)
    assert event.actor == getattr(world, persona) and str(matter.pk) in event.description


@pytest.mark.parametrize("persona", ["secretary_a1", "supervisor_a1", "inspector", "county_admin"])
def test_other_posts_never_see_full_id_numbers(client, world, persona):
    person, matter = confirmation_at_township(world)
    client.force_login(getattr(world, persona))
    page = client.get(matter.get_absolute_url() + "?reveal=1").content.decode()
    assert person["id_number"] not in page
    assert not SecurityEvent.objects.filter(kind=EventKind.REVEAL).exists()


def test_the_supervisor_sees_objection_phones_masked_and_in_full_on_request(client, world, matter_at):
    from flows import services

    matter = matter_at(Step.PUBLISH_RESOLUTION)
    notice = matter.notices.get()
    services.objection_submit(notice=notice, name="村民甲", phone="13812345678", text="有异议", client_key="k")
    assert "13812345678" not in raw("flows_objection", "phone", Objection.objects.get().pk)
    client.force_login(world.supervisor_a1)
    page = client.get(matter.get_absolute_url()).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert "13812345678" in client.get(matter.get_absolute_url() + "?reveal=1").content.decode()
    client.force_login(world.leader_a)
    page = client.get(matter.get_absolute_url() + "?reveal=1").content.decode()
    assert "13812345678" not in page and "138****5678" not in page


def test_the_member_export_is_masked(client, world):
    client.force_login(world.leader_a)
    response = client.get(reverse("registers:member_export"))
    import io

    sheet = load_workbook(io.BytesIO(body_of(response))).active
    ids = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids and all(value.startswith("*") for value in ids)
