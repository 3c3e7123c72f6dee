from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        # register the metric_snapshot, promotion_gate, version_comparison and feedback_loop_datasets job
        # kinds and the home page's card
        from monitoring import feedback_loop, home, promotion, services, version_comparison  # noqa: F401
