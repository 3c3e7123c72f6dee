from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation: subjects, face pipeline, generator"

    def ready(self) -> None:
        from generation import generator_services, services, training_services  # noqa: F401 - job kinds
