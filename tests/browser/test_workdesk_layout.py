"""The navigation is one line at 1024 px and a menu button on a phone; the inbox, a matter and a batch
approval work at 375 px without scrolling sideways; hidden controls stay hidden."""

import pytest
from playwright.sync_api import expect

from demo.workdesk import demo_batch_matters
from flows.models import Step
from flows.services import active_task

pytestmark = pytest.mark.django_db(transaction=True)


def header_is_one_line(page) -> bool:
    return page.evaluate(
        """() => {
            const selector = 'header.top .brand, header.top .nav-heading, header.top .top-tools > *';
            const items = [...document.querySelectorAll(selector)];
            const tops = items.filter(el => el.offsetParent).map(el => Math.round(el.getBoundingClientRect().top));
            const boxes = items.filter(el => el.offsetParent).map(el => el.getBoundingClientRect());
            const overlap = boxes.some((a, i) => boxes.some((b, j) => i < j && a.left < b.right && b.left < a.right));
            return Math.max(...tops) - Math.min(...tops) < 12 && !overlap;
        }"""
    )


@pytest.mark.parametrize("username", ["county_admin", "leader_dh", "sec_dh01", "inspector"])
def test_the_navigation_is_one_line_at_1024(demo, actor, page, username):
    page.set_viewport_size({"width": 1024, "height": 768})
    actor.login_to(username, "/matters/")
    assert header_is_one_line(page)
    heading = page.locator(".nav-heading").first
    heading.click()
    expect(page.locator(".nav-group.open .nav-panel")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".nav-group.open")).to_have_count(0)


def test_on_a_phone_the_navigation_is_behind_a_menu_button(demo, actor, page):
    page.set_viewport_size({"width": 375, "height": 740})
    actor.login_to("leader_dh", "/matters/")
    expect(page.locator("#site-nav")).to_be_hidden()
    page.click(".nav-toggle")
    expect(page.locator("#site-nav")).to_be_visible()
    expect(page.locator("#site-nav a:has-text('委托办理')")).to_be_visible()


def test_inbox_matter_and_batch_approval_work_at_375(demo, actor, page, live_server):
    matters = demo_batch_matters(count=2)
    page.set_viewport_size({"width": 375, "height": 740})
    actor.login_to("leader_dh", "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for matter in matters:
        page.check(f'tr[data-matter="{matter.pk}"] input[name=task]')
    page.click("#batch-approve")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.click("#confirm-batch")
    expect(page.locator(".messages")).to_contain_text("2件事项")
    page.goto(f"{live_server.url}/matters/{matters[0].pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(page.locator("#records")).to_be_visible()


def test_hidden_controls_of_the_capture_page_stay_hidden(demo, actor, page, live_server):
    matter = demo_batch_matters(count=1)[0]
    actor.login_to("sec_dh01", f"/documents/matters/{matter.pk}/capture/")
    hidden = page.locator("main [hidden]")
    assert hidden.count() > 0
    for index in range(hidden.count()):
        expect(hidden.nth(index)).to_be_hidden()
    assert active_task(matter, Step.APPROVE_BY_TOWNSHIP) is not None
