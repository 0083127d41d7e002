import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from mediahub.bootstrap import bootstrap
from mediahub.localaws import endpoint_address, ensure_running


class Command(BaseCommand):
    help = "Run the whole app locally: the local AWS, a Celery worker and runserver; Ctrl-C stops them all."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--addr", default=f"127.0.0.1:{settings.PORT}", help="Where runserver listens (default: PORT)."
        )

    def handle(self, *args, addr: str, **options) -> None:
        children = [p for p in [ensure_running()] if p is not None]
        if not children and endpoint_address(settings.AWS_ENDPOINT_URL or ""):
            bootstrap()  # it was already running: give its uploads bucket the CORS of this SITE_URL
        manage = str(settings.BASE_DIR / "manage.py")
        celery = [sys.executable, "-m", "celery", "-A", "mediahub"]
        children.append(subprocess.Popen([*celery, "worker", "--concurrency", "2", "-l", "info"]))
        # Beat (the periodic sweeps) as a process of its own, so stopping it never depends on the worker.
        schedule = str(settings.LOCAL_DATA_DIR / "celerybeat-schedule")
        children.append(subprocess.Popen([*celery, "beat", "-l", "info", "--schedule", schedule]))
        children.append(subprocess.Popen([sys.executable, manage, "runserver", addr]))
        self.stdout.write(
            self.style.SUCCESS(f"\nmediahub is starting at http://{addr}/\n")
            + "No account yet? Create an admin with: .venv/bin/python manage.py createsuperuser\n"
            + "Ctrl-C stops the site, the worker and the local AWS.\n"
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while all(child.poll() is None for child in children):
                time.sleep(1)
            self.stderr.write("A part of the local stack stopped; stopping the rest.")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:  # a worker still finishing a task: stop it anyway
                    child.kill()
