from django.urls import path

from monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.dashboard_page, name="home"),
    path("snapshots/", views.snapshot_create_page, name="snapshot-create"),
    path("snapshots/<int:snapshot_id>/", views.snapshot_detail_page, name="snapshot"),
    path("snapshots/<int:snapshot_id>/export.<slug:fmt>", views.snapshot_export_page, name="snapshot-export"),
    path("compare/", views.compare_page, name="compare"),
    path("report/", views.report_page, name="report"),
    path("lineage/<slug:name>/", views.lineage_page, name="lineage"),
    path("promotions/<int:decision_id>/", views.promotion_detail_page, name="promotion"),
    path("versions/<slug:name>/comparison-campaign/", views.version_comparison_page,
         name="version-comparison"),
    path("promotions/<int:decision_id>/people/<int:person>/<slug:image>.png", views.promotion_image_file,
         name="promotion-image"),
]
