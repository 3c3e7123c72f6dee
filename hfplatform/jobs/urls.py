from django.urls import path

from hfplatform.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list_page, name="list"),
    path("<int:job_id>/", views.job_detail_page, name="detail"),
    path("thumbnails/", views.thumbnails_start_page, name="thumbnails"),
]
