from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation: subjects, face pipeline, generator"

    def ready(self) -> None:
        # The job kinds of both rooms register themselves when their modules load.
        from generation.faces import services  # noqa: F401
        from generation.generator import services as generator_services  # noqa: F401
        from generation.generator import training  # noqa: F401
