"""Routes of the face pipeline: pages (under the ``generation`` namespace) and API (under ``api``)."""

from django.urls import path

from generation.faces import apis, views

urlpatterns = [
    path("subjects/", views.subject_list_page, name="subjects"),
    path("subjects/<int:subject_id>/photos/", views.subject_upload_page, name="subject-upload"),
    path("subjects/<int:subject_id>/delete/", views.subject_delete_page, name="subject-delete"),
    path("photos/<int:photo_id>/file/<slug:kind>/", views.photo_file, name="photo-file"),
]

api_urlpatterns = [
    path("subjects/", apis.SubjectListApi.as_view(), name="subjects"),
    path("subjects/<int:subject_id>/", apis.SubjectDetailApi.as_view(), name="subject"),
    path("subjects/<int:subject_id>/photos/", apis.SubjectPhotosApi.as_view(), name="subject-photos"),
    path("photos/<int:photo_id>/", apis.PhotoDetailApi.as_view(), name="photo"),
]
