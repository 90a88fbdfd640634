"""``manage.py restore ARCHIVE [--force]``: the database and the uploaded files back from a backup
archive, then checked against its manifest (iea.restore)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from iea.backups import BackupError, database_describe, media_root
from iea.restore import backup_restore


class Command(BaseCommand):
    help = ("Restore a backup archive into the configured database and files folder, then verify both against "
            "the archive's manifest. Refuses a database that is not empty unless --force.")

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="An archive made by manage.py backup.")
        parser.add_argument("--force", action="store_true",
                            help="Replace the content of a database (and files folder) that is not empty.")

    def handle(self, *args, archive, force=False, **options):
        if not archive.is_file():
            raise CommandError(f"No archive at {archive}.")
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            report = backup_restore(connection=connection, archive=archive, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from error
        manifest, state = report.manifest, report.database
        migrations = sum(len(names) for names in state.migrations.values())
        self.stdout.write(f"Restored {archive.name} (made {manifest['created_at']}) into the "
                          f"{database_describe(connection)} and {media_root() or 'no files folder'}.")
        for name in report.left_in_place:
            self.stderr.write(self.style.WARNING(f"Left in place, not in the backup: {name}"))
        self.stdout.write(self.style.SUCCESS(
            f"Verified against the manifest: {len(state.tables)} tables and {state.rows} rows, {migrations} "
            f"migrations, {report.files} file(s) and their SHA-256 — all equal."))
