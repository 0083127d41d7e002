import contextlib
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mediahub.bootstrap import bootstrap
from mediahub.localaws import endpoint_address, is_up, start_server


class Command(BaseCommand):
    help = "Run the local AWS (moto's S3 + DynamoDB server) on loopback at AWS_ENDPOINT_URL, then bootstrap it."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-bootstrap", action="store_true", help="Leave creating buckets and tables to the caller."
        )

    def handle(self, *args, no_bootstrap: bool = False, **options) -> None:
        address = endpoint_address(settings.AWS_ENDPOINT_URL or "")
        if address is None:
            raise CommandError(f"AWS_ENDPOINT_URL={settings.AWS_ENDPOINT_URL!r} is not a loopback address.")
        if is_up(*address):
            self.stdout.write(f"Local AWS already answering at {settings.AWS_ENDPOINT_URL}; bootstrapping it.")
            bootstrap(report=self.stdout.write)
            return
        start_server(*address)  # serves from daemon threads: they end with this process
        self.stdout.write(f"Local AWS (S3, DynamoDB) listening at {settings.AWS_ENDPOINT_URL}")
        if not no_bootstrap:
            bootstrap(report=self.stdout.write)
        self.stdout.write("Ready. Ctrl-C stops it; its data lives in memory until then.", ending="\n")
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        # Wake up now and then: a signal handler only runs when the main thread gets control back.
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.wait(0.5):
                pass
