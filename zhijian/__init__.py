"""Zhijian (质监): comprehensive quality supervision platform.

Importing the package must not need Django or Celery: `python -m zhijian.verify` runs
with the standard library alone. The Celery application is loaded with the settings
(zhijian.config) and reachable here lazily, so that `celery -A zhijian` finds it."""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name in ("celery_app", "app", "celery"):
        from .config.celery import app

        return app
    raise AttributeError(f"module 'zhijian' has no attribute {name!r}")
