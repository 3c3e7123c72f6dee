from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"

    def ready(self) -> None:
        # register the stage_comparison job kind and the home page's cards
        from review import home, stage_comparison  # noqa: F401
