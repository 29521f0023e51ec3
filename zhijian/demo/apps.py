from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "zhijian.demo"
    label = "demo"
