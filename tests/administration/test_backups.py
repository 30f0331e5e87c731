"""Backups: the database and the files together, checksummed; the restore drill into a fresh database."""

import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from administration.backups import BackupError, backup_check, backup_create, backup_restore
from administration.models import EventKind, SecurityEvent
from documents.models import Evidence
from tests.conftest import build_world
from tests.drive import apply_purchase, run_to_end
from tests.views.conftest import PNG_BYTES

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def seeded(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world()
    matter = run_to_end(world, apply_purchase(world, total="8000.00"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    from documents.services import evidence_store

    evidence_store(
        matter=matter, step="apply", upload=SimpleUploadedFile("单据.png", PNG_BYTES), user=world.secretary_a1
    )
    return world, matter


def verify_ledger(database_url: str, media_root: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings.test",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "manage.py", "verify_ledger"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def fresh_postgres_database() -> tuple[str, str]:
    name = f"restore_{uuid.uuid4().hex[:10]}"
    params = connection.settings_dict
    admin_url = (
        f"postgresql://{params['USER']}{':' + params['PASSWORD'] if params['PASSWORD'] else ''}@"
        f"{params['HOST'] or 'localhost'}:{params['PORT'] or 5432}/postgres"
    )
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(name: str) -> None:
    params = connection.settings_dict
    admin_url = f"postgresql://{params['USER']}@{params['HOST'] or 'localhost'}:{params['PORT'] or 5432}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_restore_drill_restores_into_a_fresh_database_and_the_ledger_verifies(tmp_path, settings):
    seeded(tmp_path, settings)
    result = backup_create(directory=tmp_path / "backups")
    assert result.files >= 1 and result.vendor == connection.vendor
    manifest = backup_check(result.archive)
    assert any(name.startswith("media/evidence/") for name in manifest["members"])
    restored_media = tmp_path / "restored-media"
    if connection.vendor == "postgresql":
        name, url = fresh_postgres_database()
    else:
        name, url = None, f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    try:
        backup_restore(archive=result.archive, database_url=url, media_root=restored_media)
        evidence = Evidence.objects.get()
        assert (restored_media / evidence.file.name).read_bytes() == PNG_BYTES
        check = verify_ledger(url, restored_media)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "OK" in check.stdout
    finally:
        if name:
            drop_postgres_database(name)


def test_the_command_writes_an_archive_and_logs_it(tmp_path, settings):
    seeded(tmp_path, settings)
    call_command("backup", directory=str(tmp_path / "b"))
    archive = next((tmp_path / "b").glob("*.tar"))
    assert Path(f"{archive}.sha256").exists()
    assert SecurityEvent.objects.filter(kind=EventKind.BACKUP).exists()
    call_command("restore", str(archive), check_only=True)


def test_a_changed_archive_is_refused_before_anything_is_restored(tmp_path, settings):
    seeded(tmp_path, settings)
    result = backup_create(directory=tmp_path / "b")
    with open(result.archive, "r+b") as handle:
        handle.seek(600)
        handle.write(b"tampered")
    with pytest.raises(BackupError):
        backup_check(result.archive)
    with pytest.raises(CommandError):
        call_command(
            "restore", str(result.archive), database_url="sqlite:////nonexistent/x", media_root=str(tmp_path / "m")
        )
    assert not (tmp_path / "m").exists()


def test_a_member_that_does_not_match_the_manifest_is_refused(tmp_path, settings):
    seeded(tmp_path, settings)
    result = backup_create(directory=tmp_path / "b")
    rebuilt = tmp_path / "rebuilt.tar"
    with tarfile.open(result.archive) as source, tarfile.open(rebuilt, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member)
            if member.name.startswith("media/"):
                import io

                member.size = 3
                data = io.BytesIO(b"bad")
            target.addfile(member, data)
    os.replace(rebuilt, result.archive)
    from administration.backups import sha256_file

    Path(f"{result.archive}.sha256").write_text(f"{sha256_file(result.archive)}  x\n")
    with pytest.raises(BackupError, match="does not match its checksum"):
        backup_check(result.archive)


def test_restore_refuses_a_target_that_is_not_empty(tmp_path, settings):
    seeded(tmp_path, settings)
    result = backup_create(directory=tmp_path / "b")
    media = tmp_path / "full"
    media.mkdir()
    (media / "x").write_text("x")
    with pytest.raises(BackupError):
        backup_restore(archive=result.archive, database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}", media_root=media)


def test_the_backup_is_copied_to_the_object_store_with_its_checksum(tmp_path, settings, monkeypatch):
    """`backup --upload` against a real S3 server (SeaweedFS): the archive and its checksum, byte for byte."""
    from tests.seaweed import ACCESS_KEY, SECRET_KEY, seaweed_server

    seeded(tmp_path, settings)
    with seaweed_server() as store:
        bucket = store.new_bucket()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        settings.BACKUP_S3_BUCKET = bucket
        settings.BACKUP_S3_ENDPOINT_URL = store.endpoint
        call_command("backup", directory=str(tmp_path / "b"), upload=True)
        archive = next((tmp_path / "b").glob("*.tar"))
        keys = store.keys(bucket)
        assert [key.rsplit("/", 1)[1] for key in keys] == sorted([archive.name, f"{archive.name}.sha256"])
        stored = store.client().get_object(Bucket=bucket, Key=next(key for key in keys if key.endswith(".tar")))
        assert stored["Body"].read() == archive.read_bytes()


def test_an_upload_without_a_bucket_is_refused(tmp_path, settings):
    seeded(tmp_path, settings)
    settings.BACKUP_S3_BUCKET = ""
    with pytest.raises(CommandError, match="BACKUP_S3_BUCKET is not set"):
        call_command("backup", directory=str(tmp_path / "b"), upload=True)
