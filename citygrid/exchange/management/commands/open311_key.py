"""Issue, revoke and list Open311 API keys from the command line (operators; the admin does
the same). `issue NAME [--contact TEXT]` prints the key once; `revoke ID`; `list`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from citygrid.core.errors import DomainError
from citygrid.exchange import actions
from citygrid.exchange.models import ApiKey


class Command(BaseCommand):
    help = "Issue (prints the key once), revoke or list Open311 API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        issue = sub.add_parser("issue", help="issue a key for a client")
        issue.add_argument("name")
        issue.add_argument("--contact", default="")
        revoke = sub.add_parser("revoke", help="revoke a key by its id")
        revoke.add_argument("key_id", type=int)
        sub.add_parser("list", help="list the keys (never the keys themselves)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["what"] == "issue":
                row, key = actions.issue_api_key(None, name=options["name"],
                                                 contact=options["contact"])
                self.stdout.write(f"key {row.pk} for {row.name}: {key}")
                self.stdout.write("Store it now: only its hash is kept.")
            elif options["what"] == "revoke":
                row = actions.revoke_api_key(None, options["key_id"])
                self.stdout.write(f"key {row.pk} ({row.name}) revoked at {row.revoked_at:%Y-%m-%d %H:%M}")
            else:
                for row in ApiKey.objects.all():
                    state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                    self.stdout.write(f"{row.pk}\t{row.prefix}…\t{row.name}\t{state}")
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
