"""API routes of the generation app, included under /api/ (namespace ``api``) by ``hfplatform.urls``."""

from generation.faces import urls as faces
from generation.generator import urls as generator

urlpatterns = [*faces.api_urlpatterns, *generator.api_urlpatterns]
