from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class ConverterConfig(AppConfig):
    name = "converter"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from project import safety  # noqa: F401  (registers the deploy check of public secrets)

        # The pipeline reads no settings; it is told which ffmpeg to run. The
        # import waits for a setting that needs it, so a web process started
        # with the default loads no pipeline module here.
        if settings.CONVERTER_FFMPEG:
            from .pipeline import ffmpeg

            try:
                ffmpeg.use(settings.CONVERTER_FFMPEG)
            except FileNotFoundError as exc:
                raise ImproperlyConfigured(f"CONVERTER_FFMPEG: {exc}") from None
