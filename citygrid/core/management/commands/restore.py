"""`citygrid restore DIR`: load a backup into an EMPTY database (and MEDIA_ROOT), then check the
row counts, the case history heads and every history chain (verify_history). Refuses a
database that holds data (exit 2) unless --force. Exit 1 when a check fails (docs/backup.md)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Restore a backup made by `citygrid backup` into an empty database, then verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="the backup directory")
        parser.add_argument("--force", action="store_true",
                            help="replace the contents of a database (and MEDIA_ROOT) that is not empty")

    def handle(self, *args: Any, directory: str, force: bool, **opts: Any) -> None:
        from citygrid.security.backups import BackupError, restore_backup

        say = self.stdout.write if int(opts.get("verbosity", 1)) > 0 else (lambda _: None)
        try:
            problems = restore_backup(Path(directory), force=force, say=say)
        except BackupError as exc:
            raise CommandError(exc.message, returncode=exc.status) from None
        for problem in problems:
            self.stderr.write(f"BROKEN {problem}")
        say("checking every case history chain…")
        out = io.StringIO()
        try:
            call_command("verify_history", stdout=out, stderr=out)
        except SystemExit as exit_:
            if exit_.code:
                self.stderr.write(out.getvalue().strip())
                sys.exit(1)
        say(out.getvalue().strip())
        if problems:
            sys.exit(1)
        self._record(directory)
        self.stdout.write(f"OK: {directory} restored and verified.")

    def _record(self, directory: str) -> None:
        from citygrid.security.actions import record_event
        from citygrid.security.models import AuditAction

        record_event(AuditAction.RESTORE, summary=f"restored from {directory}"[:500],
                     username="(command line)")
