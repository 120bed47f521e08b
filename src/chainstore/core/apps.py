from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "chainstore.core"
    label = "core"
    verbose_name = "Core"
