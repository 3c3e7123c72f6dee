from django.urls import path

from review import quality_views, views

app_name = "review"
urlpatterns = [
    path("", views.campaign_list_page, name="campaigns"),
    path("campaigns/new/", views.campaign_create_page, name="campaign-create"),
    path("stage-comparisons/", views.stage_comparison_page, name="stage-comparison"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail_page, name="campaign"),
    path("campaigns/<int:campaign_id>/status/", views.campaign_status_page, name="campaign-status"),
    path("campaigns/<int:campaign_id>/work/", views.work_page, name="work"),
    path("campaigns/<int:campaign_id>/agreement/", quality_views.agreement_page, name="agreement"),
    path("campaigns/<int:campaign_id>/export/<slug:kind>.csv", quality_views.export_csv, name="export"),
    path("assignments/<int:assignment_id>/<slug:side>.png", views.assignment_image, name="assignment-image"),
]
