from django.apps import AppConfig


class ComptesConfig(AppConfig):
    name = "web.comptes"
    label = "comptes"
    verbose_name = "Comptes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signaux  # noqa: F401  (the team mode follows the accounts as they change)
