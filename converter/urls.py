from django.urls import path, re_path

from .views import api, ops, sharing, web

app_name = "converter"

urlpatterns = [
    path("", web.upload, name="upload"),
    path("drafts/", web.draft_create, name="draft-create"),
    path("drafts/<str:draft_id>/", web.draft_detail, name="draft-detail"),
    path("drafts/<str:draft_id>/source", web.draft_source, name="draft-source"),
    path("drafts/<str:draft_id>/moments", web.draft_moments, name="draft-moments"),
    path("drafts/<str:draft_id>/estimate", web.draft_estimate, name="draft-estimate"),
    path("drafts/<str:draft_id>/proxy.mp4", web.draft_proxy, name="draft-proxy"),
    path("signup/", web.signup, name="signup"),
    path("tasks/", web.task_list, name="task-list"),
    path("tasks/delete", web.task_bulk_delete, name="task-bulk-delete"),
    path("tasks/<str:public_id>/", web.task_detail, name="task-detail"),
    path("tasks/<str:public_id>/status.json", web.task_status, name="task-status"),
    path("tasks/<str:public_id>/edit", web.task_edit_again, name="task-edit-again"),
    path("tasks/<str:public_id>/delete", web.task_delete, name="task-delete"),
    path("tasks/<str:public_id>/retry", web.task_retry, name="task-retry"),
    path("tasks/<str:public_id>/share/revoke", web.share_link_revoke, name="share-link-revoke"),
    path("tasks/<str:public_id>/share/renew", web.share_link_renew, name="share-link-renew"),
    path("tasks/<str:public_id>/<int:index>.<str:ext>", web.task_output, name="task-output"),
    path("s/<str:share_key>/", sharing.shared, name="shared"),
    path("s/<str:share_key>/embed", sharing.shared_embed, name="shared-embed"),
    path("s/<str:share_key>/<int:index>.<str:ext>", sharing.shared_output, name="shared-output"),
    path("oembed", sharing.oembed, name="oembed"),
    path("projects/", web.project_list, name="project-list"),
    path("projects/<str:name>/", web.project_detail, name="project-detail"),
    path("projects/<str:name>/quota/", web.project_quota, name="project-quota"),
    path("projects/<str:name>/keys/", web.access_key_create, name="access-key-create"),
    path(
        "projects/<str:name>/keys/<str:key_id>/revoke/",
        web.access_key_revoke,
        name="access-key-revoke",
    ),
    path("usage/", web.usage, name="usage"),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("api/v1/", api.dispatch, name="api"),
    path("api/v1/openapi.json", api.openapi, name="api-openapi"),
    path("api/v1/<str:action_name>", api.dispatch, name="api-action"),
    re_path(r"^api/v1/.+$", api.not_found),
]
