"""The Django admin: the maintenance superuser's alone; no staff flag or permission opens it."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from demo.seed import demo_seed
from organizations.models import Post

pytestmark = pytest.mark.django_db


def test_county_admin_with_staff_and_user_permissions_cannot_open_the_admin(client, world):
    admin_user = world.county_admin
    admin_user.is_staff = True
    admin_user.save()
    admin_user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["auth", "organizations"]))
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 302
    change_self = reverse("admin:auth_user_change", args=[admin_user.pk])
    response = client.post(change_self, {"username": admin_user.username, "is_superuser": "on", "is_staff": "on"})
    assert response.status_code == 302 and "/admin/login/" in response.url
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 302


def test_county_admin_cannot_change_the_superusers_password_or_give_itself_a_post(client, world, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="Maint-2026-x")
    client.force_login(world.county_admin)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[root.pk]),
        {"password1": "Taken-over-99", "password2": "Taken-over-99"},
    )
    assert response.status_code == 302
    root.refresh_from_db()
    assert root.check_password("Maint-2026-x")
    client.post(
        reverse("admin:organizations_post_add"),
        {"user": world.county_admin.pk, "organization": world.township_a.pk, "role": "township_leader"},
    )
    assert not Post.objects.filter(user=world.county_admin, role="township_leader").exists()


def test_the_maintenance_superuser_opens_the_admin(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="Maint-2026-x")
    client.force_login(root)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:organizations_ruleversion_changelist")).status_code == 200


def test_the_demo_gives_no_staff_flag_to_the_county_admin(db):
    demo_seed()
    county_admin = Post.objects.get(role="county_admin", user__username="county_admin").user
    assert not county_admin.is_staff and not county_admin.is_superuser
