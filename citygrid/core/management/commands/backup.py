"""`citygrid backup OUT_DIR`: database and media into a new directory with a manifest;
`citygrid backup --verify DIR`: re-read a backup against its manifest. Exit 0 when all is well,
1 when a check fails, 2 for bad arguments (docs/backup.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Back up the database and the media files into a new directory, or verify a backup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="where to write the backup (new or empty)")
        parser.add_argument("--verify", action="store_true",
                            help="check the backup in DIRECTORY against its manifest instead")

    def handle(self, *args: Any, directory: str, verify: bool, **opts: Any) -> None:
        from citygrid.security.backups import BackupError, make_backup, verify_backup

        path = Path(directory)
        say = self.stdout.write if int(opts.get("verbosity", 1)) > 0 else (lambda _: None)
        try:
            if verify:
                problems = verify_backup(path, say=say)
                if problems:
                    for problem in problems:
                        self.stderr.write(f"BROKEN {problem}")
                    sys.exit(1)
                self.stdout.write(f"OK: {path} matches its manifest.")
                return
            make_backup(path, say=say)
            problems = verify_backup(path, say=say)
            if problems:
                for problem in problems:
                    self.stderr.write(f"BROKEN {problem}")
                sys.exit(1)
            self.stdout.write(f"OK: backup in {path} written and verified.")
        except BackupError as exc:
            raise CommandError(exc.message, returncode=exc.status) from None
