from django.apps import AppConfig


class SuiviConfig(AppConfig):
    name = "web.suivi"
    label = "suivi"
    verbose_name = "Suivi de l'exécution"
    default_auto_field = "django.db.models.BigAutoField"
