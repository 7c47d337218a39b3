"""`citygrid db_worker`: django-tasks-db's worker, named so that a dead one can be recognised,
and first putting back in the queue the tasks that dead workers on this host left RUNNING
(`citygrid.core.worker`). Everything else (options, signals, the loop) is django-tasks-db's.
This command overrides theirs because citygrid.core comes before django_tasks_db in
INSTALLED_APPS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from citygrid.core.worker import recover_lost_tasks, worker_id


class Command(DatabaseWorkerCommand):
    help = ("Run a database background worker; tasks left running by dead workers on this host "
            "are queued again first.")

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=worker_id())

    def handle(self, *args: Any, **options: Any) -> None:
        recovered = recover_lost_tasks()
        if recovered:
            self.stdout.write(f"recovered from dead workers: {len(recovered.requeued)} tasks "
                              f"queued again, {len(recovered.failed)} failed")
        super().handle(*args, **options)
