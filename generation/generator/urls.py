"""Routes of the generator: pages (under the ``generation`` namespace) and API (under ``api``)."""

from django.urls import path

from generation.generator import apis, views

urlpatterns = [
    path("subjects/<int:subject_id>/", views.subject_detail_page, name="subject"),
    path("subjects/<int:subject_id>/generate/", views.subject_generate_page, name="subject-generate"),
    path("generator/", views.generator_versions_page, name="versions"),
    path("generator/trainings/", views.generator_training_page, name="training-start"),
    path("generator/<slug:name>/activate/", views.generator_activate_page, name="version-activate"),
    path("generator/<slug:name>/grid.png", views.generator_grid_file, name="version-grid"),
    path("headshots/<int:headshot_id>/image/", views.headshot_image, name="headshot-image"),
    path("headshots/<int:headshot_id>/raw/", views.headshot_raw_image, name="headshot-raw-image"),
    path("generations/<int:generation_id>/input.png", views.generation_input_image, name="generation-input"),
]

api_urlpatterns = [
    path("generation/jobs/", apis.GenerationJobListApi.as_view(), name="generation-jobs"),
    path("generation/jobs/<int:generation_id>/", apis.GenerationJobDetailApi.as_view(),
         name="generation-job"),
    path("headshots/<int:headshot_id>/", apis.HeadshotDetailApi.as_view(), name="headshot"),
    path("generator/versions/", apis.GeneratorVersionListApi.as_view(), name="generator-versions"),
    path("generator/versions/<slug:name>/activate/", apis.GeneratorVersionActivateApi.as_view(),
         name="generator-activate"),
    path("generator/trainings/", apis.GeneratorTrainingApi.as_view(), name="generator-trainings"),
]
