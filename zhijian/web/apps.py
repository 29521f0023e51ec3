from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "zhijian.web"
    label = "web"
