"""``manage.py restore ARCHIVE --database-url URL --media-root DIR``: into a fresh database and media folder."""

from django.core.management.base import BaseCommand, CommandError

from administration.backups import BackupError, backup_check, backup_restore


class Command(BaseCommand):
    help = (
        "Check a backup archive, then restore it into an empty database and media folder. Point the "
        "installation at them (DATABASE_URL, MEDIA_ROOT) and run `manage.py verify_ledger`."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--database-url", help="The empty target (sqlite:////path or postgres://…).")
        parser.add_argument("--media-root", help="The empty media folder to fill.")
        parser.add_argument("--check-only", action="store_true", help="Only check the archive's checksums.")

    def handle(self, *args, archive, database_url=None, media_root=None, check_only=False, **options):
        try:
            if check_only:
                manifest = backup_check(archive)
            else:
                if not database_url or not media_root:
                    raise CommandError("--database-url and --media-root are required")
                manifest = backup_restore(archive=archive, database_url=database_url, media_root=media_root)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{len(manifest['members'])} members checked ({manifest['vendor']}, {manifest['created_at']})"
        )
