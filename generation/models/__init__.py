"""The generation app's rows, in two rooms: the face pipeline (``faces``) and the generator
(``generator``). One Django app (label ``generation``): every model is importable from here."""

from generation.models.faces import (
    AgeBand,
    Gender,
    PhotoStatus,
    SkinTone,
    SourcePhoto,
    Subject,
    SubjectSource,
    _photo_path,  # noqa: F401 - named by migrations
)
from generation.models.generator import (
    GenerationJob,
    GeneratorStatus,
    GeneratorVersion,
    Headshot,
    _generated_path,  # noqa: F401 - named by migrations
)

__all__ = [
    "AgeBand",
    "Gender",
    "GenerationJob",
    "GeneratorStatus",
    "GeneratorVersion",
    "Headshot",
    "PhotoStatus",
    "SkinTone",
    "SourcePhoto",
    "Subject",
    "SubjectSource",
]
