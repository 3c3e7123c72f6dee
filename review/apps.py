from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"

    def ready(self) -> None:
        # register the stage_comparison job kind, the home page's cards and the versions page's notes
        from review import comparison_verdict, home, stage_comparison  # noqa: F401
