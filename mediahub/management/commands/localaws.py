import contextlib
import logging
import os
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mediahub.bootstrap import bootstrap
from mediahub.localaws import Store, StoreError, data_dir, endpoint_address, is_up, reset, start_server


class Command(BaseCommand):
    help = (
        "Run the local AWS (moto's S3 + DynamoDB server) on loopback at AWS_ENDPOINT_URL, its state kept under "
        "LOCAL_DATA_DIR/localaws, then bootstrap it. --reset empties it instead."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-bootstrap", action="store_true", help="Leave creating buckets and tables to the caller."
        )
        parser.add_argument("--reset", action="store_true", help="Empty the local AWS (running or not) and exit.")

    def handle(self, *args, no_bootstrap: bool = False, reset: bool = False, **options) -> None:
        if reset:
            self._reset()
            return
        address = endpoint_address(settings.AWS_ENDPOINT_URL or "")
        if address is None:
            raise CommandError(f"AWS_ENDPOINT_URL={settings.AWS_ENDPOINT_URL!r} is not a loopback address.")
        if is_up(*address):
            self.stdout.write(f"Local AWS already answering at {settings.AWS_ENDPOINT_URL}; bootstrapping it.")
            bootstrap(report=self.stdout.write)
            return
        # From here a SIGTERM (runlocal stopping it, say) lets it save first, even during the bootstrap.
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        store = Store(data_dir())
        started = time.monotonic()
        try:
            server = start_server(*address, store=store)
        except StoreError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Local AWS (S3, DynamoDB) listening at {settings.AWS_ENDPOINT_URL}, state in {store.root} "
            f"(started in {time.monotonic() - started:.2f} s)"
        )
        if not no_bootstrap:
            bootstrap(report=self.stdout.write)
        self.stdout.write("Ready. Ctrl-C stops it; what it holds is saved on disk.", ending="\n")
        self.stdout.flush()
        with store.snapshots(), contextlib.suppress(KeyboardInterrupt):
            # Wake up now and then: a signal handler only runs when the main thread gets control back.
            while not stop.wait(0.5):
                pass
        stopping = time.monotonic()
        server.stop()
        store.save()
        self.stdout.write(f"Stopped; state saved in {store.root} ({time.monotonic() - stopping:.2f} s).")
        # Saved, so exit now: letting the interpreter free moto's objects one by one takes seconds with a big
        # state (about 10 s after 500 uploads), and runlocal kills what has not stopped within 15 s.
        self.stdout.flush()
        logging.shutdown()
        os._exit(0)

    def _reset(self) -> None:
        try:
            self.stdout.write(reset())
        except StoreError as exc:
            raise CommandError(str(exc)) from exc
