"""Pages for people. Views parse input, call one service or selector, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from .. import selectors, services
from ..forms import SignupForm, UploadForm
from ..models import Output, Task
from ..pipeline import CONTENT_TYPES, PipelineError


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect("converter:upload")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "converter/upload.html", {"form": UploadForm()})
    if getattr(request, "upload_too_large", False):
        return _form_errors(request, UploadForm(), {"video": ["The file is too large."]}, status=413)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_errors(request, form, form.errors, status=400)
    try:
        spec = form.to_spec()
        source = form.source_upload()  # one video, or an HLS bundle assembled
        services.upload_check(source, spec)
    except PipelineError as exc:
        return _form_errors(request, form, {"video": [exc.message]}, status=400, code=exc.code)
    task = services.task_create(owner=request.user, spec=spec, upload=source, original_filename=source.name)
    url = reverse("converter:task-detail", args=[task.task_id])
    if _wants_json(request):
        return JsonResponse({"task_id": task.task_id, "url": url}, status=201)
    return HttpResponseRedirect(url)


def _form_errors(request, form, errors, *, status: int, code: str = "InvalidForm") -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"code": code, "errors": {k: list(v) for k, v in errors.items()}}, status=status)
    for field, messages in errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
    return render(request, "converter/upload.html", {"form": form}, status=status)


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    tasks = selectors.task_list_for_owner(request.user)[:200]
    return render(request, "converter/task_list.html", {"tasks": tasks})


@login_required
@require_GET
def task_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    task = selectors.task_get_for_owner(request.user, task_id)
    share_url = request.build_absolute_uri(reverse("converter:shared", args=[task.share_key]))
    return render(request, "converter/task_detail.html", {"task": task, "share_url": share_url})


def task_state(task: Task) -> dict:
    """What the task page shows, as JSON for its polling script."""
    outputs = [
        {
            "index": o.index,
            "format": o.format,
            "width": o.width,
            "height": o.height,
            "frames": o.frames,
            "bytes": o.bytes,
            "url": reverse("converter:task-output", args=[task.task_id, o.index, o.format]),
        }
        for o in task.outputs.all()
        if o.is_done
    ]
    return {
        "task_id": task.task_id,
        "status": task.status,
        "status_label": task.get_status_display(),
        "progress": task.progress,
        "code": task.code,
        "message": task.message,
        "outputs": outputs,
    }


@login_required
@require_GET
def task_status(request: HttpRequest, task_id: str) -> JsonResponse:
    task = selectors.task_get_for_owner(request.user, task_id)
    return JsonResponse(task_state(task))


@login_required
@require_GET
def task_output(request: HttpRequest, task_id: str, index: int, ext: str) -> HttpResponse:
    task = selectors.task_get_for_owner(request.user, task_id)
    return _deliver(request, task, selectors.output_get(task, index))


@require_GET
def shared(request: HttpRequest, share_key: str) -> HttpResponse:
    task = selectors.task_get_shared(share_key)
    return render(request, "converter/shared.html", {"task": task, "outputs": task.outputs.all()})


@require_GET
def shared_output(request: HttpRequest, share_key: str, index: int, ext: str) -> HttpResponse:
    task = selectors.task_get_shared(share_key)
    return _deliver(request, task, selectors.output_get(task, index))


def _deliver(request: HttpRequest, task: Task, output: Output) -> HttpResponse:
    """The image itself: streamed through us (default), or a redirect to a
    freshly signed storage URL. Either way the link we hand out never expires."""
    download = request.GET.get("download") == "1"
    stem = (task.display_name.rsplit(".", 1)[0] or "animation")[:80]
    filename = f"{stem}.{output.format}"
    if settings.CONVERTER_DELIVERY == "redirect":
        params = {}
        if download:
            params["ResponseContentDisposition"] = f'attachment; filename="{task.task_id}.{output.format}"'
        url = output.file.storage.url(output.file.name, parameters=params) if params else output.file.url
        return HttpResponseRedirect(url)
    response = FileResponse(
        output.file.open("rb"), as_attachment=download, filename=filename, content_type=CONTENT_TYPES[output.format]
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
