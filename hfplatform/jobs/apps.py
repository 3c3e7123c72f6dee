from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "hfplatform.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Register the job kinds this app ships and the consumer hooks (startup recovery).
        from hfplatform.jobs import kinds, tasks  # noqa: F401
