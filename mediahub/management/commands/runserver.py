import os

from whitenoise.runserver_nostatic.management.commands.runserver import Command as WhiteNoiseRunserver

from mediahub.localaws import ensure_running


class Command(WhiteNoiseRunserver):
    """runserver that finds the local AWS, or starts it, before serving."""

    def handle(self, *args, **options) -> None:
        if os.environ.get("RUN_MAIN") != "true":  # the autoreloader's parent does this once
            ensure_running()
        super().handle(*args, **options)
