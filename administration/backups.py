"""Backups of the database and the uploaded files together, checksummed, and their restore.

An archive (``sanzi-backup-<time>.tar``) holds the database in its engine's own form (SQLite's online
backup, or ``pg_dump --format=custom`` for PostgreSQL: triggers, sequences and all), the media folder,
and ``manifest.json`` with the SHA-256 of every member. Beside it, ``<archive>.sha256`` holds the
archive's own digest. A restore checks both before it touches anything, then loads the database into
the target (a new, empty SQLite file or PostgreSQL database) and the files into the target media folder.
Copying the archive to an object store is optional (``BACKUP_S3_BUCKET``, needs boto3).
"""

import datetime
import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
CHUNK = 1 << 20


class BackupError(Exception):
    """The archive is incomplete, altered, or cannot be restored here."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    sha256: str
    files: int
    vendor: str


def _dump_database(target: Path) -> str:
    vendor = connection.vendor
    if vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        copy.close()
    elif vendor == "postgresql":
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), _pg_url(connection.settings_dict)],
            check=True,
        )
    else:
        raise BackupError(f"no backup for the {vendor} engine")
    return vendor


def _pg_url(settings_dict: dict, name: str | None = None) -> str:
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or 5432
    return f"postgresql://{auth}{host}:{port}/{name or settings_dict['NAME']}"


def backup_create(*, directory: Path | None = None) -> BackupResult:
    """Write one archive of the database and the media folder; returns where, its digest and the file count."""
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
    archive = directory / f"sanzi-backup-{stamp}.tar"
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / "database"
        vendor = _dump_database(dump)
        members = {DATABASE_MEMBER[vendor]: sha256_file(dump)}
        media_files = sorted(path for path in media_root.rglob("*") if path.is_file()) if media_root.exists() else []
        with tarfile.open(archive, "w") as tar:
            tar.add(dump, arcname=DATABASE_MEMBER[vendor])
            for path in media_files:
                name = MEDIA_PREFIX + path.relative_to(media_root).as_posix()
                members[name] = sha256_file(path)
                tar.add(path, arcname=name)
            manifest = json.dumps(
                {"created_at": timezone.now().isoformat(), "vendor": vendor, "members": members}, indent=1
            ).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(manifest)
            tar.addfile(info, io.BytesIO(manifest))
    digest = sha256_file(archive)
    Path(f"{archive}.sha256").write_text(f"{digest}  {archive.name}\n")
    return BackupResult(archive=archive, sha256=digest, files=len(media_files), vendor=vendor)


def backup_check(archive: Path) -> dict:
    """The manifest, once the archive's digest and every member's digest have been checked."""
    archive = Path(archive)
    checksum_file = Path(f"{archive}.sha256")
    if not checksum_file.exists():
        raise BackupError(f"{checksum_file.name} is missing: the archive cannot be checked")
    if checksum_file.read_text().split()[0] != sha256_file(archive):
        raise BackupError("the archive does not match its checksum: it was changed or is incomplete")
    with tarfile.open(archive) as tar:
        try:
            manifest = json.load(tar.extractfile(MANIFEST))
        except KeyError as error:
            raise BackupError("the archive has no manifest") from error
        names = {member.name for member in tar.getmembers() if member.isfile()} - {MANIFEST}
        if names != set(manifest["members"]):
            raise BackupError("the archive's files differ from its manifest")
        for member in tar.getmembers():
            if member.name == MANIFEST or not member.isfile():
                continue
            digest = hashlib.sha256()
            handle = tar.extractfile(member)
            for chunk in iter(lambda handle=handle: handle.read(CHUNK), b""):
                digest.update(chunk)
            if digest.hexdigest() != manifest["members"][member.name]:
                raise BackupError(f"{member.name} does not match its checksum")
    return manifest


def backup_restore(*, archive: Path, database_url: str, media_root: Path) -> dict:
    """Check the archive, then load it into an empty database (given by URL) and an empty media folder."""
    manifest = backup_check(archive)
    media_root = Path(media_root)
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"{media_root} is not empty: restore into a fresh media folder")
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
        dump = Path(work) / DATABASE_MEMBER[manifest["vendor"]]
        if manifest["vendor"] == "sqlite":
            target = Path(database_url.removeprefix("sqlite:///"))
            if target.exists() and target.stat().st_size:
                raise BackupError(f"{target} exists: restore into a new database file")
            shutil.copyfile(dump, target)
        else:
            subprocess.run(
                ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", database_url, str(dump)], check=True
            )
        source = Path(work) / MEDIA_PREFIX.rstrip("/")
        if source.exists():
            shutil.copytree(source, media_root, dirs_exist_ok=True)
    return manifest


def backup_upload(result: BackupResult) -> str:
    """Copy the archive and its checksum to the object store (BACKUP_S3_BUCKET); returns the key."""
    try:
        import boto3  # optional: only installations that back up to an object store need it
    except ImportError as error:
        raise BackupError("boto3 is not installed: it is needed to copy backups to an object store") from error
    client = boto3.client("s3", endpoint_url=settings.BACKUP_S3_ENDPOINT_URL or None)
    prefix = datetime.date.today().strftime("backups/%Y/%m/")
    for path in (result.archive, Path(f"{result.archive}.sha256")):
        client.upload_file(str(path), settings.BACKUP_S3_BUCKET, prefix + path.name)
    return prefix + result.archive.name
