"""``manage.py backup``: one archive of the database, the uploaded files and their manifest (iea.backups).

Writes to ``--dir``, else BACKUP_DIR, else var/backups; prints the archive's path last, alone on its line.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from iea.backups import BackupError, backup_create, database_describe


def default_directory() -> Path:
    return Path(os.environ.get("BACKUP_DIR") or settings.BASE_DIR / "var" / "backups")


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into one archive with a manifest (README, \"Backups\")."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=None,
                            help="Folder of the archives (default: $BACKUP_DIR, else var/backups).")

    def handle(self, *args, dir=None, **options):
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            path, manifest = backup_create(connection=connection, directory=dir or default_directory(),
                                           now=timezone.now())
        except BackupError as error:
            raise CommandError(str(error)) from error
        tables, files = manifest["tables"], manifest["files"]
        media = [name for name in files if name != manifest["database"]["file"]]
        if not manifest["media"]["included"]:
            self.stderr.write(self.style.WARNING(
                f"The uploaded files are in {manifest['media']['storage']}, not a local folder: they are not in "
                "this archive; back up the bucket separately."))
        if options["verbosity"] > 0:
            size = sum(entry["size"] for entry in files.values())
            self.stdout.write(f"Backed up the {database_describe(connection)} ({len(tables)} tables, "
                              f"{sum(tables.values())} rows) and {len(media)} uploaded file(s), {size:,} bytes.")
        self.stdout.write(str(path))
