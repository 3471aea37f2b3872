from django.contrib import admin

from .models import AccessKey, Delivery, Output, Project, Task, UsageRecord


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")


class OutputInline(admin.TabularInline):
    model = Output
    extra = 0
    readonly_fields = ("index", "format", "width", "height", "frames", "bytes", "file")


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("public_id", "owner", "status", "progress", "code", "created_at")
    list_filter = ("status",)
    search_fields = ("public_id", "original_filename")
    inlines = [OutputInline]


@admin.register(AccessKey)
class AccessKeyAdmin(admin.ModelAdmin):
    list_display = ("key_id", "project", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_id", "secret_hash")


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ("project", "task", "output", "frames", "created_at")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "task",
        "channel",
        "target",
        "attempt",
        "ok",
        "status_code",
        "error",
        "created_at",
    )
    list_filter = ("channel", "ok")
