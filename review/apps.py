from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"

    def ready(self) -> None:
        # register the stage_comparison job kind
        from review import stage_comparison  # noqa: F401
