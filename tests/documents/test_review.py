"""Inspector review services and selectors: archive search, the access log, flags."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import timezone, translation

from documents import review
from documents.models import AccessAction, AccessLog, InspectorFlag
from documents.review import AccessLogQuery, AlreadyDecided, ArchiveQuery
from flows.models import Decision, Matter, Step
from organizations.models import Role
from registers.models import ShareKind
from registers.shares import certificates_reissue, shares_allocate
from tests.drive import act, apply_purchase, end_publication, hold_meeting, refresh, run_to_end
from tests.factories import PostFactory, UserFactory
from tests.flows.test_disposal import apply_disposal, asset_card
from tests.flows.test_equity_transfer import apply_transfer
from tests.flows.test_fund_disbursement import apply_disbursement
from tests.flows.test_leasing import apply as apply_lease
from tests.flows.test_leasing import leasing_data, make_asset
from tests.flows.test_member_confirmation import apply_confirmation, candidate
from tests.flows.test_resource_contracting import apply as apply_contracting
from tests.flows.test_resource_contracting import contracting_data, make_resource
from tests.registers.test_funds import fund_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in their English source, whatever the catalogue says."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def archived(world, **kwargs) -> Matter:
    """An asset purchase of A1 carried to the archive."""
    return run_to_end(world, apply_purchase(world, **kwargs))


def drive_to_archive(matter: Matter, *, secretary, supervisor, officer, leader) -> Matter:
    """Carry a matter of any village to the archive, each step by the given persona of that place."""
    for _ in range(20):
        matter = refresh(matter)
        step = matter.next_step
        if step == Step.PROPOSE:
            act(secretary, matter)
        elif step in (Step.DELIBERATE, Step.REVIEW_BY_PARTY_MEMBERS, Step.RESOLVE_BY_MEMBERS):
            hold_meeting(None, matter, user=supervisor)
        elif step in (Step.PUBLISH_RESOLUTION, Step.PUBLISH_RESULT):
            end_publication(matter)
        elif step == Step.CHECK_BY_TOWNSHIP:
            act(officer, matter)
        elif step == Step.APPROVE_BY_TOWNSHIP:
            act(leader, matter)
        elif step == Step.IMPLEMENT:
            act(secretary, matter, decision=Decision.DONE, opinion="已签订合同并付款")
        else:
            return matter
    raise AssertionError(f"matter stuck at {matter.next_step}")


def archived_in(world, village: str, **kwargs) -> Matter:
    """An asset purchase of A2 or B1 carried to the archive by that village's and township's personas."""
    if village == "a2":
        cast = {"secretary": world.secretary_a2, "supervisor": world.supervisor_a2}
        township = {"officer": world.officer_a, "leader": world.leader_a}
    else:
        supervisor_b1 = UserFactory(username="sup_b1", first_name="韩监委")
        PostFactory(user=supervisor_b1, organization=world.village_b1, role=Role.VILLAGE_SUPERVISOR)
        cast = {"secretary": world.secretary_b1, "supervisor": supervisor_b1}
        township = {"officer": world.officer_b, "leader": world.leader_b}
    organization = getattr(world, f"collective_{village}")
    matter = apply_purchase(world, user=cast["secretary"], organization=organization, **kwargs)
    return drive_to_archive(matter, **cast, **township)


def found(user, **query) -> list[Matter]:
    return list(review.archive_search(user, ArchiveQuery(**query)))


# --- archive search -------------------------------------------------------------------


def test_search_shows_archived_matters_unless_running_ones_are_asked_for(world):
    done = archived(world, title="已归档购置")
    running = apply_purchase(world, title="在办购置")
    assert found(world.inspector) == [done]
    assert found(world.inspector, include_unarchived=True) == [running, done]


def test_search_stays_inside_the_jurisdiction(world):
    in_a1 = archived(world)
    in_b1 = archived_in(world, "b1")
    assert found(world.inspector) == [in_b1, in_a1]
    assert found(world.inspector_b) == [in_b1]
    assert found(world.leader_a) == [in_a1]
    assert found(world.secretary_a2) == []


def test_search_by_place_takes_the_village_or_its_collective(world):
    in_a1 = archived(world)
    archived_in(world, "a2")
    assert found(world.inspector, place=world.village_a1) == [in_a1]
    assert found(world.inspector, place=world.collective_a1) == [in_a1]


def test_search_places_are_the_villages_and_collectives_under_the_users_posts(world):
    assert set(review.search_places(world.inspector_b)) == {world.village_b1, world.collective_b1}
    assert set(review.search_places(world.leader_a)) == {
        world.village_a1,
        world.village_a2,
        world.collective_a1,
        world.collective_a2,
    }


def test_search_by_transaction_type(world):
    purchase = archived(world)
    disbursement = run_to_end(world, apply_disbursement(world, fund_account(world.collective_a1, "200000.00")))
    assert found(world.inspector, transaction_type="asset_purchase") == [purchase]
    assert found(world.inspector, transaction_type="fund_disbursement") == [disbursement]


def test_search_by_amount_range_includes_both_ends(world):
    small = archived(world, total="3000.00")
    middle = archived(world, total="8000.00")
    assert found(world.inspector, amount_min=Decimal("3000.00"), amount_max=Decimal("7999.99")) == [small]
    assert found(world.inspector, amount_min=Decimal("8000.00")) == [middle]
    assert found(world.inspector, amount_max=Decimal("8000.00")) == [middle, small]


def test_search_by_date_applied_or_archived(world):
    old = archived(world, title="去年申请")
    new = archived(world, title="今年申请")
    Matter.objects.filter(pk=old.pk).update(
        created_at=timezone.make_aware(datetime.datetime(2025, 3, 1, 10)),
        finished_at=timezone.make_aware(datetime.datetime(2025, 6, 1, 10)),
    )
    assert found(world.inspector, date_field="applied", date_to=datetime.date(2025, 12, 31)) == [old]
    assert found(world.inspector, date_field="applied", date_from=datetime.date(2026, 1, 1)) == [new]
    assert found(
        world.inspector, date_field="archived", date_from=datetime.date(2025, 6, 1), date_to=datetime.date(2025, 6, 1)
    ) == [old]
    assert found(world.inspector, date_field="archived", date_to=datetime.date(2025, 5, 31)) == []


def test_archived_date_range_leaves_out_matters_that_were_never_archived(world):
    apply_purchase(world)
    today = timezone.localdate()
    assert found(world.inspector, include_unarchived=True, date_field="archived", date_from=today) == []
    assert len(found(world.inspector, include_unarchived=True, date_field="applied", date_from=today)) == 1


def test_search_by_party_finds_the_applicant_by_name(world):
    matter = archived(world)
    assert found(world.inspector, party="李书记") == [matter]
    assert found(world.inspector, party="书记") == [matter]
    assert found(world.inspector, party="王出纳") == []


def test_search_by_party_finds_the_applicant_surname_first(world):
    world.secretary_a1.first_name, world.secretary_a1.last_name = "建国", "王"
    world.secretary_a1.save()
    matter = archived(world)
    assert found(world.inspector, party="王建国") == [matter]


def equity_transfer(world) -> tuple[Matter, str, str]:
    """A running transfer between two A1 members: the matter, the giver's and the receiver's names."""
    holder, receiver = world.members_a1[10], world.members_a1[11]
    shares_allocate(member=holder, kind=ShareKind.POPULATION, shares=10)
    certificates_reissue(members=[holder])
    return apply_transfer(world, holder, receiver), holder.name, receiver.name


PARTIES = {
    "chosen supplier": lambda world: (apply_purchase(world, chosen_supplier="东湖农机公司"), "农机公司"),
    "quoting supplier": lambda world: (apply_purchase(world, total="20000.00", quotations=3), "供应商3"),
    "payee": lambda world: (
        apply_disbursement(world, fund_account(world.collective_a1, "200000.00"), payee="长城建筑公司"),
        "长城建筑",
    ),
    "contractor": lambda world: (
        apply_contracting(world, contracting_data(make_resource(world.collective_a1, "ZY1"), contractor="赵大海")),
        "赵大海",
    ),
    "lessee": lambda world: (
        apply_lease(world, leasing_data(make_asset(world.collective_a1, "ZC1"), lessee="顺达物流公司")),
        "顺达物流",
    ),
    "counterparty": lambda world: (
        apply_disposal(
            world, asset_card(world.collective_a1), fund_account(world.collective_a1), counterparty="丰收农机合作社"
        ),
        "丰收农机",
    ),
    "member candidate": lambda world: (apply_confirmation(world, candidate(name="欧阳小明")), "欧阳小明"),
    "transferring member": lambda world: equity_transfer(world)[:2],
    "receiving member": lambda world: equity_transfer(world)[::2],
}


@pytest.mark.parametrize("party", PARTIES)
def test_search_by_party_finds_the_counterparty_of_each_transaction_type(world, party):
    decoy = apply_purchase(world, title="无关的购置", chosen_supplier="某某商店")
    matter, name = PARTIES[party](world)
    assert matter != decoy
    assert found(world.inspector, party=name, include_unarchived=True) == [matter]


def test_a_matter_matching_several_quotations_is_found_once(world):
    matter = apply_purchase(world, total="20000.00", quotations=3)
    assert found(world.inspector, party="供应商", include_unarchived=True) == [matter]


def test_full_text_search_reads_step_opinions_and_titles(world):
    proposed = apply_purchase(world, title="购置办公电脑")
    act(world.secretary_a1, proposed, opinion="支部研究同意，注意控制预算")
    proposed = run_to_end(world, proposed)
    other = archived(world, title="购置村级农机具")
    assert found(world.inspector, text="控制预算") == [proposed]
    assert found(world.inspector, text="农机具") == [other]
    assert found(world.inspector, text="已签订合同") == [other, proposed], "the implementation opinion"


def test_full_text_search_wants_every_word(world):
    proposed = apply_purchase(world, title="购置办公电脑")
    act(world.secretary_a1, proposed, opinion="支部研究同意，注意控制预算")
    archived(world, title="购置村级农机具")
    assert found(world.inspector, text="电脑 控制预算", include_unarchived=True) == [proposed]
    assert found(world.inspector, text="农机具 控制预算", include_unarchived=True) == []


def test_full_text_search_ignores_case(world):
    matter = archived(world, title="购置LED显示屏")
    assert found(world.inspector, text="led") == [matter]


def test_filters_combine(world):
    match = archived(world, total="8000.00", chosen_supplier="东湖农机公司")
    archived(world, total="3000.00", chosen_supplier="东湖农机公司")
    archived_in(world, "a2", total="8000.00", chosen_supplier="东湖农机公司")
    assert found(
        world.inspector,
        party="东湖",
        amount_min=Decimal("5000"),
        place=world.village_a1,
        transaction_type="asset_purchase",
    ) == [match]


# --- the access log -------------------------------------------------------------------


def test_access_log_records_who_what_and_the_address(world):
    matter = archived(world)
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    entry = review.access_log_record(
        user=world.inspector, action=AccessAction.OPEN_MATTER, matter=matter, request=request, detail="x" * 400
    )
    entry.refresh_from_db()
    assert (entry.user, entry.action, entry.matter, entry.address) == (
        world.inspector,
        "open_matter",
        matter,
        "10.1.2.3",
    )
    assert len(entry.detail) == 300
    assert entry.at is not None


def test_access_log_refuses_an_unknown_action(world):
    with pytest.raises(ValidationError):
        review.access_log_record(user=world.inspector, action="peek")
    assert not AccessLog.objects.exists()


def test_only_inspectors_over_the_matter_are_inspecting(world):
    assert review.inspects(world.inspector, world.collective_a1)
    assert not review.inspects(world.inspector_b, world.collective_a1)
    assert review.inspects(world.inspector_b, world.collective_b1)
    assert not review.inspects(world.leader_a, world.collective_a1)
    assert not review.inspects(world.county_admin, world.collective_a1)


def log(user, action=AccessAction.OPEN_MATTER, matter=None, **kwargs) -> AccessLog:
    return review.access_log_record(user=user, action=action, matter=matter, **kwargs)


def test_audit_admin_reads_entries_of_the_county_and_searches_by_its_people(world, django_user_model):
    matter = archived(world)
    opened = log(world.inspector, matter=matter)
    searched = log(world.inspector_b, AccessAction.SEARCH, detail="party=东湖")
    outsider = django_user_model.objects.create(username="outsider")
    log(outsider, AccessAction.SEARCH)
    assert list(review.access_log_for(world.audit_admin, AccessLogQuery())) == [searched, opened]
    assert list(review.access_log_for(world.inspector, AccessLogQuery())) == []
    assert list(review.access_log_for(world.county_admin, AccessLogQuery())) == []


def test_access_log_filters(world):
    matter = archived(world, title="购置村级农机具")
    other = archived(world, title="购置办公电脑")
    opened = log(world.inspector, matter=matter)
    searched = log(world.inspector, AccessAction.SEARCH)
    by_b = log(world.inspector_b, AccessAction.SEARCH)
    other_opened = log(world.inspector, matter=other)
    AccessLog.objects.filter(pk=opened.pk).update(at=timezone.make_aware(datetime.datetime(2026, 3, 1, 9)))

    def query(**filters):
        return list(review.access_log_for(world.audit_admin, AccessLogQuery(**filters)))

    assert query(user="inspector_b") == [by_b]
    assert query(user="卫纪检") == [other_opened, searched, opened]
    assert query(action="search") == [by_b, searched]
    assert query(date_to=datetime.date(2026, 3, 1)) == [opened]
    assert query(date_from=datetime.date(2026, 3, 2)) == [other_opened, by_b, searched]
    assert query(matter="农机具") == [opened]
    assert query(matter=matter.archive_number) == [opened]
    assert query(matter=str(other.pk)) == [other_opened]


# --- flags ----------------------------------------------------------------------------


def test_inspector_flags_a_problem_and_the_township_answers(world):
    matter = archived(world)
    flag = review.flag_raise(user=world.inspector, matter=matter, note="  询价单日期晚于合同签订日期  ")
    assert (flag.raised_by, flag.note, flag.answered_at) == (world.inspector, "询价单日期晚于合同签订日期", None)
    assert list(review.flags_for(world.officer_a)) == [flag]

    answered = review.flag_answer(user=world.leader_a, flag_id=flag.pk, answer="已核实，系笔误，已责令村里说明")
    assert answered.answered_by == world.leader_a
    assert answered.answered_at is not None
    assert list(review.flags_for(world.officer_a)) == []
    assert list(review.flags_for(world.inspector, state="answered")) == [answered]
    assert answered.history.count() == 2
    assert answered.history.first().history_user == world.leader_a


def test_flags_are_raised_on_running_matters_too(world):
    flag = review.flag_raise(user=world.inspector, matter=apply_purchase(world), note="报价偏高")
    assert flag.pk


@pytest.mark.parametrize("persona", ["inspector_b", "officer_a", "leader_a", "secretary_a1", "county_admin"])
def test_only_an_inspector_over_the_matter_flags_it(world, persona):
    matter = archived(world)
    with pytest.raises(PermissionDenied):
        review.flag_raise(user=getattr(world, persona), matter=matter, note="问题")
    assert not InspectorFlag.objects.exists()


def test_a_flag_needs_a_note(world):
    with pytest.raises(ValidationError) as error:
        review.flag_raise(user=world.inspector, matter=archived(world), note="   ")
    assert error.value.message_dict == {"note": ["Describe the problem."]}


@pytest.mark.parametrize("persona", ["officer_b", "leader_b", "secretary_a1", "inspector", "county_admin"])
def test_only_the_township_over_the_village_answers(world, persona):
    flag = review.flag_raise(user=world.inspector, matter=archived(world), note="问题")
    with pytest.raises(PermissionDenied):
        review.flag_answer(user=getattr(world, persona), flag_id=flag.pk, answer="答复")
    flag.refresh_from_db()
    assert flag.answered_at is None


def test_an_answer_is_needed_and_given_once(world):
    flag = review.flag_raise(user=world.inspector, matter=archived(world), note="问题")
    with pytest.raises(ValidationError) as error:
        review.flag_answer(user=world.officer_a, flag_id=flag.pk, answer=" ")
    assert error.value.message_dict == {"answer": ["Write the township's answer."]}
    review.flag_answer(user=world.officer_a, flag_id=flag.pk, answer="第一次答复")
    with pytest.raises(AlreadyDecided, match="already been answered"):
        review.flag_answer(user=world.leader_a, flag_id=flag.pk, answer="第二次答复")
    flag.refresh_from_db()
    assert (flag.answer, flag.answered_by) == ("第一次答复", world.officer_a)


def test_flags_are_listed_for_the_township_and_inspectors_over_them(world):
    in_a1 = review.flag_raise(user=world.inspector, matter=archived(world), note="A1 的问题")
    in_b1 = review.flag_raise(
        user=world.inspector_b,
        matter=archived_in(world, "b1"),
        note="B1 的问题",
    )
    assert list(review.flags_for(world.leader_a)) == [in_a1]
    assert list(review.flags_for(world.officer_b)) == [in_b1]
    assert list(review.flags_for(world.inspector)) == [in_b1, in_a1]
    assert list(review.flags_for(world.inspector_b)) == [in_b1]
    assert list(review.flags_for(world.secretary_a1)) == []
    assert list(review.flags_for(world.county_admin)) == []
