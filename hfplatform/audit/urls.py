from django.urls import path

from hfplatform.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_page, name="events"),
    path("export.csv", views.audit_export, name="export"),
]
