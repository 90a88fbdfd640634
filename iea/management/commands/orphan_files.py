"""``manage.py orphan_files [--delete] [--min-age-hours 24]``: the uploaded files that no row refers to.

A dry run by default: prints each orphan's name, size and date, then the count and total size. With
``--delete`` it removes them, each logged (logger ``iea.files``). Files written in the last
``--min-age-hours`` are left alone: an upload in progress writes its file just before its row.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation

from iea.files import orphan_files, orphans_delete


class Command(BaseCommand):
    help = "List the uploaded files that no row refers to (a dry run); --delete removes them (README, \"Files\")."

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="Remove the orphans (default: only list them).")
        parser.add_argument("--min-age-hours", type=float, default=24,
                            help="Leave files written less than this many hours ago (default: 24).")

    def handle(self, *args, delete=False, min_age_hours=24, **options):
        if min_age_hours < 0:
            raise CommandError("--min-age-hours cannot be negative.")
        orphans = orphan_files(now=timezone.now(), min_age=dt.timedelta(hours=min_age_hours))
        for orphan in orphans:
            self.stdout.write(f"{orphan.name}\t{orphan.size}\t{orphan.modified_at:%Y-%m-%d %H:%M}")
        size = sum(orphan.size for orphan in orphans)
        total = f"{size:,} bytes"
        if size >= 1024:
            with translation.override("en"):
                total += f" ({filesizeformat(size)})".replace("\xa0", " ")
        if not orphans:
            self.stdout.write("No orphan file.")
        elif delete:
            deleted = orphans_delete(orphans)
            self.stdout.write(f"Deleted {deleted} orphan file(s), {total} in all.")
        else:
            self.stdout.write(f"{len(orphans)} orphan file(s), {total} in all. Run with --delete to remove them.")
