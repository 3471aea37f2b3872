from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class ConverterConfig(AppConfig):
    name = "converter"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from project import safety  # noqa: F401  (registers the deploy check of public secrets)

        # The pipeline reads no settings; it is told where to run its children
        # and which ffmpeg. The sandbox module is light (standard library); the
        # ffmpeg import waits for a setting that needs it, so a web process
        # started with the defaults loads no heavy pipeline module here.
        from .pipeline import sandbox

        try:
            sandbox.use(settings.CONVERTER_SANDBOX)
        except sandbox.SandboxUnavailable as exc:
            raise ImproperlyConfigured(f"CONVERTER_SANDBOX: {exc}") from None
        if settings.CONVERTER_FFMPEG:
            from .pipeline import ffmpeg

            try:
                ffmpeg.use(settings.CONVERTER_FFMPEG)
                ffmpeg.version()
            except (FileNotFoundError, RuntimeError) as exc:
                raise ImproperlyConfigured(f"CONVERTER_FFMPEG: {exc}") from None
