from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "zhijian.portal"
    label = "portal"
