"""The authorisation sweep (tests/sweep.py) over every URL pattern and method, one test per persona."""

import dataclasses

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import World
from tests.sweep import build_victims, sweep_requests, url_patterns

pytestmark = pytest.mark.django_db
PERSONAS = [
    field.name
    for field in dataclasses.fields(World)
    if field.name not in {"county", "rule_version", "members_a1"}
    and not field.name.startswith(("township_", "village_", "collective_"))
]


def signed_in(world):
    """A client signed in as the persona, its second factor passed (the sweep runs with MFA required)."""

    def client_for(persona: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        if persona == "anonymous":
            return client
        user = getattr(world, persona)
        client.force_login(user)
        device, _created = TOTPDevice.objects.get_or_create(user=user, name="sweep", defaults={"confirmed": True})
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        return client

    return client_for


def test_the_sweep_sees_every_app():
    namespaces = {url.namespace for url in url_patterns()}
    assert {"flows", "board", "registers", "documents", "administration"} <= namespaces
    assert len(url_patterns()) > 60


@pytest.mark.parametrize("persona", ["anonymous", *PERSONAS])
def test_no_persona_reads_or_writes_outside_its_jurisdiction(world, persona, settings, tmp_path):
    settings.MFA_REQUIRED = True
    settings.MEDIA_ROOT = tmp_path / "media"
    victims = build_victims(world)
    assert isinstance(getattr(world, persona, None) or get_user_model()(), get_user_model())
    failures = list(sweep_requests(signed_in(world), world, persona, victims))
    assert not failures, "\n".join(failures)
