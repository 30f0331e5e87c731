"""Witnesses: they fetch heads, check consistency with the last one they saw, countersign, and catch a fork."""

import json
import urllib.error
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from documents.ledger_verify import ledger_verify
from documents.models import LedgerEntry, TreeHead, Witness, WitnessCosignature
from documents.sequencer import publish_head, root_at, sequence_pending
from documents.signing import signers, split_note
from documents.witness import ForkDetected, WitnessRejected, witness_public_key, witness_run
from organizations.models import OrganizationKind
from registers.models import EarlyWarning, WarningLevel, WarningRule
from tests.documents.test_ledger import append, rebuild_tree, rehash
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

NAME = "witness.county.example/1"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def client(client):
    # A request through the test client activates its language for the thread: keep it English.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def witness_key() -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    Witness.objects.create(name=NAME, description="示范县纪委监委", public_key=witness_public_key(key))
    return key


def through_the_site(client: Client):
    """The witness's HTTP calls, answered by the site's own views."""

    def fetch(url: str, data: bytes | None) -> bytes:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if data is None:
            response = client.get(path)
        else:
            response = client.post(path, data=data, content_type="text/plain")
        if response.status_code >= 400:
            raise urllib.error.HTTPError(url, response.status_code, response.content.decode(), {}, None)
        return response.content

    return fetch


def run(witness_key, tmp_path, client):
    return witness_run(
        log_url="https://sanzi.example",
        state_dir=tmp_path / "state",
        name=NAME,
        private_key=witness_key,
        log_keys=[signer.public for signer in signers()],
        fetch=through_the_site(client),
    )


def grow(count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        append(number)
    sequence_pending()


def rewrite_history_and_resign(size: int) -> None:
    """The key holder equivocates: an old leaf rewritten, the tree rebuilt, the heads signed again."""
    old = LedgerEntry.objects.get(seq=2)
    rehash(old, {**old.payload, "forged": True})
    rebuild_tree()
    TreeHead.objects.all().delete()
    publish_head(size=size, root=root_at(size))


def test_a_witness_cosigns_the_first_head_it_sees_and_the_site_shows_it(witness_key, tmp_path, client, world):
    grow(5)
    outcome = run(witness_key, tmp_path, client)
    head = TreeHead.objects.order_by("-size").first()
    assert (outcome.size, outcome.previous_size) == (head.size, None)
    cosignature = WitnessCosignature.objects.get(head=head)
    assert cosignature.witness.name == NAME
    assert (tmp_path / "state").iterdir()
    checkpoint = client.get(reverse("documents:ledger_checkpoint")).content.decode()
    assert cosignature.line in checkpoint, "the published checkpoint carries the cosignature"
    client.force_login(world.inspector)
    content = client.get(reverse("documents:ledger")).content.decode()
    assert "示范县纪委监委" in content
    assert ledger_verify().ok


def test_a_witness_checks_consistency_before_cosigning_a_larger_head(witness_key, tmp_path, client, db):
    grow(3)
    run(witness_key, tmp_path, client)
    grow(6, start=3)
    outcome = run(witness_key, tmp_path, client)
    assert outcome.previous_size == 3 and outcome.size > 3
    assert WitnessCosignature.objects.count() == 2


def test_a_rewritten_history_is_a_fork_the_witness_reports_as_a_red_warning(witness_key, tmp_path, client, world):
    grow(4)
    run(witness_key, tmp_path, client)
    seen = TreeHead.objects.order_by("-size").first().size
    rewrite_history_and_resign(seen)
    grow(3, start=10)
    with pytest.raises(ForkDetected, match="does not extend"):
        run(witness_key, tmp_path, client)
    warning = EarlyWarning.objects.get(rule=WarningRule.LEDGER_FORK)
    assert warning.level == WarningLevel.RED
    assert warning.organization == world.county
    assert f"{seen}" in warning.title
    assert "sanzi-approvals.local/ledger" in warning.detail, "both checkpoints are kept as evidence"
    assert ledger_verify().ok, "re-signed with the real key the log agrees with itself: only a witness can tell"


def test_two_heads_for_one_size_are_a_fork(witness_key, tmp_path, client, world):
    grow(4)
    run(witness_key, tmp_path, client)
    seen = TreeHead.objects.order_by("-size").first().size
    rewrite_history_and_resign(seen)
    with pytest.raises(ForkDetected, match="another root"):
        run(witness_key, tmp_path, client)
    assert EarlyWarning.objects.filter(rule=WarningRule.LEDGER_FORK, level=WarningLevel.RED).exists()


def test_a_fork_is_a_red_warning_in_every_county_of_the_installation(witness_key, tmp_path, client, world):
    second_county = OrganizationFactory(kind=OrganizationKind.COUNTY, name="北岭县", code="BL", parent=None)
    grow(4)
    run(witness_key, tmp_path, client)
    seen = TreeHead.objects.order_by("-size").first().size
    rewrite_history_and_resign(seen)
    with pytest.raises(ForkDetected):
        run(witness_key, tmp_path, client)
    warned = EarlyWarning.objects.filter(rule=WarningRule.LEDGER_FORK, level=WarningLevel.RED)
    assert set(warned.values_list("organization", flat=True)) == {world.county.pk, second_county.pk}


def test_a_shrunk_log_is_a_fork(witness_key, tmp_path, client, world):
    grow(6)
    run(witness_key, tmp_path, client)
    TreeHead.objects.all().delete()
    publish_head(size=3, root=root_at(3))
    with pytest.raises(ForkDetected, match="shrank"):
        run(witness_key, tmp_path, client)
    # The site holds every leaf still, so it refuses the report; the witness fails loudly all the same.
    assert not EarlyWarning.objects.filter(rule=WarningRule.LEDGER_FORK).exists()


def test_a_checkpoint_not_signed_by_the_log_key_is_refused(witness_key, tmp_path, client, db):
    grow(2)
    other = Ed25519PrivateKey.generate()
    from documents.signing import Signer

    stranger = Signer(name="sanzi-approvals.local/ledger", algorithm="ed25519", private=other)
    with pytest.raises(WitnessRejected, match="not signed"):
        witness_run(
            log_url="https://sanzi.example",
            state_dir=tmp_path / "state",
            name=NAME,
            private_key=witness_key,
            log_keys=[stranger.public],
            fetch=through_the_site(client),
        )
    assert not WitnessCosignature.objects.exists()


def test_the_site_refuses_a_cosignature_of_an_unknown_witness_or_a_bad_signature(witness_key, client, db):
    from documents.signing import cosign

    grow(2)
    head = TreeHead.objects.order_by("-size").first()
    body = split_note(head.note)[0]
    url = reverse("documents:witness_cosign")
    unknown = cosign(name="nobody.example/1", private=Ed25519PrivateKey.generate(), body=body, timestamp=1)
    assert client.post(url, data=body + "\n" + unknown.line, content_type="text/plain").status_code == 403
    forged = cosign(name=NAME, private=Ed25519PrivateKey.generate(), body=body, timestamp=1)
    assert client.post(url, data=body + "\n" + forged.line, content_type="text/plain").status_code == 403
    assert not WitnessCosignature.objects.exists()


def test_the_site_refuses_a_fork_report_that_shows_no_fork(witness_key, client, db):
    grow(3)
    first = TreeHead.objects.order_by("size").first().note
    grow(2, start=3)
    second = TreeHead.objects.order_by("-size").first().note
    url = reverse("documents:witness_fork")
    report = json.dumps({"witness": NAME, "first": first, "second": second})
    assert client.post(url, data=report, content_type="text/plain").status_code == 403
    assert not EarlyWarning.objects.filter(rule=WarningRule.LEDGER_FORK).exists()


def test_consistency_endpoint_checks_its_sizes(client, db):
    grow(5)
    url = reverse("documents:ledger_consistency")
    assert client.get(url, {"old": 2, "new": 5}).status_code == 200
    assert client.get(url, {"old": 0, "new": 5}).status_code == 400
    assert client.get(url, {"old": 2, "new": 500}).status_code == 400
    assert client.get(url, {"old": "x"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_the_witness_command_over_http_cosigns_then_catches_a_fork(live_server, tmp_path):
    from tests.conftest import build_world

    build_world()
    grow(4)
    key_file = tmp_path / "witness.pem"
    call_command("ledger_keygen", "--out", str(key_file))
    from documents.witness import load_witness_key

    Witness.objects.create(
        name=NAME, description="示范县纪委监委", public_key=witness_public_key(load_witness_key(key_file))
    )
    arguments = [
        "--log",
        live_server.url,
        "--name",
        NAME,
        "--key",
        str(key_file),
        "--state",
        str(tmp_path / "state"),
        "--log-key",
        signers()[0].public.vkey,
    ]
    call_command("ledger_witness", *arguments)
    assert WitnessCosignature.objects.count() == 1
    rewrite_history_and_resign(TreeHead.objects.order_by("-size").first().size)
    with pytest.raises(CommandError, match="FORK"):
        call_command("ledger_witness", *arguments)
    assert EarlyWarning.objects.filter(rule=WarningRule.LEDGER_FORK, level=WarningLevel.RED).exists()
