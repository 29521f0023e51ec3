"""Celery application. Workers drain the domain-event outbox (zhijian.core.events)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhijian.config.settings")

app = Celery("zhijian")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
