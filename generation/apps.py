from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation: subjects, face pipeline, generator"

    def ready(self) -> None:
        from generation import services  # noqa: F401 - registers the job kinds
