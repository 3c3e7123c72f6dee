from django.urls import path

from reward import views

app_name = "reward"
urlpatterns = [
    path("", views.reward_page, name="home"),
    path("datasets/", views.dataset_create_page, name="dataset-create"),
    path("trainings/", views.training_start_page, name="training-start"),
    path("models/<slug:name>/", views.model_detail_page, name="model"),
    path("models/<slug:name>/activate/", views.model_activate_page, name="model-activate"),
    path("finetunes/", views.finetunings_page, name="finetunings"),
]
