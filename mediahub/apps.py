from django.apps import AppConfig


class MediahubConfig(AppConfig):
    name = "mediahub"
    verbose_name = "mediahub"
