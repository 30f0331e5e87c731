"""Every page behind login sends an anonymous visitor to the login page and does nothing else."""

import pytest
from django.urls import reverse

from flows import services
from flows.models import Matter, MatterStatus, Step
from tests.drive import apply_purchase

pytestmark = pytest.mark.django_db

# (URL name, arguments, method). Matter and task pages get a real matter's ids; the other object pages any id,
# since the login check comes before the lookup.
LOGGED_IN_PAGES = [
    ("flows:inbox", [], "get"),
    ("flows:matter_list", [], "get"),
    ("flows:matter_new", [], "get"),
    ("flows:matter_create", ["asset_purchase"], "get"),
    ("flows:matter_create", ["asset_purchase"], "post"),
    ("flows:matter_detail", ["matter"], "get"),
    ("flows:matter_withdraw", ["matter"], "post"),
    ("flows:perform_step", ["task"], "post"),
    ("flows:task_take", ["task"], "post"),
    ("flows:meeting_list", [], "get"),
    ("flows:meeting_create", [], "get"),
    ("flows:meeting_create", [], "post"),
    ("flows:meeting_detail", [1], "get"),
    ("flows:objection_handle", [1], "post"),
    ("registers:asset_list", [], "get"),
    ("registers:asset_detail", [1], "get"),
    ("registers:member_list", [], "get"),
    ("documents:evidence_download", [1], "get"),
]


@pytest.mark.parametrize(("name", "args", "method"), LOGGED_IN_PAGES)
def test_anonymous_visitor_is_redirected_to_login(client, world, name, args, method):
    matter = apply_purchase(world)
    ids = {"matter": matter.pk, "task": services.active_task(matter, Step.PROPOSE).pk}
    url = reverse(name, args=[ids.get(arg, arg) for arg in args])
    if method == "post":
        response = client.post(url, {"reason": "撤回", "decision": "agree", "opinion": "x"})
    else:
        response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"
    matter = Matter.objects.get(pk=matter.pk)
    assert (matter.status, matter.next_step) == (MatterStatus.IN_PROGRESS, Step.PROPOSE)
