"""The transparency log: leaves, the sequencer, signed heads, and every tampering of the sweep found by the check."""

import datetime
import hashlib
import io
import json
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import translation
from PIL import Image

from documents import merkle
from documents.coverage import REGISTRY
from documents.digests import sm3_hex
from documents.ledger import canonical_json, leaf_data, leaf_hashes_of, ledger_append
from documents.ledger_verify import latest_leaf, ledger_verify, ledger_verify_matter, ledger_verify_pdf, prove
from documents.models import LedgerEntry, LedgerKind, RenderedDocument, TreeHead, TreeNode
from documents.sequencer import sequence_pending, tree_size
from documents.services import evidence_store
from documents.signing import Signer, checkpoint_body, join_note, parse_checkpoint, signers, split_note
from flows.models import AssetPurchase, Decision, Matter, Step, StepRecord
from organizations.models import MeetingBody, MeetingRule
from registers.models import Asset, FundAccount, ShareKind, ShareLedgerEntry, ShareReason
from tests.drive import act, apply_purchase, run_to_end

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PNG_BYTES = png_bytes()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def english():
    """Reasons in the untranslated English the assertions quote."""
    with translation.override("en"):
        yield


def append(number: int, **payload) -> LedgerEntry:
    return ledger_append(
        kind=LedgerKind.DECISION, object_type="Test", object_id=f"t{number}", payload={"n": number, **payload}
    )


def proposed(world):
    """A matter with its application and proposal in the log: enough for most checks, and quick."""
    matter = apply_purchase(world)
    act(world.secretary_a1, matter)
    return matter


def verified() -> None:
    result = ledger_verify()
    assert result.ok, result.reason


def rehash(entry: LedgerEntry, payload: dict) -> None:
    """What a careful forger does to one leaf: new payload, every fingerprint of it recomputed."""
    canonical = canonical_json(payload).encode()
    entry.payload = json.loads(canonical)
    entry.payload_hash = hashlib.sha256(canonical).hexdigest()
    entry.payload_sm3 = sm3_hex(canonical)
    entry.leaf_hash, entry.leaf_sm3 = leaf_hashes_of(entry)
    LedgerEntry.objects.filter(pk=entry.pk).update(
        payload=entry.payload,
        payload_hash=entry.payload_hash,
        payload_sm3=entry.payload_sm3,
        leaf_hash=entry.leaf_hash,
        leaf_sm3=entry.leaf_sm3,
    )


def rebuild_tree() -> None:
    """The forger's next move: the stored tree recomputed from the forged leaves, and every head's root."""
    leaves = [bytes.fromhex(value) for value in LedgerEntry.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    TreeNode.objects.all().delete()
    TreeNode.objects.bulk_create(
        TreeNode(level=level, index=index, last_leaf=merkle.last_leaf_of(level, index), hash=value.hex())
        for (level, index), value in merkle.tree_from_leaves(leaves).items()
    )
    for head in TreeHead.objects.all():
        TreeHead.objects.filter(pk=head.pk).update(root_hash=merkle.mth(leaves[: head.size]).hex())


# --- leaves and the sequencer -------------------------------------------------------------


def test_a_leaf_is_written_without_a_position_and_hashed_as_rfc_9162_says(db):
    entry = append(1, opinion="同意")
    assert entry.seq is None
    data = leaf_data(entry)
    fields = json.loads(data)
    assert fields["payload_sha256"] == hashlib.sha256(b'{"n":1,"opinion":"\xe5\x90\x8c\xe6\x84\x8f"}').hexdigest()
    assert fields["uid"] == str(entry.uid) and fields["format"] == 1
    assert entry.leaf_hash == hashlib.sha256(b"\x00" + data).hexdigest()
    assert entry.leaf_sm3 == sm3_hex(b"\x00" + data)
    assert entry.payload_sm3 == sm3_hex(canonical_json({"n": 1, "opinion": "同意"}).encode())


def test_the_sequencer_places_leaves_in_batches_stores_the_tree_and_signs_a_head(db):
    entries = [append(number) for number in range(7)]
    assert sequence_pending(batch_size=3) == 7
    heads = list(TreeHead.objects.order_by("size"))
    assert [head.size for head in heads] == [3, 6, 7]
    entries = [LedgerEntry.objects.get(pk=entry.pk) for entry in entries]
    assert [entry.seq for entry in entries] == list(range(1, 8))
    leaves = [bytes.fromhex(entry.leaf_hash) for entry in entries]
    assert heads[-1].root_hash == merkle.mth(leaves).hex()
    stored = {(node.level, node.index): bytes.fromhex(node.hash) for node in TreeNode.objects.all()}
    assert stored == merkle.tree_from_leaves(leaves)
    body, signatures = split_note(heads[-1].note)
    checkpoint = parse_checkpoint(body)
    assert (checkpoint.size, checkpoint.root.hex()) == (7, heads[-1].root_hash)
    (signer,) = signers()
    assert signer.public.verify(body.encode(), signatures[0].signature)
    assert sequence_pending() == 0 and TreeHead.objects.count() == 3, "nothing new, no new head"


def test_a_proof_reads_only_the_nodes_it_needs(db, django_assert_max_num_queries):
    for number in range(40):
        append(number)
    sequence_pending()
    entry = LedgerEntry.objects.get(seq=13)
    with django_assert_max_num_queries(4):
        proof = prove(entry, keys=[signer.public for signer in signers()])
    assert proof.ok, proof.reason
    assert len(proof.path) == 6


def test_a_rolled_back_step_leaves_no_leaf(world):
    matter = apply_purchase(world)
    before = LedgerEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        act(world.secretary_a1, matter)
        assert LedgerEntry.objects.count() > before
        raise RuntimeError("the caller's transaction fails after the step")
    assert LedgerEntry.objects.count() == before


def test_the_sequencer_is_queued_once_after_a_commit(world, settings, django_capture_on_commit_callbacks):
    settings.LEDGER_SEQUENCE_ON_COMMIT = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        act(world.secretary_a1, apply_purchase(world))
    sequencer_callbacks = [callback for callback in callbacks if callback.__name__ == "_queue_sequencer"]
    assert len(sequencer_callbacks) == 1
    assert not LedgerEntry.objects.filter(seq__isnull=True).exists(), "the (eager) sequencer placed every leaf"


def test_sm2_heads_sign_and_verify(db, settings, tmp_path):
    settings.LEDGER_SIGNING_ALGORITHMS = ["ed25519", "sm2"]
    settings.LEDGER_SM2_KEY_FILE = str(tmp_path / "sm2.json")
    append(1)
    sequence_pending()
    head = TreeHead.objects.get()
    body, signatures = split_note(head.note)
    assert len(signatures) == 2
    _ed25519, sm2 = signers()
    assert sm2.algorithm == "sm2" and sm2.public.verify(body.encode(), signatures[1].signature)
    assert not sm2.public.verify(body.replace("\n1\n", "\n2\n").encode(), signatures[1].signature)
    verified()


# --- the sweep's tamperings, each found by the plain whole-log check ------------------------


def test_an_intact_archived_matter_verifies_and_every_record_is_covered(world):
    matter = run_to_end(world, apply_purchase(world, total="50000.00", quotations=3))
    assert matter.archive_number
    result = ledger_verify()
    assert result.ok, result.reason
    assert result.records > 30
    logged = LedgerEntry.objects.filter(matter=matter)
    for label in ("Matter", "StepRecord", "AssetPurchase", "PurchaseItem", "Quotation", "MeetingDecision", "Notice"):
        assert logged.filter(object_type=label).exists(), label
    assert LedgerEntry.objects.filter(object_type="Meeting").exists()
    assert ledger_verify_matter(matter=matter).ok


def test_a_ledger_row_edited_is_found(world):
    entry = append(1, opinion="同意")
    append(2)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload={"n": 1, "opinion": "不同意"})
    result = ledger_verify()
    entry.refresh_from_db()
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)
    assert "content no longer matches" in result.reason


def test_a_step_records_opinion_edited_is_found(world):
    matter = proposed(world)
    record = matter.step_records.get(step=Step.PROPOSE)
    StepRecord.objects.filter(pk=record.pk).update(opinion="不同意")
    result = ledger_verify()
    assert not result.ok
    assert (result.model, result.pk) == ("flows.StepRecord", record.pk)
    assert "opinion" in result.reason and f"no. {record.pk}" in result.reason


def test_one_byte_of_a_stored_scan_flipped_is_found(world, media_root):
    matter = apply_purchase(world)
    upload = SimpleUploadedFile("报价单.png", PNG_BYTES, content_type="image/png")
    evidence = evidence_store(matter=matter, step=Step.APPLY, upload=upload, user=world.secretary_a1)
    assert evidence.sm3 == sm3_hex(PNG_BYTES)
    verified()
    path = media_root / evidence.file.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = ledger_verify()
    assert not result.ok
    assert (result.model, result.pk) == ("documents.Evidence", evidence.pk)
    assert "stored file" in result.reason


def test_the_matters_amount_edited_is_found(world):
    matter = proposed(world)
    Matter.objects.filter(pk=matter.pk).update(amount=Decimal("1.00"))
    result = ledger_verify()
    assert (result.ok, result.model, result.pk) == (False, "flows.Matter", matter.pk)
    assert "amount" in result.reason


def test_an_application_row_edited_is_found(world):
    matter = proposed(world)
    AssetPurchase.objects.filter(matter=matter).update(chosen_supplier="另一家")
    result = ledger_verify()
    assert (result.ok, result.model) == (False, "flows.AssetPurchase")
    assert "chosen_supplier" in result.reason


def test_the_newest_entry_edited_and_rehashed_is_found(world):
    proposed(world)
    sequence_pending()
    newest = LedgerEntry.objects.order_by("-seq").first()
    rehash(newest, {**newest.payload, "forged": True})
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, newest.seq)
    assert "stored Merkle tree" in result.reason


def test_an_old_entry_edited_with_the_tree_and_head_roots_recomputed_is_found(world):
    append(1)
    old = append(2)
    sequence_pending()
    proposed(world)
    sequence_pending()
    old.refresh_from_db()
    rehash(old, {"n": 2, "forged": True})
    rebuild_tree()
    result = ledger_verify()
    assert not result.ok and result.first_bad_seq <= old.seq
    assert "differ from what was signed" in result.reason


def test_heads_re_signed_with_another_key_are_found(world):
    old = append(1)
    append(2)
    sequence_pending()
    rehash(LedgerEntry.objects.get(pk=old.pk), {"n": 1, "forged": True})
    rebuild_tree()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forger = Signer(name=signers()[0].name, algorithm="ed25519", private=Ed25519PrivateKey.generate())
    for head in TreeHead.objects.all():
        body = checkpoint_body(
            origin=forger.name,
            size=head.size,
            root=bytes.fromhex(head.root_hash),
            timestamp=int(head.timestamp.timestamp()),
        )
        TreeHead.objects.filter(pk=head.pk).update(note=join_note(body, [forger.sign_note(body)]))
    result = ledger_verify()
    assert not result.ok
    assert "valid signature of this log's key" in result.reason


def test_the_newest_entry_deleted_is_found(world):
    proposed(world)
    sequence_pending()
    newest = LedgerEntry.objects.order_by("-seq").first()
    LedgerEntry.objects.filter(pk=newest.pk).delete()
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, newest.seq)


def test_the_newest_entry_deleted_with_its_node_and_head_is_found_by_its_record(world):
    matter = proposed(world)
    sequence_pending()
    newest = LedgerEntry.objects.order_by("-seq").first()
    TreeNode.objects.filter(last_leaf=newest.seq - 1).delete()
    TreeHead.objects.filter(size=newest.seq).delete()
    LedgerEntry.objects.filter(pk=newest.pk).delete()
    result = ledger_verify()
    assert not result.ok, "the record it logged is still there"
    assert "not in the log" in result.reason or "no longer matches" in result.reason
    assert matter


def test_a_step_record_deleted_is_found(world):
    matter = proposed(world)
    record = matter.step_records.get(step=Step.PROPOSE)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM flows_historicalsteprecord WHERE id = %s", [record.pk])
        cursor.execute("DELETE FROM flows_steprecord WHERE id = %s", [record.pk])
    result = ledger_verify()
    assert (result.ok, result.model, result.pk) == (False, "flows.StepRecord", record.pk)
    assert "deleted outside the system" in result.reason


def test_a_step_record_deleted_through_the_orm_is_logged_and_still_refused(world):
    matter = proposed(world)
    record = matter.step_records.get(step=Step.PROPOSE)
    StepRecord.objects.filter(pk=record.pk).delete()
    deletion = LedgerEntry.objects.filter(object_type="StepRecord", object_pk=record.pk).order_by("-id").first()
    assert deletion.payload["deleted"] is True
    result = ledger_verify()
    assert (result.ok, result.model, result.pk) == (False, "flows.StepRecord", record.pk)
    assert "never deleted" in result.reason


def test_a_step_record_added_behind_the_systems_back_is_found(world):
    matter = proposed(world)
    StepRecord.objects.bulk_create([StepRecord(matter=matter, step=Step.IMPLEMENT, decision=Decision.DONE)])
    result = ledger_verify()
    assert (result.ok, result.model) == (False, "flows.StepRecord")
    assert "not in the log" in result.reason


def test_a_leaf_moved_to_another_matter_is_found(world):
    matter = proposed(world)
    other = apply_purchase(world, title="另一事项")
    entry = LedgerEntry.objects.filter(matter=matter, object_type="StepRecord").first()
    LedgerEntry.objects.filter(pk=entry.pk).update(matter=other)
    result = ledger_verify()
    assert not result.ok
    assert "hash does not match" in result.reason


def test_an_edited_stored_tree_node_is_found(world):
    for number in range(5):
        append(number)
    sequence_pending()
    TreeNode.objects.filter(level=1, index=1).update(hash="ab" * 32)
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_a_legitimate_change_is_logged_and_still_verifies(world):
    account = FundAccount.objects.create(organization=world.collective_a1, name="基本户", opening_balance="100.00")
    account.name = "基本存款户"
    account.save()
    leaves = LedgerEntry.objects.filter(object_type="FundAccount", object_pk=account.pk).order_by("id")
    assert [leaf.payload["fields"]["name"] for leaf in leaves] == ["基本户", "基本存款户"]
    assert leaves[0].kind == LedgerKind.REGISTER
    verified()


def test_meeting_attendance_is_covered(world):
    from tests.drive import hold_meeting

    matter = proposed(world)
    meeting = hold_meeting(world, matter)
    meeting = meeting if hasattr(meeting, "attendees") else meeting.meeting
    verified()
    meeting.attendees.remove(meeting.attendees.first())
    verified()  # through the model: logged
    through = type(meeting).attendees.through
    through.objects.filter(meeting=meeting).delete()  # behind its back: no signal
    result = ledger_verify()
    assert (result.ok, result.model) == (False, "flows.Meeting")
    assert "attendees" in result.reason


def test_share_ledger_rows_are_covered(world):
    row = ShareLedgerEntry.objects.create(
        organization=world.collective_a1,
        member=world.members_a1[0],
        kind=ShareKind.POPULATION,
        change=3,
        reason=ShareReason.ALLOCATION,
    )
    entry = LedgerEntry.objects.get(object_type="ShareLedgerEntry", object_pk=row.pk)
    assert entry.payload["fields"]["change"] == 3
    verified()


def test_a_register_row_of_a_matter_edited_is_found_by_the_matter_check(world):
    matter = run_to_end(world, apply_purchase(world))
    asset = Asset.objects.get(source_matter=matter)
    assert ledger_verify_matter(matter=matter).ok
    Asset.objects.filter(pk=asset.pk).update(original_value=Decimal("1.00"))
    result = ledger_verify_matter(matter=matter)
    assert (result.ok, result.model, result.pk) == (False, "registers.Asset", asset.pk)
    assert "original_value" in result.reason


# --- a file against the log -----------------------------------------------------------------


def stored_dossier(world, pdf: bytes = b"%PDF-1.7 dossier") -> RenderedDocument:
    matter = proposed(world)
    document = RenderedDocument(
        kind=RenderedDocument.Kind.DOSSIER,
        matter=matter,
        status="done",
        sha256=hashlib.sha256(pdf).hexdigest(),
        sm3=sm3_hex(pdf),
        verification_code="ABCD-1234",
    )
    document.pdf.save("dossier.pdf", ContentFile(pdf), save=False)
    document.save()
    return document


def test_a_dossier_pdf_is_found_in_the_log_and_proved_under_a_signed_head(world):
    document = stored_dossier(world)
    result = ledger_verify_pdf(data=b"%PDF-1.7 dossier")
    assert result.ok, result.reason
    assert result.document == document and result.matter == document.matter
    assert result.entry.kind == LedgerKind.DOSSIER
    assert ledger_verify_pdf(data=b"%PDF-1.7 altered").entry is None


def test_a_replaced_dossier_file_is_found(world, media_root):
    document = stored_dossier(world)
    (media_root / document.pdf.name).write_bytes(b"%PDF-1.7 forged")
    result = ledger_verify()
    assert (result.ok, result.model) == (False, "documents.RenderedDocument")


# --- the commands ---------------------------------------------------------------------------


def test_verify_command_says_ok_and_exits_zero(world, capsys):
    append(1)
    call_command("verify_ledger")
    assert "OK" in capsys.readouterr().out


def test_verify_command_names_the_first_bad_record_and_exits_non_zero(world):
    matter = proposed(world)
    Matter.objects.filter(pk=matter.pk).update(title="改过")
    with pytest.raises(CommandError, match="title") as caught:
        call_command("verify_ledger")
    assert caught.value.returncode == 1


def test_verify_command_checks_one_matter_and_a_pdf(world, tmp_path, capsys):
    document = stored_dossier(world)
    call_command("verify_ledger", matter=document.matter.pk)
    assert "OK" in capsys.readouterr().out
    good = tmp_path / "dossier.pdf"
    good.write_bytes(b"%PDF-1.7 dossier")
    call_command("verify_ledger", "--pdf", str(good))
    bad = tmp_path / "altered.pdf"
    bad.write_bytes(b"%PDF-1.7 altered")
    with pytest.raises(CommandError, match="not in the log"):
        call_command("verify_ledger", "--pdf", str(bad))
    with pytest.raises(CommandError, match="no matter"):
        call_command("verify_ledger", "--matter", "999999")


def test_sequence_command_places_and_signs(db, capsys):
    append(1)
    call_command("ledger_checkpoint")
    assert "1 entries" in capsys.readouterr().out
    assert tree_size() == 1 and TreeHead.objects.get().size == 1


def test_keygen_command_makes_a_key_once(tmp_path, capsys):
    path = tmp_path / "key.pem"
    call_command("ledger_keygen", "--out", str(path))
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    call_command("ledger_keygen", "--out", str(path), "--if-missing")
    with pytest.raises(CommandError, match="exists"):
        call_command("ledger_keygen", "--out", str(path))
    call_command("ledger_keygen", "--out", str(tmp_path / "sm2.json"), "--algorithm", "sm2")
    assert json.loads((tmp_path / "sm2.json").read_text())["algorithm"] == "sm2"


def test_moment_in_leaf_data_is_utc_with_microseconds(db):
    entry = append(1)
    fields = json.loads(leaf_data(entry))
    moment = datetime.datetime.fromisoformat(fields["recorded_at"])
    assert moment.utcoffset() == datetime.timedelta(0)


def test_a_field_added_to_a_covered_model_later_does_not_break_the_check(world, monkeypatch):
    """Another branch adds a field to StepRecord: rows logged before its migration still verify."""
    from documents import coverage as covered

    matter = proposed(world)
    record = matter.step_records.get(step=Step.PROPOSE)
    entry = LedgerEntry.objects.filter(object_type="StepRecord", object_pk=record.pk).latest("id")
    del entry.payload["fields"]["opinion"]  # as if "opinion" had been added after this leaf was written
    live = covered.comparable(
        covered.record_payload(
            covered.REGISTRY["flows.StepRecord"],
            StepRecord.objects.filter(pk=record.pk).values(
                *covered.value_columns(covered.REGISTRY["flows.StepRecord"])
            )[0],
            {},
            {},
        )
    )
    logged = covered.comparable(entry.payload)
    assert covered.as_logged_then(covered.REGISTRY["flows.StepRecord"], live, logged) != logged, (
        "a value other than the field's default is still a difference"
    )
    assert (
        covered.as_logged_then(
            covered.REGISTRY["flows.StepRecord"], {**live, "fields": {**live["fields"], "opinion": ""}}, logged
        )
        == logged
    )


def test_a_sealed_id_number_enters_the_log_only_as_a_keyed_hash(world):
    member = world.members_a1[0]
    leaf = LedgerEntry.objects.filter(object_type="Member", object_id=str(member.pk)).order_by("-pk").first()
    assert member.id_number not in canonical_json(leaf.payload), "the append-only log is never encrypted"
    logged = leaf.payload["fields"]["id_number"]
    assert logged and logged != member.id_number
    verified()


def test_a_sealed_id_number_changed_in_the_database_is_found(world):
    member = world.members_a1[0]
    other = world.members_a1[1]
    # The forger writes another member's (validly sealed) number into the row, leaving its index alone.
    type(member).objects.filter(pk=member.pk).update(id_number=other.id_number)
    result = ledger_verify()
    assert (result.ok, result.model, result.pk) == (False, "registers.Member", member.pk)
    assert "id_number" in result.reason


def test_a_meeting_rules_pass_fraction_is_in_the_log_and_an_edit_behind_it_is_found(world):
    rule = MeetingRule.objects.get(rule_version=world.rule_version, body=MeetingBody.MEMBER_ASSEMBLY)
    fields = latest_leaf(REGISTRY["organizations.MeetingRule"], rule.pk).payload["fields"]
    assert (fields["pass_numerator"], fields["pass_denominator"], fields["pass_inclusive"]) == (2, 3, True)
    assert ledger_verify().ok
    MeetingRule.objects.filter(pk=rule.pk).update(pass_numerator=1, pass_denominator=2, pass_inclusive=False)
    result = ledger_verify()
    assert not result.ok
    assert (result.model, result.pk) == ("organizations.MeetingRule", rule.pk)
    assert "pass_numerator" in result.reason
