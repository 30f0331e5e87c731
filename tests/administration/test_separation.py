"""三员分立: system, security and audit administrators, each to their own work, none holding two posts."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from administration import services
from flows.models import Matter
from organizations.jurisdiction import visible
from organizations.models import Post, Role
from tests.drive import apply_purchase
from tests.factories import OrganizationFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

SYSTEM_PAGES = ["administration:accounts", "administration:organizations"]
SECURITY_PAGES = [
    "administration:policy",
    "administration:lockouts",
    "administration:sessions",
    "administration:security_accounts",
]
AUDIT_PAGES = ["administration:security_log", "administration:security_log_verify", "documents:access_log"]
PAGES_OF = {"system_admin": SYSTEM_PAGES, "security_admin": SECURITY_PAGES, "audit_admin": AUDIT_PAGES}


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "audit_admin"])
def test_each_administrator_opens_only_their_own_pages(client, world, persona):
    client.force_login(getattr(world, persona))
    for role, pages in PAGES_OF.items():
        for name in pages:
            expected = 200 if role == persona else 403
            assert client.get(reverse(name)).status_code == expected, (persona, name)


@pytest.mark.parametrize("persona", ["county_admin", "inspector", "leader_a", "secretary_a1"])
def test_business_posts_open_no_administration_page(client, world, persona):
    client.force_login(getattr(world, persona))
    for pages in PAGES_OF.values():
        for name in pages:
            assert client.get(reverse(name)).status_code == 403, name


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "audit_admin"])
def test_administrators_see_no_business_data(client, world, persona):
    matter = apply_purchase(world)
    user = getattr(world, persona)
    assert not visible(user, Matter.objects.all()).exists()
    client.force_login(user)
    assert client.get(matter.get_absolute_url()).status_code == 404
    assert matter.title not in client.get(reverse("flows:matter_list")).content.decode()


def test_login_lands_each_administrator_on_their_work(client, world):
    for persona, page in (("system_admin", "accounts"), ("security_admin", "policy"), ("audit_admin", "security_log")):
        client.force_login(getattr(world, persona))
        assert client.get(reverse("administration:home")).url == reverse(f"administration:{page}")
    client.force_login(world.leader_a)
    assert client.get(reverse("administration:home")).url == reverse("flows:inbox")


def test_system_admin_grants_posts_below_its_place_only(world):
    posted = services.post_grant(
        actor=world.system_admin, account=world.secretary_a2, organization=world.village_b1, role=Role.VILLAGE_CASHIER
    )
    assert posted.pk
    township_admin = UserFactory(username="sys_ta")
    PostFactory(user=township_admin, organization=world.township_a, role=Role.SYSTEM_ADMIN)
    newcomer, _password = services.account_create(
        actor=township_admin, username="new_a", last_name="新", first_name="人"
    )
    with pytest.raises(PermissionDenied):  # outside its part of the tree
        services.post_grant(
            actor=township_admin, account=newcomer, organization=world.village_b1, role=Role.VILLAGE_CASHIER
        )
    with pytest.raises(PermissionDenied):  # above it
        services.post_grant(actor=township_admin, account=newcomer, organization=world.county, role=Role.COUNTY_ADMIN)
    services.post_grant(
        actor=township_admin, account=newcomer, organization=world.village_a1, role=Role.VILLAGE_CASHIER
    )
    with pytest.raises(PermissionDenied):  # an account with a post elsewhere is not its to manage
        services.post_grant(
            actor=township_admin, account=world.secretary_b1, organization=world.village_a1, role=Role.VILLAGE_CASHIER
        )


def test_nobody_grants_a_post_to_themselves_or_an_administrators_post(world):
    with pytest.raises(PermissionDenied):
        services.post_grant(
            actor=world.system_admin,
            account=world.system_admin,
            organization=world.township_a,
            role=Role.TOWNSHIP_LEADER,
        )
    with pytest.raises(PermissionDenied):
        services.post_grant(
            actor=world.system_admin, account=world.leader_a, organization=world.county, role=Role.SECURITY_ADMIN
        )
    with pytest.raises(ValidationError):  # an administrator's account holds no other post
        services.post_grant(
            actor=world.system_admin,
            account=world.audit_admin,
            organization=world.township_a,
            role=Role.TOWNSHIP_LEADER,
        )
    assert not Post.objects.filter(user__in=[world.system_admin, world.audit_admin], role=Role.TOWNSHIP_LEADER).exists()


def test_no_account_holds_two_administrator_posts(world):
    post = Post(user=world.security_admin, organization=world.county, role=Role.AUDIT_ADMIN)
    with pytest.raises(ValidationError):
        post.full_clean()
    business = Post(user=world.leader_a, organization=world.county, role=Role.SYSTEM_ADMIN)
    with pytest.raises(ValidationError):
        business.full_clean()


def test_posts_fit_the_kind_of_place(world):
    with pytest.raises(ValidationError):
        services.post_grant(
            actor=world.system_admin,
            account=world.secretary_a2,
            organization=world.township_a,
            role=Role.VILLAGE_CASHIER,
        )


def test_system_admin_pages_grant_and_revoke_and_create(client, world):
    client.force_login(world.system_admin)
    response = client.post(
        reverse("administration:accounts"), {"username": "li_new", "last_name": "李", "first_name": "新"}
    )
    assert response.status_code == 200 and "li_new" in response.content.decode()
    account = Post._meta.get_field("user").related_model.objects.get(username="li_new")
    assert account.account_profile.must_change_password
    assert response.context["password"] and account.check_password(response.context["password"])
    response = client.post(
        reverse("administration:account_detail", args=[account.pk]),
        {"organization": world.village_a1.pk, "role": Role.VILLAGE_CASHIER},
    )
    assert response.status_code == 302
    post = Post.objects.get(user=account)
    client.post(reverse("administration:post_revoke", args=[post.pk]))
    assert not Post.objects.filter(pk=post.pk).exists()
    # Bad input: a clear error, nothing saved.
    response = client.post(
        reverse("administration:accounts"), {"username": "bad name!", "last_name": "", "first_name": ""}
    )
    assert response.status_code == 400 and not response.context["form"].is_valid()
    response = client.post(
        reverse("administration:organizations"), {"parent": world.township_a.pk, "name": "", "code": ""}
    )
    assert response.status_code == 400


def test_system_admin_adds_an_organisation_of_the_next_kind(client, world):
    client.force_login(world.system_admin)
    client.post(reverse("administration:organizations"), {"parent": world.township_a.pk, "name": "新村", "code": "A3"})
    village = world.township_a.children.get(code="A3")
    assert village.kind == "village"


def test_system_admin_does_not_list_accounts_outside_its_place(client, world):
    other_county = OrganizationFactory(kind="county", code="OTHER")
    stranger = UserFactory(username="stranger")
    PostFactory(user=stranger, organization=other_county, role=Role.COUNTY_ADMIN)
    client.force_login(world.system_admin)
    content = client.get(reverse("administration:accounts")).content.decode()
    assert "leader_a" in content and "stranger" not in content
    assert client.get(reverse("administration:account_detail", args=[stranger.pk])).status_code == 404


def test_security_admin_cannot_reset_an_administrators_password(world):
    with pytest.raises(PermissionDenied):
        services.password_reset(actor=world.security_admin, account=world.audit_admin)
    password = services.password_reset(actor=world.security_admin, account=world.leader_a)
    world.leader_a.refresh_from_db()
    assert world.leader_a.check_password(password) and world.leader_a.account_profile.must_change_password
