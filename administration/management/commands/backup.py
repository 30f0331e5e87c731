"""``manage.py backup``: the database and the uploaded files in one checksummed archive."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from administration.backups import BackupError, backup_create, backup_upload
from administration.log import security_log
from administration.models import EventKind


class Command(BaseCommand):
    help = "Back up the database and MEDIA_ROOT together into BACKUP_DIR (optionally also to the object store)."

    def add_arguments(self, parser):
        parser.add_argument("--directory", help="Where the archive goes (default BACKUP_DIR).")
        parser.add_argument("--upload", action="store_true", help="Also copy it to BACKUP_S3_BUCKET.")

    def handle(self, *args, directory=None, upload=False, **options):
        if upload and not settings.BACKUP_S3_BUCKET:
            raise CommandError("BACKUP_S3_BUCKET is not set")  # before an archive is written for nothing
        try:
            result = backup_create(directory=directory)
            if upload:
                key = backup_upload(result)
                self.stdout.write(f"uploaded to s3://{settings.BACKUP_S3_BUCKET}/{key}")
        except BackupError as error:
            raise CommandError(str(error)) from error
        security_log(
            kind=EventKind.BACKUP,
            actor_name="manage.py backup",
            description=f"Backup {result.archive.name} ({result.vendor}, {result.files} files, "
            f"sha256 {result.sha256}).",
        )
        self.stdout.write(f"{result.archive}\nsha256 {result.sha256}\n{result.files} files")
