from django.contrib import admin

from hfplatform.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "title", "status", "progress", "started_by", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("title", "kind", "started_by__username")
    readonly_fields = [f.name for f in Job._meta.fields]
