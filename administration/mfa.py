"""Two-factor login with TOTP (django-otp): who must have it, and setting it up."""

import base64

import segno
from django.conf import settings
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations.jurisdiction import user_posts

DEVICE_NAME = "TOTP"


def mfa_required(user) -> bool:
    """Township, county and administrator accounts (and the maintenance superuser) must pass a second factor."""
    if not settings.MFA_REQUIRED or user is None or not user.is_authenticated:
        return False
    return user.is_superuser or any(post.role in settings.MFA_REQUIRED_ROLES for post in user_posts(user))


def user_has_device(user) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being set up, made once and reused until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def device_secret(device: TOTPDevice) -> str:
    """The base32 secret an authenticator app takes when the QR code cannot be scanned."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def device_qr(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4)


def confirmed_devices(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True))
