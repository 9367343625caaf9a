"""``kizuna consultations remind|feed-url``: the reminder worker of the consultation cycle and calendar feed secrets.

``remind`` notices open actions due in 3 days and overdue (once per action, recipient and due date) and sends the
digests that are due (of every module, daily and weekly: ``kizuna.notifications``), once. The pass is also a periodic
job of ``kizuna worker`` (every 15 minutes);
``--loop`` is kept for service units written before the job queue and runs ``kizuna worker``, after saying so.
``feed-url USERNAME`` makes a new secret calendar feed address for a user (the old one stops working) and prints its
path once, as the last line.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand, cli_actor
from kizuna.directory.commands import named_user

MIN_EVERY = 10


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date as YYYY-MM-DD, not {value!r}") from None


class Command(KizunaCommand):
    help = "Consultation reminders and calendar feed addresses."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        remind = sub.add_parser(
            "remind", help="notice actions due in 3 days or overdue and send the daily digests",
            description="Notice open actions due in 3 days or overdue and send the daily digests that are due.")
        remind.add_argument("--today", default="", help="the day to scan for, YYYY-MM-DD (default: today)")
        remind.add_argument("--loop", action="store_true", help="run `kizuna worker` (kept for older service units)")
        remind.add_argument("--every", type=int, default=900, help=f"seconds between runs (at least {MIN_EVERY})")
        feed = sub.add_parser(
            "feed-url", help="make a new secret calendar feed address for a user (printed once, last line)",
            description="Make a new secret calendar feed address for a user; any earlier one stops working.")
        feed.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "remind":
            self._remind(options)
        elif options["action"] == "feed-url":
            self._feed_url(options["username"])

    def _remind(self, options: dict[str, Any]) -> None:
        today = _day(options["today"]) if options["today"] else None
        if not options["loop"]:
            self._remind_once(today)
            return
        if today is not None:
            raise CommandError("--today and --loop do not go together: the worker scans each day as it comes")
        every = options["every"]
        if every < MIN_EVERY:
            raise CommandError(f"--every must be at least {MIN_EVERY} seconds")
        if every != 900:  # this worker's period; KIZUNA_JOB_EVERY_CONSULTATIONS_REMIND sets every worker's
            from datetime import timedelta

            from kizuna.consultations import tasks
            from kizuna.jobs import queue

            queue.periodic("consultations.remind", tasks.remind, timedelta(seconds=every))
        self.stderr.write("kizuna consultations remind --loop: runs `kizuna worker`, the one worker of every "
                          "background job (reminders and digests every --every seconds); "
                          "use `kizuna worker` in new service units")
        call_command("worker", stdout=self.stdout, stderr=self.stderr)

    def _remind_once(self, today: date | None) -> None:
        from kizuna.consultations import notify
        from kizuna.notifications import services as notification_services

        noticed = notify.scan_due(today)
        digests = notification_services.send_digests()
        self.stdout.write(f"{noticed} reminder(s) noticed, {digests} digest(s) sent")

    def _feed_url(self, username: str) -> None:
        from kizuna.consultations import notify

        user = named_user(username)
        if not user.is_active:
            raise CommandError(f"user {username!r} is not active")
        token = notify.new_feed_token(user, actor=cli_actor())
        base = notify.base_url()
        hint = "" if base else "; prefix it with the node's address"
        self.stdout.write(f"new calendar feed address for {user.username} (any earlier one no longer works){hint}; "
                          "it is shown once:")
        self.stdout.write(base + notify.feed_path(token))
