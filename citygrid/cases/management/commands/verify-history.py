"""`citygrid verify-history`: the same command as verify_history."""

from citygrid.cases.management.commands.verify_history import Command

__all__ = ["Command"]
