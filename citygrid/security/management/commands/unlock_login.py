"""`citygrid unlock_login USERNAME` (or `--address IP`): lift a sign-in lockout early, for the
help desk once the person is known. Exit 2 without a username or address."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Lift the sign-in lockout of a username and/or a client address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", default="")
        parser.add_argument("--address", default="", help="a client IP address")

    def handle(self, *args: Any, username: str, address: str, **opts: Any) -> None:
        from citygrid.security import lockout
        from citygrid.security.context import valid_ip

        if not username and not address:
            raise CommandError("name a username or an --address", returncode=2)
        ip = valid_ip(address) if address else None
        if address and ip is None:
            raise CommandError(f"{address!r} is not an IP address", returncode=2)
        was = lockout.locked(username, ip)
        lockout.unlock(username, ip)
        what = " and ".join(x for x in (username and f"username {username}", ip and f"address {ip}") if x)
        self.stdout.write(f"unlocked {what}" if was else f"{what} was not locked; counts cleared")
