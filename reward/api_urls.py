"""API routes of the reward app, included under /api/ (namespace ``api``) by ``hfplatform.urls``."""

from django.urls import path

from reward import apis, finetuning_apis

urlpatterns = [
    path("reward/datasets/", apis.PreferenceDatasetListApi.as_view(), name="reward-datasets"),
    path("reward/datasets/<int:dataset_id>/", apis.PreferenceDatasetDetailApi.as_view(),
         name="reward-dataset"),
    path("reward/trainings/", apis.RewardTrainingApi.as_view(), name="reward-trainings"),
    path("reward/models/", apis.RewardModelListApi.as_view(), name="reward-models"),
    path("reward/models/<slug:name>/", apis.RewardModelDetailApi.as_view(), name="reward-model"),
    path("reward/models/<slug:name>/activate/", apis.RewardModelActivateApi.as_view(),
         name="reward-activate"),
    path("reward/models/<slug:name>/scores/", apis.RewardModelScoresApi.as_view(), name="reward-scores"),
    path("reward/models/<slug:name>/compare/", apis.RewardModelCompareApi.as_view(), name="reward-compare"),
    path("generator/finetunes/", finetuning_apis.GeneratorFineTuningListApi.as_view(),
         name="generator-finetunes"),
    path("generator/finetunes/<int:finetuning_id>/", finetuning_apis.GeneratorFineTuningDetailApi.as_view(),
         name="generator-finetune"),
]
