from django.urls import path

from generation import views

app_name = "generation"
urlpatterns = [
    path("subjects/", views.subject_list_page, name="subjects"),
    path("subjects/<int:subject_id>/", views.subject_detail_page, name="subject"),
    path("subjects/<int:subject_id>/photos/", views.subject_upload_page, name="subject-upload"),
    path("subjects/<int:subject_id>/delete/", views.subject_delete_page, name="subject-delete"),
    path("photos/<int:photo_id>/file/<slug:kind>/", views.photo_file, name="photo-file"),
    path("subjects/<int:subject_id>/generate/", views.subject_generate_page, name="subject-generate"),
    path("generator/", views.generator_versions_page, name="versions"),
    path("generator/trainings/", views.generator_training_page, name="training-start"),
    path("generator/<slug:name>/activate/", views.generator_activate_page, name="version-activate"),
    path("generator/<slug:name>/grid.png", views.generator_grid_file, name="version-grid"),
    path("headshots/<int:headshot_id>/image/", views.headshot_image, name="headshot-image"),
    path("generations/<int:generation_id>/input.png", views.generation_input_image,
         name="generation-input"),
]
