from django.contrib import admin

from .models import Output, Project, Task


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")


class OutputInline(admin.TabularInline):
    model = Output
    extra = 0
    readonly_fields = ("index", "format", "width", "height", "frames", "bytes", "file")


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("task_id", "owner", "status", "progress", "code", "created_at")
    list_filter = ("status",)
    search_fields = ("task_id", "original_filename")
    inlines = [OutputInline]
