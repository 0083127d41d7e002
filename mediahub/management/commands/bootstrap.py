from django.core.management.base import BaseCommand

from mediahub.bootstrap import bootstrap


class Command(BaseCommand):
    help = "Create the buckets and DynamoDB tables the settings name (safe to run again)."

    def handle(self, *args, **options) -> None:
        bootstrap(report=self.stdout.write)
