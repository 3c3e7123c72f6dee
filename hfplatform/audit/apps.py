from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "hfplatform.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # sign-ins and failed sign-ins, wherever they happen (login page, admin, token API)
        from hfplatform.audit import signals  # noqa: F401
