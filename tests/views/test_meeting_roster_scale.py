"""A village-scale roster (hundreds of members): the capture page, the template and the import all hold."""

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from flows import services
from flows.models import Meeting
from organizations.models import MeetingBody
from tests.drive import post_meeting_notice
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ASSEMBLY = MeetingBody.MEMBER_ASSEMBLY
HOUSEHOLDS = 150  # three people each, 450 members with the 12 of the world


def test_a_roster_of_hundreds_renders_imports_and_records(client, world, matter_at):
    for index in range(HOUSEHOLDS * 3):
        MemberFactory(organization=world.collective_a1, household=f"Z-{index // 3:03d}", name=f"村民{index:03d}")
    matter = matter_at("resolve_by_members", total="150000.00", quotations=3)
    post_meeting_notice(world.supervisor_a1, matter, ASSEMBLY)
    roster = services.meeting_roster(organization=world.collective_a1, body=ASSEMBLY, on_date=timezone.localdate())
    assert len(roster) >= 450
    client.force_login(world.supervisor_a1)

    started = time.perf_counter()
    page = client.get(reverse("flows:meeting_create"), {"body": ASSEMBLY})
    rendered = time.perf_counter() - started
    assert page.status_code == 200
    assert page.content.decode().count('class="roster-member"') == len(roster)

    template = client.get(reverse("flows:sign_in_sheet_template"), {"body": ASSEMBLY})
    workbook = load_workbook(io.BytesIO(b"".join(template.streaming_content)))
    sheet = workbook.active
    for row in range(2, sheet.max_row + 1):
        sheet[f"C{row}"] = "本人"
    output = io.BytesIO()
    workbook.save(output)
    upload = SimpleUploadedFile("签到表.xlsx", output.getvalue())
    started = time.perf_counter()
    imported = client.post(
        reverse("flows:meeting_create"),
        {"organization": str(world.collective_a1.pk), "body": ASSEMBLY, "action": "import", "sign_in_sheet": upload},
    )
    import_time = time.perf_counter() - started
    assert imported.status_code == 200
    assert f"{len(roster)} in person" in imported.content.decode()

    data = {
        "organization": str(world.collective_a1.pk),
        "body": ASSEMBLY,
        "held_on": timezone.localdate().isoformat(),
        "place": "村委会大礼堂",
        "chair": "赵监委",
        "minutes": "成员大会",
        "attendees": [str(member.pk) for member in roster],
        f"m{matter.pk}-on_agenda": "on",
        f"m{matter.pk}-votes_for": str(len(roster)),
        f"m{matter.pk}-votes_against": "0",
        f"m{matter.pk}-votes_abstain": "0",
    }
    started = time.perf_counter()
    recorded = client.post(reverse("flows:meeting_create"), data)
    record_time = time.perf_counter() - started
    assert recorded.status_code == 302
    assert Meeting.objects.get(body=ASSEMBLY).attendance.count() == len(roster)
    print(
        f"\nroster {len(roster)}: page {rendered:.2f}s ({len(page.content) // 1024} KiB), "
        f"import {import_time:.2f}s, record {record_time:.2f}s"
    )
