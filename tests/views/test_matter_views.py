"""Matter pages: who may see and act, what bad input gets back, and what the page shows."""

import pytest
from django.urls import reverse

from flows import services
from flows.models import Decision, Matter, MatterStatus, Notice, Objection, Step, StepRecord
from organizations.people import display_name
from tests.drive import apply_purchase, refresh

from .conftest import create_url, purchase_post, three_quotations

pytestmark = pytest.mark.django_db


def detail_url(matter) -> str:
    return reverse("flows:matter_detail", args=[matter.pk])


def task_of(matter):
    matter = refresh(matter)
    return services.active_task(matter, matter.next_step)


# --- who may see a matter ------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretary_a2", "supervisor_a2", "secretary_b1"])
def test_persona_of_another_village_gets_404_on_matter(client, world, persona):
    matter = apply_purchase(world)
    client.force_login(getattr(world, persona))
    assert client.get(detail_url(matter)).status_code == 404


@pytest.mark.parametrize("persona", ["officer_b", "leader_b"])
def test_township_of_another_township_gets_404_on_matter(client, world, persona):
    matter = apply_purchase(world)
    client.force_login(getattr(world, persona))
    assert client.get(detail_url(matter)).status_code == 404


def test_inspector_of_another_township_gets_404_on_matter(client, world):
    matter = apply_purchase(world)
    client.force_login(world.inspector_b)
    assert client.get(detail_url(matter)).status_code == 404


@pytest.mark.parametrize(
    "persona", ["secretary_a1", "cashier_a1", "supervisor_a1", "officer_a", "leader_a", "inspector", "county_admin"]
)
def test_people_whose_jurisdiction_covers_the_village_see_the_matter(client, world, persona):
    matter = apply_purchase(world)
    client.force_login(getattr(world, persona))
    response = client.get(detail_url(matter))
    assert response.status_code == 200
    assert matter.title in response.content.decode()


@pytest.mark.parametrize("persona", ["inspector", "county_admin"])
def test_read_only_personas_get_no_action_form(client, world, matter_at, persona):
    matter = matter_at(Step.CHECK_BY_TOWNSHIP)
    client.force_login(getattr(world, persona))
    content = client.get(detail_url(matter)).content.decode()
    assert 'id="step-action"' not in content
    assert reverse("flows:matter_withdraw", args=[matter.pk]) not in content


def test_matter_list_shows_only_matters_in_jurisdiction(client, world):
    mine = apply_purchase(world, title="柳树村的电脑")
    theirs = apply_purchase(world, title="石门村的电脑", user=world.secretary_b1, organization=world.collective_b1)
    client.force_login(world.secretary_a1)
    content = client.get(reverse("flows:matter_list")).content.decode()
    assert mine.title in content
    assert theirs.title not in content


# --- read-only personas cannot act ------------------------------------------------------


@pytest.mark.parametrize("persona", ["inspector", "county_admin"])
def test_read_only_persona_cannot_perform_a_step(client, world, matter_at, persona):
    matter = matter_at(Step.CHECK_BY_TOWNSHIP)
    client.force_login(getattr(world, persona))
    response = client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]), {"decision": "agree", "opinion": "同意"}
    )
    assert response.status_code == 403
    assert refresh(matter).next_step == Step.CHECK_BY_TOWNSHIP


@pytest.mark.parametrize("persona", ["inspector", "county_admin"])
def test_read_only_persona_cannot_take_a_step(client, world, matter_at, persona):
    matter = matter_at(Step.CHECK_BY_TOWNSHIP)
    task = task_of(matter)
    client.force_login(getattr(world, persona))
    assert client.post(reverse("flows:task_take", args=[task.pk])).status_code == 403
    task.refresh_from_db()
    assert task.owner_id is None


@pytest.mark.parametrize("persona", ["inspector", "county_admin"])
def test_read_only_persona_cannot_withdraw_a_matter(client, world, persona):
    matter = apply_purchase(world)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:matter_withdraw", args=[matter.pk]), {"reason": "撤回"})
    assert response.status_code == 403
    assert refresh(matter).status == MatterStatus.IN_PROGRESS


def _open_objection(world, matter_at) -> Objection:
    matter = matter_at(Step.PUBLISH_RESOLUTION)
    notice = Notice.objects.get(matter=matter)
    return services.objection_submit(notice=notice, name="张三", phone="13800000000", text="价格偏高", client_key="k")


@pytest.mark.parametrize("persona", ["inspector", "county_admin"])
def test_read_only_persona_cannot_handle_an_objection(client, world, matter_at, persona):
    objection = _open_objection(world, matter_at)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:objection_handle", args=[objection.pk]), {"handling": "已处理"})
    assert response.status_code == 403
    objection.refresh_from_db()
    assert objection.is_open


# --- applying ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["officer_a", "leader_a", "inspector", "supervisor_a1", "county_admin"])
def test_persona_who_does_not_apply_gets_403_on_the_application_form(client, world, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("flows:matter_new")).status_code == 403
    assert client.get(create_url()).status_code == 403
    assert client.post(create_url(), purchase_post(world.collective_a1)).status_code == 403
    assert not Matter.objects.exists()


def test_applicant_cannot_apply_for_another_villages_collective(client, world):
    client.force_login(world.secretary_a1)
    response = client.post(create_url(), purchase_post(world.collective_b1))
    assert response.status_code == 403
    assert not Matter.objects.exists()


@pytest.mark.parametrize("persona", ["secretary_a1", "cashier_a1"])
def test_village_applicant_gets_the_application_form(client, world, persona):
    client.force_login(getattr(world, persona))
    response = client.get(create_url())
    assert response.status_code == 200
    assert 'name="items-TOTAL_FORMS"' in response.content.decode()


def test_valid_application_redirects_to_the_matter_waiting_for_proposal(client, world):
    client.force_login(world.secretary_a1)
    response = client.post(create_url(), purchase_post(world.collective_a1))
    matter = Matter.objects.get()
    assert response.status_code == 302
    assert response.url == detail_url(matter)
    assert matter.next_step == Step.PROPOSE
    assert matter.organization == world.collective_a1
    assert matter.applicant == world.secretary_a1
    assert list(matter.asset_purchase.items.values_list("name", flat=True)) == ["台式电脑"]


def test_application_above_the_quotation_threshold_with_three_quotations_is_accepted(client, world):
    client.force_login(world.cashier_a1)
    data = purchase_post(
        world.collective_a1,
        total="15000.00",
        items=(("打印机", "办公设备", "3", "5000.00"),),
        quotations=three_quotations("15000.00"),
    )
    response = client.post(create_url(), data)
    assert response.status_code == 302
    assert Matter.objects.get().asset_purchase.quotations.count() == 3


@pytest.mark.parametrize(
    ("unit_price", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 0.01."),
        ("0.00", "Ensure this value is greater than or equal to 0.01."),
        ("-5", "The amount cannot be negative."),
    ],
)
def test_application_with_a_unit_price_not_above_zero_is_refused(client, world, unit_price, message):
    client.force_login(world.secretary_a1)
    data = purchase_post(world.collective_a1, total=unit_price, items=(("台式电脑", "办公设备", "1", unit_price),))
    response = client.post(create_url(), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Matter.objects.exists()


def test_application_whose_total_is_not_the_sum_of_the_items_is_refused(client, world):
    client.force_login(world.secretary_a1)
    data = purchase_post(
        world.collective_a1,
        total="1100.00",
        items=(("桌子", "家具", "2", "300.00"), ("椅子", "家具", "4", "100.00")),
    )
    response = client.post(create_url(), data)
    assert response.status_code == 400
    assert "The total (1100.00) is not the sum of the items (1000.00)." in response.content.decode()
    assert not Matter.objects.exists()


def test_application_above_the_threshold_without_three_quotations_is_refused(client, world):
    client.force_login(world.secretary_a1)
    data = purchase_post(
        world.collective_a1,
        total="15000.00",
        items=(("打印机", "办公设备", "3", "5000.00"),),
        quotations=three_quotations("15000.00")[:2],
    )
    response = client.post(create_url(), data)
    assert response.status_code == 400
    assert "at least 3 quotations from different suppliers are required" in response.content.decode()
    assert not Matter.objects.exists()


def test_application_without_items_is_refused(client, world):
    client.force_login(world.secretary_a1)
    response = client.post(create_url(), purchase_post(world.collective_a1, items=()))
    assert response.status_code == 400
    assert "Please submit at least 1 form." in response.content.decode()
    assert not Matter.objects.exists()


def test_application_with_a_chosen_supplier_who_did_not_quote_is_refused(client, world):
    client.force_login(world.secretary_a1)
    data = purchase_post(
        world.collective_a1,
        total="15000.00",
        items=(("打印机", "办公设备", "3", "5000.00"),),
        quotations=three_quotations("15000.00"),
        chosen_supplier="别家",
    )
    response = client.post(create_url(), data)
    assert response.status_code == 400
    assert "The chosen supplier must be one of the quotations." in response.content.decode()
    assert not Matter.objects.exists()


# --- acting on a step: wrong persona ----------------------------------------------------


@pytest.mark.parametrize("persona", ["supervisor_a1", "cashier_a1", "officer_a", "leader_a"])
def test_wrong_role_gets_403_on_the_proposal(client, world, persona):
    matter = apply_purchase(world)
    task = task_of(matter)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:perform_step", args=[task.pk]), {"decision": "agree", "opinion": "同意"})
    assert response.status_code == 403
    assert client.post(reverse("flows:task_take", args=[task.pk])).status_code == 403
    assert refresh(matter).next_step == Step.PROPOSE
    assert not StepRecord.objects.filter(matter=matter, step=Step.PROPOSE).exists()


@pytest.mark.parametrize("persona", ["secretary_a1", "cashier_a1", "supervisor_a1", "leader_a"])
def test_wrong_role_gets_403_on_the_township_check(client, world, matter_at, persona):
    matter = matter_at(Step.CHECK_BY_TOWNSHIP)
    task = task_of(matter)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:perform_step", args=[task.pk]), {"decision": "agree", "opinion": "同意"})
    assert response.status_code == 403
    assert client.post(reverse("flows:task_take", args=[task.pk])).status_code == 403
    assert refresh(matter).next_step == Step.CHECK_BY_TOWNSHIP


@pytest.mark.parametrize("persona", ["officer_b", "inspector_b", "secretary_a2"])
def test_persona_outside_the_jurisdiction_gets_404_on_a_step(client, world, matter_at, persona):
    matter = matter_at(Step.CHECK_BY_TOWNSHIP)
    task = task_of(matter)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:perform_step", args=[task.pk]), {"decision": "agree", "opinion": "同意"})
    assert response.status_code == 404
    assert client.post(reverse("flows:task_take", args=[task.pk])).status_code == 404
    assert refresh(matter).next_step == Step.CHECK_BY_TOWNSHIP


def test_steps_are_not_performed_by_get(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    assert client.get(reverse("flows:perform_step", args=[task_of(matter).pk])).status_code == 405
    assert refresh(matter).next_step == Step.PROPOSE


@pytest.mark.parametrize("persona", ["supervisor_a1", "officer_a", "leader_a"])
def test_wrong_role_gets_403_on_withdrawal(client, world, persona):
    matter = apply_purchase(world)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:matter_withdraw", args=[matter.pk]), {"reason": "撤回"})
    assert response.status_code == 403
    assert refresh(matter).status == MatterStatus.IN_PROGRESS


@pytest.mark.parametrize("persona", ["secretary_a2", "secretary_b1"])
def test_applicant_of_another_village_gets_404_on_withdrawal(client, world, persona):
    matter = apply_purchase(world)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:matter_withdraw", args=[matter.pk]), {"reason": "撤回"})
    assert response.status_code == 404
    assert refresh(matter).status == MatterStatus.IN_PROGRESS


@pytest.mark.parametrize("persona", ["secretary_a1", "officer_a"])
def test_wrong_role_gets_403_on_handling_an_objection(client, world, matter_at, persona):
    objection = _open_objection(world, matter_at)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:objection_handle", args=[objection.pk]), {"handling": "已处理"})
    assert response.status_code == 403
    objection.refresh_from_db()
    assert objection.is_open


@pytest.mark.parametrize("persona", ["supervisor_a2", "inspector_b"])
def test_persona_outside_the_jurisdiction_gets_404_on_handling_an_objection(client, world, matter_at, persona):
    objection = _open_objection(world, matter_at)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:objection_handle", args=[objection.pk]), {"handling": "已处理"})
    assert response.status_code == 404
    objection.refresh_from_db()
    assert objection.is_open


def test_supervisor_handles_an_objection_and_the_matter_moves_on_after_the_period(client, world, matter_at):
    objection = _open_objection(world, matter_at)
    Notice.objects.filter(pk=objection.notice_id).update(ends_at=objection.notice.published_at)
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:objection_handle", args=[objection.pk]), {"handling": "已核实，价格合理"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert (objection.handled_by, objection.handling) == (world.supervisor_a1, "已核实，价格合理")
    assert refresh(objection.notice.matter).next_step == Step.CHECK_BY_TOWNSHIP


# --- acting on a step: bad input and conflicts -------------------------------------------


def test_secretary_proposes_through_the_page(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    response = client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]), {"decision": "agree", "opinion": "同意提议"}
    )
    assert response.status_code == 302
    assert response.url == detail_url(matter)
    assert refresh(matter).next_step == Step.DELIBERATE
    record = StepRecord.objects.get(matter=matter, step=Step.PROPOSE)
    assert (record.decision, record.actor, record.opinion) == (Decision.AGREE, world.secretary_a1, "同意提议")


def test_return_without_an_opinion_is_refused_with_the_reason(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    response = client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]),
        {"decision": "return", "opinion": "", "return_to": Step.APPLY},
    )
    assert response.status_code == 400
    assert "Give the reason for returning or rejecting." in response.content.decode()
    assert refresh(matter).next_step == Step.PROPOSE
    assert not StepRecord.objects.filter(matter=matter, decision=Decision.RETURN).exists()


def test_township_return_without_an_opinion_is_refused_with_the_reason(client, world, matter_at):
    matter = matter_at(Step.CHECK_BY_TOWNSHIP)
    client.force_login(world.officer_a)
    response = client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]),
        {"decision": "return", "opinion": "", "return_to": Step.APPLY},
    )
    assert response.status_code == 400
    assert "Give the reason for returning or rejecting." in response.content.decode()
    assert refresh(matter).next_step == Step.CHECK_BY_TOWNSHIP
    assert not StepRecord.objects.filter(matter=matter, decision=Decision.RETURN).exists()


def test_return_to_a_step_that_is_not_earlier_is_refused(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    response = client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]),
        {"decision": "return", "opinion": "不全", "return_to": Step.IMPLEMENT},
    )
    assert response.status_code == 400
    assert refresh(matter).next_step == Step.PROPOSE


def test_a_decision_the_step_does_not_offer_is_refused(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    response = client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]), {"decision": "done", "opinion": "x"}
    )
    assert response.status_code == 400
    assert refresh(matter).next_step == Step.PROPOSE


def test_acting_on_a_step_already_done_is_a_conflict(client, world):
    matter = apply_purchase(world)
    task = task_of(matter)
    client.force_login(world.secretary_a1)
    url = reverse("flows:perform_step", args=[task.pk])
    assert client.post(url, {"decision": "agree", "opinion": "同意"}).status_code == 302
    response = client.post(url, {"decision": "agree", "opinion": "再次同意"})
    assert response.status_code == 409
    assert "This step has already been handled; nothing was changed." in response.content.decode()
    assert StepRecord.objects.filter(matter=matter, step=Step.PROPOSE).count() == 1
    assert refresh(matter).next_step == Step.DELIBERATE


def test_acting_on_a_step_taken_by_another_leader_is_a_conflict(client, world, matter_at):
    matter = matter_at(Step.APPROVE_BY_TOWNSHIP, total="50000.00", quotations=3)
    task = task_of(matter)
    client.force_login(world.leader_a)
    assert client.post(reverse("flows:task_take", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.owner == world.leader_a

    client.force_login(world.second_leader_a)
    response = client.post(reverse("flows:perform_step", args=[task.pk]), {"decision": "agree", "opinion": "同意"})
    assert response.status_code == 409
    assert f"{display_name(world.leader_a)} has taken this step; nothing was changed." in response.content.decode()
    assert client.post(reverse("flows:task_take", args=[task.pk])).status_code == 409
    assert refresh(matter).next_step == Step.APPROVE_BY_TOWNSHIP
    assert not StepRecord.objects.filter(matter=matter, step=Step.APPROVE_BY_TOWNSHIP).exists()


def test_the_leader_who_took_the_step_can_still_act_on_it(client, world, matter_at):
    matter = matter_at(Step.APPROVE_BY_TOWNSHIP, total="50000.00", quotations=3)
    task = task_of(matter)
    client.force_login(world.leader_a)
    client.post(reverse("flows:task_take", args=[task.pk]))
    response = client.post(reverse("flows:perform_step", args=[task.pk]), {"decision": "agree", "opinion": "同意"})
    assert response.status_code == 302
    assert refresh(matter).next_step == Step.IMPLEMENT


def test_withdrawal_without_a_reason_changes_nothing(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    response = client.post(reverse("flows:matter_withdraw", args=[matter.pk]), {"reason": ""}, follow=True)
    assert "Give the reason for withdrawing." in response.content.decode()
    assert refresh(matter).status == MatterStatus.IN_PROGRESS


def test_cashier_withdraws_through_the_page(client, world):
    matter = apply_purchase(world)
    client.force_login(world.cashier_a1)
    response = client.post(reverse("flows:matter_withdraw", args=[matter.pk]), {"reason": "不再需要"})
    assert response.status_code == 302
    assert refresh(matter).status == MatterStatus.WITHDRAWN


def test_withdrawing_after_township_approval_is_a_conflict(client, world, matter_at):
    matter = matter_at(Step.IMPLEMENT)
    client.force_login(world.secretary_a1)
    response = client.post(reverse("flows:matter_withdraw", args=[matter.pk]), {"reason": "晚了"})
    assert response.status_code == 409
    assert refresh(matter).status == MatterStatus.IN_PROGRESS


# --- what the matter page shows ----------------------------------------------------------


def test_matter_page_shows_path_records_task_log_and_history(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    content = client.get(detail_url(matter)).content.decode()
    for element_id in ("path", "records", "task-log", "history"):
        assert f'id="{element_id}"' in content


def test_matter_page_path_marks_done_current_and_skipped_steps(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    client.post(reverse("flows:perform_step", args=[task_of(matter).pk]), {"decision": "agree", "opinion": "同意"})
    content = client.get(detail_url(matter)).content.decode()
    path = content.split('id="path"')[1].split("</ol>")[0]
    assert 'class="done" data-step="propose"' in path
    assert 'class="current" data-step="deliberate"' in path
    assert 'class="skipped" data-step="approve_by_township"' in path
    assert 'class="pending" data-step="check_by_township"' in path


def test_matter_history_lists_each_change_and_who_made_it(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    client.post(reverse("flows:perform_step", args=[task_of(matter).pk]), {"decision": "agree", "opinion": "同意"})
    content = client.get(detail_url(matter)).content.decode()
    history = content.split('id="history"')[1].split("</table>")[0]
    # In words: the field's name and the steps' names, never the codes.
    assert "Changed the matter" in history
    assert "Next step: from “Party branch proposal” to “Two-committee deliberation”" in history
    assert "next_step" not in history and "propose" not in history
    assert display_name(world.secretary_a1) in history


def test_matter_records_list_who_decided_what(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    client.post(reverse("flows:perform_step", args=[task_of(matter).pk]), {"decision": "agree", "opinion": "同意提议"})
    client.force_login(world.inspector)
    content = client.get(detail_url(matter)).content.decode()
    records = content.split('id="records"')[1].split("</table>")[0]
    assert "同意提议" in records
    assert display_name(world.secretary_a1) in records
    task_log = content.split('id="task-log"')[1].split("</table>")[0]
    assert display_name(world.secretary_a1) in task_log


@pytest.mark.parametrize("persona", ["officer_a", "inspector"])
def test_matter_page_past_publication_shows_system_steps_without_an_actor(client, world, matter_at, persona):
    matter = matter_at(Step.CHECK_BY_TOWNSHIP)
    client.force_login(getattr(world, persona))
    response = client.get(detail_url(matter))
    assert response.status_code == 200
    records = response.content.decode().split('id="records"')[1].split("</table>")[0]
    # A record the system writes is kept in the archive's language, whoever reads it later.
    assert "公开期满，无未处理的异议。" in records


def test_township_officer_checks_through_the_page(client, world, matter_at):
    matter = matter_at(Step.CHECK_BY_TOWNSHIP)
    client.force_login(world.officer_a)
    response = client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]), {"decision": "agree", "opinion": "材料齐全"}
    )
    assert response.status_code == 302
    assert refresh(matter).next_step == Step.IMPLEMENT


def test_applicant_sees_the_application_form_on_a_returned_matter(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]),
        {"decision": "return", "opinion": "补充报价", "return_to": Step.APPLY},
    )
    assert refresh(matter).next_step == Step.APPLY
    response = client.get(detail_url(matter))
    assert response.status_code == 200
    assert 'name="items-0-name"' in response.content.decode()
