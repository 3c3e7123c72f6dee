"""Fine-tunings in the admin site (read-mostly: the services write them)."""

from django.contrib import admin

from reward.models import GeneratorFineTuning


@admin.register(GeneratorFineTuning)
class GeneratorFineTuningAdmin(admin.ModelAdmin):
    list_display = ("name", "method", "parent", "dataset", "reward_model", "child", "job", "created_at")
    list_filter = ("method",)
    search_fields = ("name",)
    raw_id_fields = ("parent", "dataset", "reward_model", "child", "job", "started_by")
