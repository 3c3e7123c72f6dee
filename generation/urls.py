"""Pages of the generation app: both rooms' routes under one namespace (``generation:…``)."""

from generation.faces import urls as faces
from generation.generator import urls as generator

app_name = "generation"
urlpatterns = [*faces.urlpatterns, *generator.urlpatterns]
