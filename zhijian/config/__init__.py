"""Settings, URLs and the Celery application. The Celery app is imported with the
settings so that shared tasks bind to it in every process that loads Django."""

from .celery import app as celery_app

__all__ = ["celery_app"]
