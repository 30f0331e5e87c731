"""Lockout, password policy, the forced change, two-factor login and session timeouts."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from administration import services
from administration.lockout import cool_off
from administration.middleware import LAST_SEEN_KEY
from administration.models import AccountProfile, EventKind, SecurityEvent, SecurityPolicy
from administration.receivers import SESSION_STARTED_KEY
from demo.seed import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

GOOD = "Dongfang-2026"
LOGIN = "/accounts/login/"


def attempt(client, username, password, address="203.0.113.5"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def with_password(user, password=GOOD):
    user.set_password(password)
    user.save()
    return user


# --- lockout ---------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_and_the_right_password_no_longer_works(client, world):
    officer = with_password(world.officer_a)
    for _ in range(4):
        assert attempt(client, "officer_a", "wrong-password").status_code == 200
    assert attempt(client, "officer_a", "wrong-password").status_code == 429  # the fifth locks
    response = attempt(client, "officer_a", GOOD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    kinds = list(SecurityEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds.count(EventKind.LOGIN_FAILED) >= 5 and EventKind.LOCKOUT in kinds
    assert EventKind.LOGIN not in kinds
    assert officer.is_active


def test_failures_from_one_address_lock_it_for_every_account(client, world):
    for index in range(5):
        attempt(client, f"guess{index}", "wrong-password", address="198.51.100.9")
    with_password(world.leader_a)
    assert attempt(client, "leader_a", GOOD, address="198.51.100.9").status_code == 429
    assert attempt(client, "leader_a", GOOD, address="198.51.100.10").status_code == 302


def test_an_ipv6_slash_64_counts_as_one_address(client, world):
    for index in range(5):
        attempt(client, f"guess{index}", "wrong-password", address=f"2001:db8:1:2::{index + 1}")
    with_password(world.leader_a)
    assert attempt(client, "leader_a", GOOD, address="2001:db8:1:2:ffff::1").status_code == 429


def test_the_security_admin_unlocks_and_the_unlock_is_logged(client, world):
    with_password(world.officer_a)
    for _ in range(5):
        attempt(client, "officer_a", "wrong-password")
    assert attempt(client, "officer_a", GOOD).status_code == 429
    services.lockout_release(actor=world.security_admin, username="officer_a", address="203.0.113.5")
    assert not AccessAttempt.objects.exists()
    assert attempt(client, "officer_a", GOOD).status_code == 302
    assert SecurityEvent.objects.filter(kind=EventKind.UNLOCK, actor=world.security_admin).exists()


def test_the_lockout_page_of_the_security_admin_unlocks(client, world):
    for _ in range(5):
        attempt(client, "officer_a", "wrong-password")
    client.force_login(world.security_admin)
    page = client.get(reverse("administration:lockouts"))
    assert "officer_a" in page.content.decode()
    assert client.post(reverse("administration:lockouts"), {"username": "", "address": ""}).status_code == 400
    client.post(reverse("administration:lockouts"), {"username": "officer_a"})
    assert not AccessAttempt.objects.filter(username="officer_a").exists()


def test_the_cool_off_doubles_with_each_lockout_of_the_day(rf, world):
    request = rf.post(LOGIN, {"username": "officer_a"}, REMOTE_ADDR="203.0.113.5")
    base = datetime.timedelta(minutes=SecurityPolicy().lockout_minutes)
    assert cool_off(request) == base
    for count in (1, 2, 3):
        SecurityEvent.objects.create(
            at=timezone.now(), actor_name="officer_a", kind=EventKind.LOCKOUT, outcome="refused", description="x"
        )
        assert cool_off(request) == base * 2 ** (count - 1)


def test_the_lockout_lifts_after_the_cool_off(client, world):
    with_password(world.officer_a)
    for _ in range(5):
        attempt(client, "officer_a", "wrong-password")
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(hours=1))
    assert attempt(client, "officer_a", GOOD).status_code == 302


# --- passwords ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("demo12345", "password_too_short"),
        ("alllowercase", "password_classes"),
        ("Leader_a-2026", "password_has_username"),
        ("Password123", "password_too_common"),
    ],
)
def test_the_policy_refuses_weak_passwords(world, password, code):
    with pytest.raises(ValidationError) as error:
        validate_password(password, user=world.leader_a)
    assert code in {item.code for item in error.value.error_list}


def test_the_demo_password_meets_the_policy(world):
    validate_password(DEFAULT_PASSWORD, user=world.secretary_a1)


def test_the_last_five_passwords_are_refused(world):
    user = world.leader_a
    used = [f"Spring-{year}x" for year in range(2020, 2026)]
    for password in used:
        validate_password(password, user=user)
        user.set_password(password)
        user.save()
    for password in used[1:]:
        with pytest.raises(ValidationError) as error:
            validate_password(password, user=user)
        assert "password_reused" in {item.code for item in error.value.error_list}
    validate_password(used[0], user=user)  # six back: allowed again


def test_every_account_changes_its_password_on_its_own_page(client, world):
    with_password(world.secretary_a1, "Old-Password-1")
    client.force_login(world.secretary_a1)
    url = reverse("administration:password_change")
    bad = client.post(url, {"old_password": "Old-Password-1", "new_password1": "short", "new_password2": "short"})
    assert bad.status_code == 400
    response = client.post(
        url, {"old_password": "Old-Password-1", "new_password1": GOOD, "new_password2": GOOD, "next": "/matters/"}
    )
    assert response.status_code == 302 and response.url == "/matters/"
    world.secretary_a1.refresh_from_db()
    assert world.secretary_a1.check_password(GOOD)
    assert SecurityEvent.objects.filter(kind=EventKind.PASSWORD_CHANGED, actor=world.secretary_a1).exists()


def test_an_account_with_a_one_time_password_must_change_it_first(client, world):
    account, password = services.account_create(
        actor=world.system_admin, username="imported", last_name="导", first_name="入"
    )
    assert attempt(client, "imported", password).status_code == 302
    response = client.get(reverse("flows:inbox"))
    assert response.status_code == 302 and response.url.startswith(reverse("administration:password_change"))
    client.post(
        reverse("administration:password_change"),
        {"old_password": password, "new_password1": GOOD, "new_password2": GOOD},
    )
    assert not AccountProfile.objects.get(user=account).must_change_password
    assert client.get(reverse("flows:inbox")).status_code == 200


# --- two-factor login --------------------------------------------------------------------------------


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_township_posts_must_set_up_two_factor_login(client, world, settings):
    settings.MFA_REQUIRED = True
    with_password(world.officer_a)
    attempt(client, "officer_a", GOOD)
    response = client.get(reverse("flows:inbox"))
    assert response.url.startswith(reverse("administration:mfa_setup"))
    page = client.get(reverse("administration:mfa_setup"))
    assert page.status_code == 200 and "data:image/svg+xml" in page.content.decode()
    device = TOTPDevice.objects.get(user=world.officer_a, confirmed=False)
    assert client.post(reverse("administration:mfa_setup"), {"token": "000000"}).status_code == 400
    assert client.post(reverse("administration:mfa_setup"), {"token": "12"}).status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows repeated wrong codes down; a real user waits a second
    client.post(reverse("administration:mfa_setup"), {"token": code_for(device)})
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(reverse("flows:inbox")).status_code == 200
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {EventKind.MFA_ENROLLED, EventKind.MFA_FAILED} <= kinds


def test_a_login_with_a_device_asks_for_the_code(client, world, settings):
    settings.MFA_REQUIRED = True
    with_password(world.leader_a)
    device = TOTPDevice.objects.create(user=world.leader_a, name="TOTP", confirmed=True)
    attempt(client, "leader_a", GOOD)
    assert client.get(reverse("flows:inbox")).url.startswith(reverse("administration:mfa_verify"))
    assert client.post(reverse("administration:mfa_verify"), {"token": "123456"}).status_code == 400
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    response = client.post(reverse("administration:mfa_verify"), {"token": code_for(device), "next": "/matters/"})
    assert response.url == "/matters/"
    assert client.get(reverse("flows:inbox")).status_code == 200
    assert SecurityEvent.objects.filter(kind=EventKind.MFA_VERIFIED, actor=world.leader_a).exists()


def test_village_posts_may_go_without_two_factor_login(client, world, settings):
    settings.MFA_REQUIRED = True
    with_password(world.secretary_a1)
    attempt(client, "sec_a1", GOOD)
    assert client.get(reverse("flows:inbox")).status_code == 200


def test_a_village_post_that_set_it_up_is_asked_too(client, world, settings):
    settings.MFA_REQUIRED = True
    with_password(world.secretary_a1)
    TOTPDevice.objects.create(user=world.secretary_a1, name="TOTP", confirmed=True)
    attempt(client, "sec_a1", GOOD)
    assert client.get(reverse("flows:inbox")).url.startswith(reverse("administration:mfa_verify"))


def test_the_security_admin_resets_two_factor_login(client, world, settings):
    TOTPDevice.objects.create(user=world.leader_a, name="TOTP", confirmed=True)
    client.force_login(world.security_admin)
    client.post(reverse("administration:mfa_reset", args=[world.leader_a.pk]))
    assert not TOTPDevice.objects.filter(user=world.leader_a).exists()
    assert SecurityEvent.objects.filter(kind=EventKind.MFA_RESET, actor=world.security_admin).exists()


# --- sessions ----------------------------------------------------------------------------------------


def _age_session(client, **keys):
    session = client.session
    for key, moment in keys.items():
        session[key] = moment.isoformat()
    session.save()


def test_an_idle_session_ends_after_thirty_minutes(client, world):
    client.force_login(world.leader_a)
    assert client.get(reverse("flows:inbox")).status_code == 200
    _age_session(client, **{LAST_SEEN_KEY: timezone.now() - datetime.timedelta(minutes=31)})
    response = client.get(reverse("flows:inbox"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert SecurityEvent.objects.filter(kind=EventKind.SESSION_EXPIRED, actor=world.leader_a).exists()
    assert client.get(reverse("flows:inbox")).url.startswith(reverse("login"))


def test_a_busy_session_still_ends_after_twelve_hours(client, world):
    client.force_login(world.leader_a)
    _age_session(
        client,
        **{
            SESSION_STARTED_KEY: timezone.now() - datetime.timedelta(hours=12, minutes=1),
            LAST_SEEN_KEY: timezone.now(),
        },
    )
    response = client.get(reverse("flows:inbox"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_security_admin_ends_a_session(client, world):
    with_password(world.leader_a)
    leader = client.__class__()
    leader.post(LOGIN, {"username": "leader_a", "password": GOOD})
    assert leader.get(reverse("flows:inbox")).status_code == 200
    client.force_login(world.security_admin)
    tracked = client.get(reverse("administration:sessions")).context["sessions"]
    target = next(session for session in tracked if session.user_id == world.leader_a.pk)
    client.post(reverse("administration:session_end", args=[target.pk]))
    assert leader.get(reverse("flows:inbox")).status_code == 302
    assert SecurityEvent.objects.filter(kind=EventKind.SESSION_ENDED).exists()


def test_the_security_admin_tightens_the_policy_but_never_below_level_three(client, world):
    client.force_login(world.security_admin)
    url = reverse("administration:policy")
    values = {
        "min_password_length": 12,
        "password_history": 5,
        "failure_limit": 3,
        "lockout_minutes": 30,
        "idle_minutes": 15,
        "absolute_hours": 8,
    }
    assert client.post(url, values).status_code == 302
    assert SecurityPolicy.objects.get().failure_limit == 3
    for loose in ({"failure_limit": 10}, {"min_password_length": 6}, {"idle_minutes": 60}, {"absolute_hours": 24}):
        assert client.post(url, {**values, **loose}).status_code == 400
    assert SecurityPolicy.objects.get().idle_minutes == 15
    assert SecurityEvent.objects.filter(kind=EventKind.POLICY_CHANGED).count() == 1
