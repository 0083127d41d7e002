from django.core.management.base import BaseCommand

from mediahub.lifecycle import DOCUMENT, document


class Command(BaseCommand):
    help = f"Rewrite {DOCUMENT} from the state tables the code declares."

    def handle(self, *args, **options) -> None:
        (self._root() / DOCUMENT).write_text(document())
        self.stdout.write(f"Wrote {DOCUMENT}.")

    def _root(self):
        from django.conf import settings

        return settings.BASE_DIR
