from django.core.management.base import BaseCommand

from uploads import services
from uploads.filetypes import human_size


class Command(BaseCommand):
    help = "Recompute each account's storage usage from its counted items; report drift, and repair it with --fix."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fix", action="store_true", help="Set each drifted count to what the items add up to.")

    def handle(self, *args, fix: bool, **options) -> None:
        drifts = services.reconcile_usage(fix=fix)
        for drift in drifts:
            state = "fixed" if drift.fixed else ("busy, try again" if fix else "not fixed")
            self.stdout.write(
                f"owner {drift.owner_id}: recorded {human_size(drift.recorded)}, "
                f"items add up to {human_size(drift.actual)} ({state})"
            )
        self.stdout.write(f"{len(drifts)} account(s) drifted." if drifts else "No drift: every count is exact.")
