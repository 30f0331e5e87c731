"""Member confirmation (成员身份确认) on the spine: its one band, refusals, and the roster updated."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from flows import services
from flows.catalogue import flow_for
from flows.member_confirmation import MemberConfirmationFlow
from flows.models import Decision, Matter, MatterStatus, MemberCandidate, Step
from flows.selectors import matter_history
from forms.member_confirmation import MemberConfirmationApplicationForm
from organizations.models import MeetingBody
from protection.masking import mask_id_number
from registers.identity import check_character
from registers.members import on_roster_message, repeated_message
from registers.models import Member, MembershipBasis, MemberStatus
from registers.selectors import id_number_index
from tests.concurrency.test_two_approvers import run_at_once
from tests.conftest import build_world
from tests.drive import act, refresh, run_to_end
from tests.factories import MemberFactory, valid_id_number
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db


def candidate(name="张小明", id_number=None, household="A1-00", basis=MembershipBasis.BIRTH, note="") -> dict:
    return {
        "name": name,
        "id_number": id_number or valid_id_number(datetime.date(2000, 6, 1)),
        "household": household,
        "basis": basis,
        "note": note,
    }


def apply_confirmation(world, *candidates, organization=None, user=None, title="确认新增成员") -> Matter:
    return services.matter_apply(
        user=user or world.secretary_a1,
        organization=organization or world.collective_a1,
        transaction_type="member_confirmation",
        data={"title": title, "candidates": list(candidates) or [candidate()]},
    )


def confirmed(matter) -> list[Member]:
    return list(Member.objects.filter(source_matter=matter).order_by("pk"))


def nothing_applied() -> bool:
    return not Matter.objects.exists() and not MemberCandidate.objects.exists()


def test_catalogue_finds_the_flow():
    assert flow_for("member_confirmation") is MemberConfirmationFlow


# --- the one band, through the spine to the archive --------------------------------------------------


def test_confirmation_takes_the_member_assembly_and_puts_the_persons_on_the_roster(world):
    born = candidate()
    married = candidate("刘芳", household="A1-03", basis=MembershipBasis.MARRIAGE, note="嫁入本村")
    matter = apply_confirmation(world, born, married)
    assert matter.amount == 0
    assert matter.member_body == MeetingBody.MEMBER_ASSEMBLY
    assert Step.REVIEW_BY_PARTY_MEMBERS in matter.required_steps
    assert Step.APPROVE_BY_TOWNSHIP in matter.required_steps
    assert not Member.objects.filter(id_number_index=id_number_index(born["id_number"])).exists(), (
        "nobody joins before approval"
    )

    matter = run_to_end(world, matter)

    assert matter.status == MatterStatus.ARCHIVED
    assert set(matter.required_steps) <= set(matter.step_records.values_list("step", flat=True))
    members = confirmed(matter)
    assert [(m.name, m.id_number, m.household, m.basis) for m in members] == [
        ("张小明", born["id_number"], "A1-00", MembershipBasis.BIRTH),
        ("刘芳", married["id_number"], "A1-03", MembershipBasis.MARRIAGE),
    ]
    for member in members:
        assert member.organization == world.collective_a1
        assert member.status == MemberStatus.ACTIVE
        assert member.joined_on == timezone.localdate()
        assert member.history.count() == 1
    # The next member assembly counts them.
    roster = services.meeting_roster(
        organization=world.collective_a1, body=MeetingBody.MEMBER_ASSEMBLY, on_date=timezone.localdate()
    )
    assert set(members) <= set(roster)


def test_revision_is_not_refused_for_its_own_candidates(world):
    first = candidate()
    matter = to_step(world, apply_confirmation(world, first), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="缺户口簿复印件", return_to=Step.APPLY)
    second = candidate("张小红", household="A1-00")
    act(
        world.secretary_a1,
        matter,
        decision=Decision.SUBMIT,
        opinion="已补充",
        data={"title": "确认新增成员（补充）", "candidates": [first, second]},
    )
    matter = refresh(matter)
    assert matter.title == "确认新增成员（补充）"
    assert list(matter.member_candidates.values_list("name", flat=True)) == ["张小明", "张小红"]
    matter = run_to_end(world, matter)
    assert [m.name for m in confirmed(matter)] == ["张小明", "张小红"]


# --- refusals when applying --------------------------------------------------------------------------


def test_a_wrong_check_digit_is_refused(world):
    good = valid_id_number()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError) as error:
        apply_confirmation(world, candidate("李四", wrong))
    assert error.value.messages == [
        _("%(name)s: %(error)s") % {"name": "李四", "error": _("The ID number's check digit is wrong.")}
    ]
    assert nothing_applied()


@pytest.mark.parametrize("status", [MemberStatus.ACTIVE, MemberStatus.LEFT])
def test_an_id_number_already_on_the_roster_is_refused(world, status):
    existing = world.members_a1[0]
    Member.objects.filter(pk=existing.pk).update(status=status)
    existing.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        apply_confirmation(world, candidate(), candidate("王五", existing.id_number))
    assert error.value.messages == [on_roster_message(existing)]
    assert nothing_applied()


def test_the_same_id_number_twice_in_one_application_is_refused(world):
    twin = candidate()
    with pytest.raises(ValidationError) as error:
        apply_confirmation(world, twin, candidate("重复", twin["id_number"]))
    assert error.value.messages == [repeated_message(twin["id_number"])]
    assert nothing_applied()


def test_an_id_number_in_another_running_confirmation_is_refused_until_it_ends(world):
    person = candidate()
    first = apply_confirmation(world, person, title="第一批成员确认")
    with pytest.raises(ValidationError) as error:
        apply_confirmation(world, candidate("另一人"), person, title="第二批成员确认")
    assert error.value.messages == [
        _("%(id_number)s is already in the running confirmation “%(title)s”.")
        % {"id_number": mask_id_number(person["id_number"]), "title": "第一批成员确认"}
    ]
    assert Matter.objects.count() == 1 and MemberCandidate.objects.count() == 1
    services.matter_withdraw(user=world.secretary_a1, matter_id=first.pk, reason="合并到第二批")
    second = apply_confirmation(world, person, title="第二批成员确认")
    assert second.member_candidates.get().id_number == person["id_number"]


def test_a_running_confirmation_of_another_collective_does_not_block(world):
    person = candidate()
    apply_confirmation(world, person, organization=world.collective_a2, user=world.secretary_a2)
    matter = apply_confirmation(world, person)
    assert matter.member_candidates.get().id_number == person["id_number"]


def test_save_refuses_candidates_that_slipped_past_the_check(world):
    """Two applications at once both pass clean_application; the collective's row lock lets one through."""
    person = candidate()
    apply_confirmation(world, person)
    second = Matter.objects.create(
        organization=world.collective_a1,
        transaction_type="member_confirmation",
        title="并发的第二份申请",
        amount=0,
        applicant=world.secretary_a1,
        rule_version=world.rule_version,
        band=world.rule_version.bands.get(transaction_type="member_confirmation"),
    )
    with pytest.raises(ValidationError):
        MemberConfirmationFlow.instance.save_application(matter=second, data={"candidates": [person]})
    assert not second.member_candidates.exists()


def test_nobody_to_confirm_is_refused(world):
    with pytest.raises(ValidationError) as error:
        services.matter_apply(
            user=world.secretary_a1,
            organization=world.collective_a1,
            transaction_type="member_confirmation",
            data={"title": "确认新增成员", "candidates": []},
        )
    assert error.value.messages == [_("Name at least one person to confirm.")]
    assert nothing_applied()


# --- refusal when implementing: nothing changes ------------------------------------------------------


def test_an_id_number_that_reached_the_roster_meanwhile_stops_the_implementation(world):
    person, other = candidate(), candidate("张小红")
    matter = to_step(world, apply_confirmation(world, person, other), Step.IMPLEMENT)
    meanwhile = MemberFactory(organization=world.collective_a1, name="张小明", id_number=person["id_number"])
    with pytest.raises(ValidationError) as error:
        act(world.secretary_a1, matter, decision=Decision.DONE, opinion="已公布名单")
    assert error.value.messages == [on_roster_message(meanwhile)]
    matter = refresh(matter)
    assert matter.next_step == Step.IMPLEMENT
    assert not matter.step_records.filter(step=Step.IMPLEMENT).exists()
    assert confirmed(matter) == []
    assert not Member.objects.filter(id_number_index=id_number_index(other["id_number"])).exists()


# --- form, page and history --------------------------------------------------------------------------


def form_post(*people, title="确认新增成员") -> dict:
    data = {
        "title": title,
        "candidates-TOTAL_FORMS": str(len(people)),
        "candidates-INITIAL_FORMS": "0",
        "candidates-MIN_NUM_FORMS": "1",
        "candidates-MAX_NUM_FORMS": "1000",
    }
    for index, person in enumerate(people):
        data.update({f"candidates-{index}-{field}": value for field, value in person.items()})
    return data


def id_number_ending_in_x() -> str:
    for serial in range(1000):
        first = f"14012320000601{serial:03d}"
        if check_character(first) == "X":
            return first + "X"
    raise AssertionError("no serial gives X")


def test_form_takes_a_lower_case_x_and_refuses_a_wrong_check_digit(world):
    number = id_number_ending_in_x()
    form = MemberConfirmationApplicationForm(data=form_post(candidate(id_number=number.lower())))
    assert form.is_valid(), form.formsets["candidates"].errors
    assert form.to_data()["candidates"][0]["id_number"] == number

    wrong = number[:17] + "0"
    form = MemberConfirmationApplicationForm(data=form_post(candidate(id_number=wrong)))
    assert not form.is_valid()
    assert form.formsets["candidates"].errors[0] == {"id_number": [_("The ID number's check digit is wrong.")]}


def test_form_needs_at_least_one_person(world):
    form = MemberConfirmationApplicationForm(data=form_post())
    assert not form.is_valid()


def test_form_to_matter_through_the_view(client, world):
    client.force_login(world.cashier_a1)
    url = reverse("flows:matter_create", args=["member_confirmation"])
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    existing = world.members_a1[1]
    posted = {
        "organization": str(world.collective_a1.pk),
        **form_post(candidate(), candidate("王五", existing.id_number)),
    }
    refused = client.post(url, posted, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert existing.id_number in refused.content.decode()
    assert nothing_applied()
    person = candidate()
    response = client.post(
        url, {"organization": str(world.collective_a1.pk), **form_post(person)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    matter = Matter.objects.get()
    assert response.status_code == 302 and response.url == matter.get_absolute_url()
    assert matter.member_candidates.get().id_number == person["id_number"]


def test_detail_lists_the_candidates_and_then_the_members_with_the_roster_link(world):
    person = candidate(basis=MembershipBasis.ADOPTION, note="收养")
    matter = to_step(world, apply_confirmation(world, person), Step.IMPLEMENT)
    before = render_to_string(MemberConfirmationFlow.detail_template, {"matter": matter})
    assert mask_id_number(person["id_number"]) in before and "收养" in before
    assert person["id_number"] not in before, "masked unless the page asks to reveal"
    revealed = render_to_string(MemberConfirmationFlow.detail_template, {"matter": matter, "reveal_ids": True})
    assert person["id_number"] in revealed
    assert str(MembershipBasis.ADOPTION.label) in before
    roster_url = reverse("registers:member_list")
    assert roster_url not in before
    act(world.secretary_a1, matter, decision=Decision.DONE, opinion="已公布名单")
    after = render_to_string(MemberConfirmationFlow.detail_template, {"matter": refresh(matter)})
    assert roster_url in after and _("Members added to the roster") in after


def test_history_shows_the_candidates_and_the_members_created(world):
    matter = to_step(world, apply_confirmation(world, candidate()), Step.IMPLEMENT)
    act(world.secretary_a1, matter, decision=Decision.DONE, opinion="已公布名单")
    labels = {entry.record_label for entry in matter_history(refresh(matter))}
    assert {MemberCandidate._meta.verbose_name, Member._meta.verbose_name} <= labels


def test_matter_page_lists_the_candidates_to_the_township(client, world):
    person = candidate()
    matter = apply_confirmation(world, person)
    client.force_login(world.leader_a)
    response = client.get(matter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert mask_id_number(person["id_number"]) in response.content.decode()
    assert person["id_number"] not in response.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_confirmations_of_one_person_at_once_only_one_runs():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")
    world = build_world()
    person = candidate()
    outcomes = run_at_once(
        lambda: apply_confirmation(world, person, title="第一批成员确认"),
        lambda: apply_confirmation(world, candidate("另一人"), person, title="第二批成员确认"),
    )
    assert sorted(outcomes) == ["ok", "refused"]
    assert MemberCandidate.objects.filter(id_number_index=id_number_index(person["id_number"])).count() == 1
