from django.urls import path

from generation import views

app_name = "generation"
urlpatterns = [
    path("subjects/", views.subject_list_page, name="subjects"),
    path("subjects/<int:subject_id>/", views.subject_detail_page, name="subject"),
    path("subjects/<int:subject_id>/photos/", views.subject_upload_page, name="subject-upload"),
    path("subjects/<int:subject_id>/delete/", views.subject_delete_page, name="subject-delete"),
    path("photos/<int:photo_id>/file/<slug:kind>/", views.photo_file, name="photo-file"),
]
