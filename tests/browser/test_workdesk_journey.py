"""Issue 13 in a real browser: the township leader filters the inbox, approves three matters in one batch,
and hands her tasks to the other township leader before going away."""

import re

import pytest
from playwright.sync_api import expect

from demo.workdesk import demo_batch_matters
from flows.models import Decision, DelegatedTask, Matter, Step, StepRecord
from flows.services import active_task, task_take
from organizations.people import display_name

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_leader_filters_batch_approves_three_and_delegates(demo, actor, live_server):
    batch = demo_batch_matters(count=4)
    in_batch, kept = batch[:3], batch[3]
    leader_dh = kept.organization.parent.parent.posts.get(user__username="leader_dh").user
    task_take(user=leader_dh, task_id=active_task(kept, Step.APPROVE_BY_TOWNSHIP).pk)

    # The leader narrows her inbox: the township approval, up to 50 000 yuan, cheapest first.
    page = actor.login("leader_dh")
    page.click("#filters summary")
    page.select_option("#id_step", "approve_by_township")
    page.fill("#id_amount_max", "50000")
    page.click("#apply-filters")
    page.click("#inbox th a.sort:has-text('金额')")
    expect(page).to_have_url(re.compile(r"step=approve_by_township.*sort=amount|sort=amount.*step=approve_by_township"))
    shown = [int(pk) for pk in page.locator("#inbox tbody tr").evaluate_all("rows => rows.map(r => r.dataset.matter)")]
    amounts = [Matter.objects.get(pk=pk).amount for pk in shown]
    assert amounts == sorted(amounts) and all(amount <= 50000 for amount in amounts)
    assert {m.pk for m in batch} <= set(shown)
    filtered_url = page.url

    # She ticks three of them and confirms the batch, which lists each with its amount and evidence.
    for matter in in_batch:
        page.check(f'tr[data-matter="{matter.pk}"] input[name=task]')
    page.click("#batch-approve")
    expect(page.locator("#batch-items tbody tr")).to_have_count(3)
    for matter in in_batch:
        row = page.locator(f'#batch-items tr[data-task="{active_task(matter, Step.APPROVE_BY_TOWNSHIP).pk}"]')
        expect(row).to_contain_text(f"{matter.amount}")
        expect(row).to_have_attribute("data-included", "yes")
    page.fill("#id_opinion", "同意。请按批复实施并及时公开结果。")
    page.click("#confirm-batch")
    expect(page.locator(".messages")).to_contain_text("同意3件事项")
    assert page.url == filtered_url  # back to the same filtered view
    for matter in in_batch:
        record = StepRecord.objects.get(matter=matter, step=Step.APPROVE_BY_TOWNSHIP)
        assert (record.decision, record.actor.username) == (Decision.AGREE, "leader_dh")
        expect(page.locator(f'#inbox tr[data-matter="{matter.pk}"]')).to_have_count(0)

    # Going away, she hands her post to 蒋丽华: the matter she had taken goes with it.
    page.click(".nav-group[data-group=work] .nav-heading")
    page.click(".nav-group[data-group=work] a:has-text('委托办理')")
    page.select_option("#id_delegate", label="蒋丽华")
    page.fill("#id_reason", "到县委党校参加培训")
    page.click("#delegate")
    expect(page.locator(".messages")).to_contain_text("蒋丽华")
    expect(page.locator("#delegations tbody tr")).to_have_count(1)
    assert DelegatedTask.objects.filter(task__process=kept.process, to_user__username="leader2_dh").exists()

    # 蒋丽华 finds it in her inbox, approves, and the record reads that she acted for 韩文斌.
    page = actor.login("leader2_dh")
    page.click(f'#inbox a[href="/matters/{kept.pk}/"]')
    page.fill("#id_opinion", "同意（代韩文斌）")
    page.click("#perform")
    expect(page.locator(".messages")).to_be_visible()
    records = page.locator("#records")
    expect(records).to_contain_text(f"蒋丽华（代{display_name(leader_dh)}）")
    expect(records).to_contain_text("转办")
