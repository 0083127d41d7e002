from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from search.backfill import backfill


class Command(BaseCommand):
    help = "Date and index items made before search existed, user by user (one Query each, never a Scan)."

    def handle(self, *args, **options) -> None:
        owners = (str(pk) for pk in User.objects.order_by("pk").values_list("pk", flat=True).iterator())
        total = 0
        for report in backfill(owners):
            total += report.indexed
            if report.dated or report.indexed:
                self.stdout.write(f"owner {report.owner_id}: {report.dated} dated, {report.indexed} indexed")
        self.stdout.write(f"Done: {total} item(s) indexed.")
