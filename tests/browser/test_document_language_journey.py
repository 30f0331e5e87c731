"""Issue 10's journey in a real browser: a document is printed in Chinese unless its requester chooses
another language for it, and the choice stays with the document."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from documents.models import RenderedDocument, RenderStatus
from flows import services
from organizations.models import Organization
from tests.conftest import purchase_data

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_leader_prints_an_approval_form_in_chinese_then_one_in_english(demo, actor, live_server):
    base = live_server.url
    matter = services.matter_apply(
        user=get_user_model().objects.get(username="sec_dh01"),
        organization=Organization.objects.get(code="DH01-JJ"),
        transaction_type="asset_purchase",
        data=purchase_data(),
    )
    page = actor.login("leader_dh")
    page.goto(f"{base}{matter.get_absolute_url()}")
    panel = page.locator(f"#rendered-approval_form-{matter.pk}")
    # The site's language is the one chosen.
    expect(panel.locator("select[name=language]")).to_have_value("zh-hans")
    panel.locator("button[type=submit]").click()
    page.wait_for_load_state()
    chinese = RenderedDocument.objects.get(kind="approval_form", matter=matter)
    assert (chinese.language, chinese.status) == ("zh-hans", RenderStatus.DONE)

    panel = page.locator(f"#rendered-approval_form-{matter.pk}")
    panel.locator("select[name=language]").select_option("en")
    panel.locator("button[type=submit]").click()
    page.wait_for_load_state()
    english = RenderedDocument.objects.filter(kind="approval_form", matter=matter).latest("pk")
    assert english != chinese
    assert (english.language, english.status) == ("en", RenderStatus.DONE)
    # The panel says which language the current print is in.
    expect(page.locator(f"#rendered-approval_form-{matter.pk} [data-role=document-language]")).to_have_text("English")
