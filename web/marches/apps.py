from django.apps import AppConfig


class MarchesConfig(AppConfig):
    name = "web.marches"
    label = "marches"
    verbose_name = "Marchés"
    default_auto_field = "django.db.models.BigAutoField"
