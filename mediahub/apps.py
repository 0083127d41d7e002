from django.apps import AppConfig


class MediahubConfig(AppConfig):
    name = "mediahub"
    verbose_name = "mediahub"

    def ready(self) -> None:
        from mediahub import ratelimit  # noqa: F401 (registers the rate-limit table for bootstrap and the policy)
