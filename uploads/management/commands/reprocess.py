from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from uploads import selectors, services
from uploads.models import Status, utcnow


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date or time (use YYYY-MM-DD or an ISO time).") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Re-queue media items for processing, e.g. after the rendition set changed. Safe to interrupt and rerun."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--owner", help="Only this user's items (username).")
        parser.add_argument("--status", default=Status.READY, choices=Status.ALL, help="Items in this status.")
        parser.add_argument("--older-than", type=parse_time, help="Only items created before this date or time.")
        parser.add_argument(
            "--skip-processed-after", type=parse_time, help="Skip items processed since then (to resume a run)."
        )

    def handle(self, *args, owner=None, status, older_than=None, skip_processed_after=None, **options) -> None:
        started = utcnow()
        owner_id = self._owner_id(owner) if owner else None
        total, items = selectors.media_to_reprocess(status=status, owner_id=owner_id, before=older_than or started)
        queued = skipped = 0
        for item in tqdm(items, total=total, unit="item", file=self.stderr._out, disable=None):
            if skip_processed_after and item.processed_at and item.processed_at >= skip_processed_after:
                skipped += 1
                continue
            services.reprocess(item)
            queued += 1
        self.stdout.write(f"Re-queued {queued} item(s), skipped {skipped} already processed.")
        self.stdout.write(f"Interrupted? Run again with --skip-processed-after {started.isoformat()} to resume.")

    def _owner_id(self, username: str) -> str:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return str(user.pk)
