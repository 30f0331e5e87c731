"""The tamper-evident log: appending, what it records, and every way of tampering with it being caught."""

import datetime
import hashlib
import io
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import translation
from PIL import Image

from documents.ledger import (
    GENESIS_HASH,
    canonical_json,
    checkpoint_create,
    entry_hash_of,
    ledger_append,
    ledger_verify,
    ledger_verify_matter,
    ledger_verify_pdf,
    ledger_verify_upto,
    payload_hash_of,
)
from documents.ledger_tasks import ledger_checkpoint_task
from documents.merkle import merkle_root
from documents.models import Checkpoint, Evidence, LedgerEntry, LedgerKind, RenderedDocument
from documents.services import evidence_store
from flows.models import Decision, Matter, Step, StepRecord
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
        kind=LedgerKind.DECISION, object_type="Test", object_id=str(number), payload={"n": number, **payload}
    )


def last_seq() -> int:
    return LedgerEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def entries_after(seq: int) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(seq__gt=seq).order_by("seq"))


def proposed(world):
    """A matter with two decisions in the log (applied, proposed): enough for most checks, and quick."""
    matter = apply_purchase(world)
    act(world.secretary_a1, matter)
    return matter


def rewrite_from(seq: int, payload: dict) -> None:
    """What a careful forger does: change one entry, then recompute every hash after it so the chain holds."""
    entries = list(LedgerEntry.objects.filter(seq__gte=seq).order_by("seq"))
    previous = LedgerEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else GENESIS_HASH
    for index, entry in enumerate(entries):
        if index == 0:
            entry.payload = payload
            entry.payload_hash = payload_hash_of(payload)
        entry.prev_hash = previous
        entry.entry_hash = entry_hash_of(
            seq=entry.seq,
            kind=entry.kind,
            object_type=entry.object_type,
            object_id=entry.object_id,
            payload_hash=entry.payload_hash,
            prev_hash=previous,
        )
        LedgerEntry.objects.filter(pk=entry.pk).update(
            payload=entry.payload, payload_hash=entry.payload_hash, prev_hash=previous, entry_hash=entry.entry_hash
        )
        previous = entry.entry_hash


# --- appending ---------------------------------------------------------------------


def test_first_entry_follows_the_genesis_hash_and_each_entry_its_predecessor(db):
    first = append(1)
    second = append(2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH == "0" * 64
    assert second.prev_hash == first.entry_hash
    payload_hash = hashlib.sha256(b'{"n":2}').hexdigest()
    expected = hashlib.sha256(f"2|decision|Test|2|{payload_hash}|{first.entry_hash}".encode()).hexdigest()
    assert second.entry_hash == expected
    result = ledger_verify()
    assert (result.ok, result.checked, result.first_bad_seq) == (True, 2, None)


def test_payload_is_hashed_in_canonical_form_with_decimals_and_dates_as_text(db):
    payload = {"b": Decimal("8000.00"), "a": "柳树村", "on": datetime.date(2026, 3, 1)}
    assert canonical_json(payload) == '{"a":"柳树村","b":"8000.00","on":"2026-03-01"}'
    entry = ledger_append(kind=LedgerKind.REGISTER, object_type="Test", object_id="1", payload=payload)
    entry.refresh_from_db()
    assert entry.payload == {"a": "柳树村", "b": "8000.00", "on": "2026-03-01"}
    assert entry.payload_hash == hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def test_appended_entries_verify(world):
    start = last_seq()
    for number in range(5):
        append(number)
    result = ledger_verify()
    assert result.ok, result.reason
    assert result.checked == start + 5
    assert result.first_bad_seq is None


def test_a_rolled_back_step_leaves_no_entry(world):
    matter = apply_purchase(world)
    before = last_seq()
    with pytest.raises(RuntimeError), transaction.atomic():
        act(world.secretary_a1, matter)
        assert last_seq() > before
        raise RuntimeError("the caller's transaction fails after the step")
    assert last_seq() == before
    act(world.secretary_a1, matter)
    assert ledger_verify().ok


# --- tampering -----------------------------------------------------------------------


def test_a_changed_payload_is_detected_and_named(world):
    entry = append(1, opinion="同意")
    append(2)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload={"n": 1, "opinion": "不同意"})
    result = ledger_verify()
    assert not result.ok
    assert result.first_bad_seq == entry.seq
    assert f"#{entry.seq}" in result.reason
    assert "content no longer matches" in result.reason
    assert result.checked == entry.seq - 1


def test_a_changed_entry_hash_is_detected_and_named(world):
    entry = append(1)
    append(2)
    LedgerEntry.objects.filter(pk=entry.pk).update(entry_hash="f" * 64)
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)
    assert "hash does not match" in result.reason


def test_a_changed_payload_hash_with_its_payload_is_detected(world):
    entry = append(1)
    append(2)
    forged = {"n": 99}
    LedgerEntry.objects.filter(pk=entry.pk).update(payload=forged, payload_hash=payload_hash_of(forged))
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)


def test_a_deleted_entry_is_detected_and_the_missing_seq_named(world):
    append(1)
    gone = append(2)
    append(3)
    LedgerEntry.objects.filter(pk=gone.pk).delete()
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, gone.seq)
    assert f"Entry #{gone.seq} is missing" in result.reason


def test_reordered_entries_are_detected(world):
    first = append(1)
    second = append(2)
    append(3)
    LedgerEntry.objects.filter(pk=first.pk).update(seq=10**9)
    LedgerEntry.objects.filter(pk=second.pk).update(seq=first.seq)
    LedgerEntry.objects.filter(pk=first.pk).update(seq=second.seq)
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, first.seq)
    assert "reordered" in result.reason


def test_an_entry_moved_to_another_matter_is_detected(world):
    matter = apply_purchase(world)
    other = apply_purchase(world, title="另一事项")
    entry = LedgerEntry.objects.filter(matter=matter, kind=LedgerKind.DECISION).first()
    LedgerEntry.objects.filter(pk=entry.pk).update(matter=other)
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)


# --- checkpoints ---------------------------------------------------------------------


def test_checkpoint_root_is_the_merkle_root_of_the_entry_hashes(world):
    for number in range(6):
        append(number)
    checkpoint = checkpoint_create()
    hashes = list(LedgerEntry.objects.order_by("seq").values_list("entry_hash", flat=True))
    assert checkpoint.last_seq == checkpoint.entry_count == len(hashes)
    assert checkpoint.merkle_root == merkle_root([bytes.fromhex(value) for value in hashes]).hex()
    assert checkpoint.last_entry_hash == hashes[-1]
    assert checkpoint_create() is None, "no new entries, no new checkpoint"
    append(7)
    assert checkpoint_create().last_seq == len(hashes) + 1
    assert ledger_verify().ok


def test_no_checkpoint_for_an_empty_log(db):
    assert checkpoint_create() is None
    assert not Checkpoint.objects.exists()


def test_a_change_before_a_checkpoint_is_detected(world):
    entry = append(1)
    append(2)
    checkpoint_create()
    append(3)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload={"n": 1, "forged": True})
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)


def test_a_recomputed_chain_is_caught_by_the_checkpoint(world):
    append(1)
    first_checkpoint = checkpoint_create()
    entry = append(2)
    append(3)
    second_checkpoint = checkpoint_create()
    append(4)
    rewrite_from(entry.seq, {"n": 2, "forged": True})
    assert ledger_verify_upto(seq=first_checkpoint.last_seq).ok, "entries under the first checkpoint are untouched"
    result = ledger_verify()
    assert not result.ok
    assert result.first_bad_seq == first_checkpoint.last_seq + 1
    assert f"#{second_checkpoint.last_seq}" in result.reason
    assert "checkpoint" in result.reason


def test_entries_deleted_from_the_end_are_caught_by_the_checkpoint(world):
    append(1)
    append(2)
    checkpoint = checkpoint_create()
    LedgerEntry.objects.filter(seq=checkpoint.last_seq).delete()
    result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, checkpoint.last_seq)
    assert "deleted from the end" in result.reason


def test_a_broken_log_is_not_checkpointed(world):
    entry = append(1)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload={"n": 2})
    with pytest.raises(ValidationError, match="content no longer matches"):
        checkpoint_create()
    assert not Checkpoint.objects.exists()


def test_checkpoint_task_seals_the_log(world):
    append(1)
    root = ledger_checkpoint_task.delay().get()
    assert Checkpoint.objects.get().merkle_root == root
    assert ledger_checkpoint_task.delay().get() is None


# --- what the signals record -----------------------------------------------------------


def test_every_step_of_an_archived_matter_is_in_the_log_and_verifies(world):
    matter = run_to_end(world, apply_purchase(world, total="50000.00", quotations=3))
    assert matter.archive_number
    records = list(StepRecord.objects.filter(matter=matter))
    assert len(records) > 8
    logged = LedgerEntry.objects.filter(matter=matter, kind=LedgerKind.DECISION, object_type="StepRecord")
    assert sorted(int(pk) for pk in logged.values_list("object_id", flat=True)) == sorted(r.pk for r in records)
    archive_entry = logged.get(object_id=str(matter.step_records.get(step=Step.ARCHIVE).pk))
    assert archive_entry.payload["decision"] == Decision.DONE
    assert archive_entry.payload["opinion"] == matter.archive_number
    assert ledger_verify().ok
    result = ledger_verify_matter(matter=matter)
    assert result.ok, result.reason


def test_decision_entry_records_who_decided_what_and_when(world):
    matter = apply_purchase(world)
    record = act(world.secretary_a1, matter, opinion="同意提议")
    entry = LedgerEntry.objects.get(object_type="StepRecord", object_id=str(record.pk))
    assert entry.kind == LedgerKind.DECISION
    assert entry.matter_id == matter.pk
    assert entry.payload["matter"] == matter.pk
    assert entry.payload["step"] == Step.PROPOSE
    assert entry.payload["decision"] == Decision.AGREE
    assert entry.payload["opinion"] == "同意提议"
    assert entry.payload["actor"] == world.secretary_a1.username
    assert entry.payload["acted_at"] == record.acted_at.astimezone(datetime.UTC).isoformat()
    assert entry.payload["meeting"] is None


def test_a_step_record_opinion_edited_in_the_database_is_caught(world):
    matter = proposed(world)
    record = matter.step_records.get(step=Step.PROPOSE)
    StepRecord.objects.filter(pk=record.pk).update(opinion="不同意")
    assert ledger_verify().ok, "the log itself is untouched"
    result = ledger_verify_matter(matter=matter)
    entry = LedgerEntry.objects.get(object_type="StepRecord", object_id=str(record.pk))
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)
    assert "opinion" in result.reason
    assert f"#{entry.seq}" in result.reason


def test_a_step_record_added_behind_the_systems_back_is_caught(world):
    matter = proposed(world)
    StepRecord.objects.bulk_create([StepRecord(matter=matter, step=Step.IMPLEMENT, decision=Decision.DONE)])
    result = ledger_verify_matter(matter=matter)
    assert not result.ok
    assert "not in the log" in result.reason


def test_a_deleted_step_record_is_caught(world):
    matter = proposed(world)
    record = matter.step_records.get(step=Step.PROPOSE)
    StepRecord.history.filter(id=record.pk).delete()
    StepRecord.objects.filter(pk=record.pk).delete()
    result = ledger_verify_matter(matter=matter)
    assert not result.ok
    assert "deleted" in result.reason


def test_a_matter_check_rests_on_the_chain_before_it(world):
    append(1)
    early = append(2)
    matter = proposed(world)
    LedgerEntry.objects.filter(pk=early.pk).update(payload={"n": 0})
    result = ledger_verify_matter(matter=matter)
    assert (result.ok, result.first_bad_seq) == (False, early.seq)


def test_an_archived_file_is_logged_and_its_content_checked(world):
    matter = apply_purchase(world)
    upload = SimpleUploadedFile("报价单.png", PNG_BYTES, content_type="image/png")
    evidence = evidence_store(matter=matter, step=Step.APPLY, upload=upload, user=world.secretary_a1)
    entry = LedgerEntry.objects.get(object_type="Evidence", object_id=str(evidence.pk))
    assert entry.kind == LedgerKind.FILE
    assert entry.payload["sha256"] == hashlib.sha256(PNG_BYTES).hexdigest()
    assert entry.payload["name"] == "报价单.png"
    assert entry.payload["uploaded_by"] == world.secretary_a1.username
    assert ledger_verify_matter(matter=matter).ok
    assert ledger_verify_pdf(data=PNG_BYTES).entry == entry

    with evidence.file.storage.open(evidence.file.name, "wb") as handle:
        handle.write(PNG_BYTES + b"forged")
    result = ledger_verify_matter(matter=matter)
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)
    assert "replaced" in result.reason

    Evidence.objects.filter(pk=evidence.pk).update(sha256="0" * 64)
    result = ledger_verify_matter(matter=matter, check_files=False)
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)
    assert "sha256" in result.reason


def test_register_changes_are_logged_with_the_fields_that_changed(world):
    account = FundAccount.objects.create(organization=world.collective_a1, name="基本户", opening_balance="100.00")
    created = LedgerEntry.objects.filter(object_type="FundAccount", object_id=str(account.pk)).get()
    assert created.kind == LedgerKind.REGISTER
    assert created.payload["model"] == "registers.FundAccount"
    assert created.payload["history_type"] == "+"
    assert created.payload["fields"]["opening_balance"] == "100.00"
    assert created.payload["fields"]["name"] == "基本户"
    assert created.matter_id is None

    account.name = "基本存款户"
    account.save()
    changed = LedgerEntry.objects.filter(object_type="FundAccount", object_id=str(account.pk)).last()
    assert changed.payload["history_type"] == "~"
    assert changed.payload["fields"] == {"name": "基本存款户"}
    assert ledger_verify().ok


def test_a_register_row_of_a_matter_edited_in_the_database_is_caught(world):
    matter = run_to_end(world, apply_purchase(world))
    asset = Asset.objects.get(source_matter=matter)
    entry = LedgerEntry.objects.filter(matter=matter, object_type="Asset", object_id=str(asset.pk)).last()
    assert entry is not None and entry.kind == LedgerKind.REGISTER
    assert ledger_verify_matter(matter=matter).ok
    Asset.objects.filter(pk=asset.pk).update(original_value=Decimal("1.00"))
    result = ledger_verify_matter(matter=matter)
    assert (result.ok, result.first_bad_seq) == (False, entry.seq)
    assert "original_value" in result.reason


def test_share_ledger_rows_are_logged(world):
    member = world.members_a1[0]
    row = ShareLedgerEntry.objects.create(
        organization=world.collective_a1,
        member=member,
        kind=ShareKind.POPULATION,
        change=3,
        reason=ShareReason.ALLOCATION,
    )
    entry = LedgerEntry.objects.get(object_type="ShareLedgerEntry", object_id=str(row.pk))
    assert entry.kind == LedgerKind.REGISTER
    assert entry.payload["fields"]["change"] == 3
    assert entry.payload["fields"]["member_id"] == member.pk


# --- a PDF against the log -------------------------------------------------------------


def archived_dossier(world, pdf: bytes = b"%PDF-1.7 dossier") -> RenderedDocument:
    """A rendered dossier and its ledger entry, as the rendering helper leaves them."""
    matter = proposed(world)
    Matter.objects.filter(pk=matter.pk).update(archive_number="A1-JJ-2026-000001")
    matter.refresh_from_db()
    digest = hashlib.sha256(pdf).hexdigest()
    document = RenderedDocument(
        kind=RenderedDocument.Kind.DOSSIER, matter=matter, status="done", sha256=digest, verification_code="ABCD-1234"
    )
    document.pdf.save("dossier.pdf", ContentFile(pdf), save=False)
    document.save()
    ledger_append(
        kind=LedgerKind.DOSSIER,
        object_type="RenderedDocument",
        object_id=str(document.pk),
        matter=matter,
        payload={"sha256": digest, "verification_code": document.verification_code},
    )
    return document


def test_a_dossier_pdf_is_found_in_the_log_and_verified(world):
    document = archived_dossier(world)
    result = ledger_verify_pdf(data=b"%PDF-1.7 dossier")
    assert result.ok, result.reason
    assert result.matter == document.matter
    assert result.document == document
    assert result.entry.kind == LedgerKind.DOSSIER
    assert ledger_verify_matter(matter=document.matter).ok


def test_an_unknown_or_altered_pdf_is_not_verified(world):
    archived_dossier(world)
    result = ledger_verify_pdf(data=b"%PDF-1.7 dossier, altered")
    assert not result.ok
    assert result.entry is None
    assert "not in the log" in result.reason


def test_a_pdf_is_not_verified_when_the_chain_before_it_is_broken(world):
    early = append(1)
    document = archived_dossier(world)
    LedgerEntry.objects.filter(pk=early.pk).update(payload={"n": 5})
    result = ledger_verify_pdf(data=b"%PDF-1.7 dossier")
    assert (result.ok, result.first_bad_seq) == (False, early.seq)
    assert result.matter == document.matter


# --- the commands ---------------------------------------------------------------------


def test_verify_command_says_ok_and_exits_zero(world, capsys):
    append(1)
    call_command("verify_ledger")
    assert "OK" in capsys.readouterr().out


def test_verify_command_names_the_first_bad_entry_and_exits_non_zero(world):
    entry = append(1)
    append(2)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload={"n": 3})
    with pytest.raises(CommandError, match=f"#{entry.seq}") as caught:
        call_command("verify_ledger")
    assert caught.value.returncode == 1


def test_verify_command_checks_one_matter(world, capsys):
    matter = proposed(world)
    call_command("verify_ledger", matter=matter.pk)
    assert "OK" in capsys.readouterr().out
    StepRecord.objects.filter(matter=matter, step=Step.PROPOSE).update(opinion="改过")
    with pytest.raises(CommandError, match="opinion"):
        call_command("verify_ledger", "--matter", str(matter.pk))
    with pytest.raises(CommandError, match="no matter"):
        call_command("verify_ledger", "--matter", "999999")


def test_verify_command_checks_a_pdf(world, tmp_path, capsys):
    document = archived_dossier(world)
    good = tmp_path / "dossier.pdf"
    good.write_bytes(b"%PDF-1.7 dossier")
    call_command("verify_ledger", "--pdf", str(good))
    assert document.matter.archive_number in capsys.readouterr().out
    bad = tmp_path / "altered.pdf"
    bad.write_bytes(b"%PDF-1.7 altered")
    with pytest.raises(CommandError, match="not in the log"):
        call_command("verify_ledger", "--pdf", str(bad))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("verify_ledger", "--pdf", str(tmp_path / "missing.pdf"))


def test_checkpoint_command(world, capsys):
    append(1)
    call_command("ledger_checkpoint")
    assert Checkpoint.objects.get().merkle_root in capsys.readouterr().out
    call_command("ledger_checkpoint")
    assert "No new entries" in capsys.readouterr().out
    LedgerEntry.objects.filter(seq=1).update(payload={"forged": True})
    with pytest.raises(CommandError, match="#1"):
        call_command("ledger_checkpoint")


# --- concurrency (PostgreSQL) -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")
    barrier = threading.Barrier(2)
    errors = []

    def writer(name: str):
        try:
            barrier.wait()
            for number in range(20):
                with transaction.atomic():
                    ledger_append(
                        kind=LedgerKind.DECISION, object_type="Test", object_id=f"{name}{number}", payload={"n": number}
                    )
        except Exception as error:  # reported by the assertion below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 41))
    result = ledger_verify()
    assert (result.ok, result.checked) == (True, 40), result.reason
