"""Pages for people. Views parse input, call one service or selector, render."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages as notices
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from redis.exceptions import RedisError

from .. import ratelimit, selectors, storage, uploads
from ..errors import Code, LoopforgeError, invalid
from ..forms import (
    HistoryFilterForm,
    ProjectForm,
    QuotaForm,
    SignupForm,
    SourceForm,
    UploadForm,
)
from ..models import Draft, Task
from ..presets import PRESETS
from ..services import (
    access_keys,
    metering,
    previews,
    projects,
    queueing,
    removal,
    submission,
)
from ..spec import TaskSpec
from . import media
from .refusal import refusal_json

T = TypeVar("T")

HISTORY_PAGE_SIZE = 50  # tasks on a page of the history

# A new access key's secret, between creating the key and showing it once
# (at most this long: a secret never shown is dropped).
NEW_KEY_SESSION = "converter:new-access-keys"
NEW_SECRET_KEPT_S = 300


class AuthedRequest(HttpRequest):
    """A request ``login_required`` let through: its user is a ``User``."""

    user: User


def _found(value: T | None, what: str) -> T:
    """A selector's answer, or 404 when it found nothing."""
    if value is None:
        raise Http404(f"No such {what}.")
    return value


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _throttled(
    request: HttpRequest, template: str, form: Any, exc: ratelimit.RateLimited
) -> HttpResponse:
    """The page again, with the limit's message, answered 429 (the form is
    not validated: for a login that would hash the password)."""
    context = {"form": form, "refusal": exc.message}
    response = render(request, template, context, status=exc.status)
    response["Retry-After"] = str(exc.retry_after_s)
    return response


class LoginView(auth_views.LoginView):
    """Django's login, with a limit per client address and per account
    checked before the password is hashed."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            username = str(request.POST.get("username", ""))[:150]
            ratelimit.login_attempt(_client_address(request), username)
        except ratelimit.RateLimited as exc:
            form = self.get_form_class()(request, initial={"username": username})
            return _throttled(request, "registration/login.html", form, exc)
        return super().post(request, *args, **kwargs)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.CONVERTER_SIGNUP_OPEN:
        return render(request, "registration/signup_closed.html", status=403)
    if request.method == "POST":
        try:
            ratelimit.signup_attempt(_client_address(request))
        except ratelimit.RateLimited as exc:
            return _throttled(request, "registration/signup.html", SignupForm(), exc)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect("converter:upload")
    return render(request, "registration/signup.html", {"form": form})


def _editor_context(form: UploadForm, draft: Draft | None = None) -> dict[str, Any]:
    return {
        "form": form,
        "max_output_frames": settings.CONVERTER_MAX_OUTPUT_FRAMES,
        # A draft the page opens on (Edit again): the editor loads it as if
        # the video had just been chosen.
        "draft_facts": _draft_facts(draft) if draft else None,
        # What the editor needs of each platform preset (caps, formats, box).
        "presets": {
            p.id: {"name": p.name, "max_bytes": p.max_bytes, "formats": list(p.formats)}
            for p in PRESETS.values()
        },
    }


def _editor_again(request: AuthedRequest) -> dict[str, Any]:
    """The upload page, empty, or opened on an unclaimed draft of the
    person's (``?draft=``) with the settings of the task it came from
    (``?from=``)."""
    draft = selectors.draft_get_for_owner(request.user, request.GET.get("draft", ""))
    if draft is None or draft.task_id is not None:
        return _editor_context(UploadForm())
    initial: dict[str, Any] = {"draft": draft.public_id}
    task = selectors.task_get_for_owner(request.user, request.GET.get("from", ""))
    if task is not None:
        spec = TaskSpec.from_dict(task.spec)
        picture = (int(draft.probe["width"]), int(draft.probe["height"]))
        initial |= UploadForm.initial_from(spec, picture)
    return _editor_context(UploadForm(initial=initial), draft)


@login_required
@require_POST
def draft_create(request: AuthedRequest) -> HttpResponse:
    """The editor's background upload (JSON only): the video stored and
    probed as soon as it is chosen; answers the draft's id and the probe's
    facts, which the editor's timeline uses."""
    try:
        ratelimit.draft_creation_by_user(request.user)
    except ratelimit.RateLimited as exc:
        response = refusal_json(exc, {"video": [exc.message]})
        response["Retry-After"] = str(exc.retry_after_s)
        return response
    _ = request.FILES  # parsed now: the upload handler marks a stopped upload
    if uploads.is_too_large(request):
        return refusal_json(uploads.too_large(), {"video": [uploads.too_large().message]})
    form = SourceForm(request.POST, request.FILES)
    if not form.is_valid():
        invalid = LoopforgeError(Code.INVALID_FORM, "Some choices need a second look.")
        errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
        message = " ".join(errors.get("video", [])) or invalid.message
        return refusal_json(LoopforgeError(Code.INVALID_FORM, message), errors)
    try:
        draft = submission.draft_create(owner=request.user, upload=form.source_upload())
    except LoopforgeError as exc:
        return refusal_json(exc, {"video": [exc.message]})
    return JsonResponse(_draft_facts(draft), status=201)


def _draft_facts(draft: Draft) -> dict[str, Any]:
    """What the editor knows of a draft: the probe's facts for its timeline
    and where to find the rest."""
    probe = draft.probe
    return {
        "draft_id": draft.public_id,
        "filename": draft.original_filename,
        "duration": probe["duration"],
        "width": probe["width"],
        "height": probe["height"],
        "fps": probe["fps"],
        "audio_only": probe.get("audio_only", False),
        # What the browser would have to play: the editor plays the local
        # file when it can, and trims by the numbers when it cannot.
        "container": probe["demuxer"],
        "codec": probe["codec"],
        "max_output_frames": settings.CONVERTER_MAX_OUTPUT_FRAMES,
        # Where the editor polls for the server's preview (black bars...)
        # and, with no local file (Edit again), plays the stored source.
        "url": reverse("converter:draft-detail", args=[draft.public_id]),
        "moments_url": reverse("converter:draft-moments", args=[draft.public_id]),
        "estimate_url": reverse("converter:draft-estimate", args=[draft.public_id]),
        "source_url": reverse("converter:draft-source", args=[draft.public_id]),
        "preview": previews.draft_preview_of(draft),
    }


@login_required
@require_GET
def draft_source(request: AuthedRequest, draft_id: str) -> HttpResponseBase:
    """The draft's stored video, to its owner, for the editor's player when
    the video was not chosen on this page (Edit again)."""
    draft = _found(selectors.draft_get_for_owner(request.user, draft_id), "draft")
    kind = VIDEO_TYPES.get(str(draft.probe.get("demuxer", "")), "application/octet-stream")
    return _draft_file(draft.source, kind)


@login_required
@require_GET
def draft_proxy(request: AuthedRequest, draft_id: str) -> HttpResponseBase:
    """The H.264 copy the server made of a draft a browser cannot play."""
    draft = _found(selectors.draft_get_for_owner(request.user, draft_id), "draft")
    return _draft_file(draft.proxy, "video/mp4")


def _draft_file(field: FieldFile, content_type: str) -> HttpResponseBase:
    if not field.name:
        raise Http404("There is no such video.")
    try:
        stream = field.open("rb")
    except (storage.ObjectNotFound, OSError):
        raise Http404("This draft's video is no longer stored.") from None
    response = FileResponse(stream, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# The browser-playable containers (ffmpeg's demuxer names), for the player.
VIDEO_TYPES = {"mov": "video/mp4", "matroska": "video/webm", "webm": "video/webm"}


@login_required
@require_POST
def task_edit_again(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Edit again: the editor on a copy of the task's stored source, with
    the task's settings, nothing uploaded."""
    task = _found(selectors.task_get_for_owner(request.user, public_id), "task")
    try:
        draft = submission.draft_from_task(owner=request.user, task=task)
    except LoopforgeError as exc:
        return _refuse(request, exc)
    query = urlencode({"draft": draft.public_id, "from": task.public_id})
    return redirect(f"{reverse('converter:upload')}?{query}")


@login_required
@require_GET
def draft_detail(request: AuthedRequest, draft_id: str) -> HttpResponse:
    """A draft's preview as the server has it so far (JSON; the editor polls)."""
    draft = selectors.draft_get_for_owner(request.user, draft_id)
    if draft is None:
        error = LoopforgeError(Code.RESOURCE_NOT_FOUND, "There is no such draft.")
        return refusal_json(error, {})
    return JsonResponse(
        {
            "draft_id": draft.public_id,
            "preview": previews.draft_preview_of(draft),
            "moments": previews.draft_moments_of(draft),
        }
    )


@login_required
@require_POST
def draft_estimate(request: AuthedRequest, draft_id: str) -> HttpResponse:
    """The editor's live estimate: the upload form's settings (no file)
    answered with the animation's frames, size and estimated bytes, by a
    trial encode on the previews queue; nothing is queued or billed."""
    draft = _found(selectors.draft_get_for_owner(request.user, draft_id), "draft")
    try:
        ratelimit.estimate_by_user(request.user)
    except ratelimit.RateLimited as exc:
        response = refusal_json(exc, {})
        response["Retry-After"] = str(exc.retry_after_s)
        return response
    form = UploadForm({**request.POST.dict(), "draft": draft.public_id})
    if not form.is_valid():
        errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
        return refusal_json(
            LoopforgeError(Code.INVALID_FORM, "Some choices need a second look."), errors
        )
    try:
        spec = form.to_spec()
        answer = queueing.preview_call(
            queueing.ESTIMATE_DRAFT, draft.pk, spec.to_dict(), wait_s=queueing.ESTIMATE_WAIT_S
        )
    except ValidationError as exc:
        return refusal_json(LoopforgeError(Code.INVALID_FORM, " ".join(exc.messages)), {})
    except LoopforgeError as exc:
        return refusal_json(exc, {})
    except RedisError:
        return refusal_json(LoopforgeError(Code.SERVICE_UNAVAILABLE, "No estimate just now."), {})
    found = answer["Animations"][0]
    return JsonResponse(
        {
            "frames": found["Frames"],
            "width": found["Width"],
            "height": found["Height"],
            "bytes": found["EstimatedBytes"],
            "low": found["EstimatedBytesLow"],
            "high": found["EstimatedBytesHigh"],
        }
    )


# The window lengths a person may ask moments of, in seconds.
MOMENT_LENGTHS_S = (0.5, 60.0)


@login_required
@require_POST
def draft_moments(request: AuthedRequest, draft_id: str) -> HttpResponse:
    """Suggest moments: queue the search for the draft's best windows of
    ``length`` seconds; the editor polls the draft for them."""
    draft = _found(selectors.draft_get_for_owner(request.user, draft_id), "draft")
    try:
        length = float(request.POST.get("length", ""))
    except ValueError:
        length = math.nan
    low, high = MOMENT_LENGTHS_S
    if not low <= length <= high:
        message = f"Give a length from {low:g} to {high:g} seconds."
        return refusal_json(invalid("length", message), {"length": [message]})
    try:
        moments = previews.draft_moments_request(draft, length)
    except RedisError:
        error = LoopforgeError(Code.SERVICE_UNAVAILABLE, "Moments cannot be found right now.")
        return refusal_json(error, {})
    return JsonResponse({"draft_id": draft.public_id, "moments": moments}, status=202)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: AuthedRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "converter/upload.html", _editor_again(request))
    try:
        ratelimit.task_creation_by_user(request.user)
    except ratelimit.RateLimited as exc:
        response = _refuse(request, exc)
        response["Retry-After"] = str(exc.retry_after_s)
        return response
    # Parse the body now (the CSRF middleware may not have): the upload
    # handler marks a request whose upload it stopped.
    _ = request.FILES
    if uploads.is_too_large(request):
        return _refuse(request, uploads.too_large())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        invalid = LoopforgeError(Code.INVALID_FORM, "Some choices need a second look.")
        errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
        return _refuse(request, invalid, form, errors=errors)
    try:
        if form.cleaned_data["draft"]:  # the editor uploaded the video already
            draft = _found(
                selectors.draft_get_for_owner(request.user, form.cleaned_data["draft"]), "draft"
            )
            task = submission.task_submit_draft(
                owner=request.user, spec=form.to_spec(), draft=draft
            )
        else:
            task = submission.task_submit_upload(
                owner=request.user,
                spec=form.to_spec(),
                upload=form.source_upload(),  # one video, or an HLS bundle assembled
            )
    except LoopforgeError as exc:
        return _refuse(request, exc, form)
    url = reverse("converter:task-detail", args=[task.public_id])
    if _wants_json(request):
        return JsonResponse({"task_id": task.public_id, "url": url}, status=201)
    return HttpResponseRedirect(url)


def _refuse(
    request: HttpRequest,
    exc: LoopforgeError,
    form: UploadForm | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> HttpResponse:
    """A refused upload, with ``exc``'s status: the web's one JSON error
    shape for the page's script, or the form again with the messages."""
    errors = errors or {"video": [exc.message]}  # a refusal of the upload itself
    if _wants_json(request):
        return refusal_json(exc, errors)
    form = form or UploadForm()
    for field, messages in errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
    return render(request, "converter/upload.html", _editor_context(form), status=exc.status)


@login_required
@require_GET
def task_list(request: AuthedRequest) -> HttpResponse:
    """The person's tasks, newest first, a page at a time (``?page=N``; a
    page out of range shows the last one), narrowed by the search form
    (``q``, ``status``, ``format``; kept across pages)."""
    search = HistoryFilterForm(request.GET)
    tasks = selectors.task_list_for_owner(request.user, **search.filters())
    page = Paginator(tasks, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "converter/task_list.html", {"tasks": page, "search": search})


@login_required
@require_GET
def task_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    task = _found(selectors.task_get_for_owner(request.user, public_id), "task")
    share_url = (
        request.build_absolute_uri(reverse("converter:shared", args=[task.share_key]))
        if task.share_key
        else ""  # revoked: no link until a new one is made
    )
    context = {
        "task": task,
        "outputs": selectors.output_list(task),
        "share_url": share_url,
        "deliveries": selectors.delivery_list(task),
        "retention_days": settings.CONVERTER_SOURCE_RETENTION_DAYS,
        "source_deleted_on": _source_deleted_on(task),
    }
    return render(request, "converter/task_detail.html", context)


def _source_deleted_on(task: Task) -> datetime | None:
    """When the retention sweep deletes the task's uploaded source (None:
    never, or not known until the task finishes)."""
    days = settings.CONVERTER_SOURCE_RETENTION_DAYS
    if not task.source or days <= 0 or task.finished_at is None:
        return None
    return task.finished_at + timedelta(days=days)


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
            "url": reverse("converter:task-output", args=[task.public_id, o.index, o.format])
            + f"?v={o.content_version}",
        }
        for o in selectors.output_list(task)
    ]
    return {
        "task_id": task.public_id,
        "status": task.status,
        "status_label": task.get_status_display(),
        "progress": task.progress,
        "code": task.code,
        "message": task.message,
        "outputs": outputs,
    }


@login_required
@require_GET
def task_status(request: AuthedRequest, public_id: str) -> JsonResponse:
    task = _found(selectors.task_get_for_owner(request.user, public_id), "task")
    return JsonResponse(task_state(task))


@login_required
@require_safe
def task_output(request: AuthedRequest, public_id: str, index: int, ext: str) -> HttpResponseBase:
    task = _found(selectors.task_get_for_owner(request.user, public_id), "task")
    output = _found(selectors.output_get(task, index), "animation")
    stem = (task.display_name.rsplit(".", 1)[0] or "animation")[:80]
    return media.respond(request, media.output_file(output, stem), shared=False)


# --- Projects, access keys and usage ----------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: AuthedRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = projects.project_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                monthly_frame_quota=form.cleaned_data["monthly_frame_quota"],
            )
        except LoopforgeError as exc:
            form.add_error("name", exc.message)
        else:
            return redirect("converter:project-detail", project.name)
    owned = selectors.project_list_for_owner(request.user)
    return render(request, "converter/project_list.html", {"projects": owned, "form": form})


@login_required
@require_GET
def project_detail(request: AuthedRequest, name: str) -> HttpResponse:
    project = _found(selectors.project_get_for_owner(request.user, name), "project")
    new = _take_new_secret(request, project)
    if new is None:
        return _project_page(request, project)
    response = _project_page(request, project, new_key=new[0], new_secret=new[1])
    response["Cache-Control"] = "no-store"
    return response


def _hold_new_secret(request: AuthedRequest, project, key, secret: str) -> None:
    """Keep a new key's secret in the (server-side) session for the project
    page to show once: the latest key of each project, for a few minutes."""
    pending = request.session.get(NEW_KEY_SESSION, {})
    pending[project.name] = {"key_id": key.key_id, "secret": secret, "at": time.time()}
    request.session[NEW_KEY_SESSION] = pending


def _take_new_secret(request: AuthedRequest, project):
    """(key, secret) held for this project, now forgotten; None if there is
    none, it is stale or the key is no longer active. Stale secrets of other
    projects are forgotten too."""
    pending = request.session.get(NEW_KEY_SESSION)
    if not pending:
        return None
    fresh = {p: n for p, n in pending.items() if time.time() - n["at"] < NEW_SECRET_KEPT_S}
    new = fresh.pop(project.name, None)
    if fresh:
        request.session[NEW_KEY_SESSION] = fresh
    else:
        del request.session[NEW_KEY_SESSION]
    if new is None:
        return None
    key = selectors.access_key_get(project, new["key_id"], active=True)
    return (key, new["secret"]) if key else None


def _project_page(request: AuthedRequest, project, **extra) -> HttpResponse:
    context = {
        "project": project,
        "keys": selectors.access_key_list(project),
        "frames_this_month": metering.project_frames_used(project),
        "api_url": request.build_absolute_uri("/api/v1/"),
        "quota_form": QuotaForm(initial={"monthly_frame_quota": project.monthly_frame_quota}),
        **extra,
    }
    return render(request, "converter/project_detail.html", context)


@login_required
@require_POST
def project_quota(request: AuthedRequest, name: str) -> HttpResponse:
    project = _found(selectors.project_get_for_owner(request.user, name), "project")
    form = QuotaForm(request.POST)
    if not form.is_valid():
        return _project_page(request, project, quota_form=form)
    projects.project_set_quota(
        project, monthly_frame_quota=form.cleaned_data["monthly_frame_quota"]
    )
    return redirect("converter:project-detail", project.name)


@login_required
@require_POST
def access_key_create(request: AuthedRequest, name: str) -> HttpResponse:
    project = _found(selectors.project_get_for_owner(request.user, name), "project")
    key, secret = access_keys.access_key_create(
        project, may_create_projects=request.POST.get("may_create_projects") == "on"
    )
    # Redirected, so that reloading the page does not make another key; the
    # secret (stored only as a hash) waits in the server-side session until
    # the project page shows it, once.
    _hold_new_secret(request, project, key, secret)
    return redirect("converter:project-detail", project.name)


@login_required
@require_POST
def access_key_revoke(request: AuthedRequest, name: str, key_id: str) -> HttpResponse:
    project = _found(selectors.project_get_for_owner(request.user, name), "project")
    key = _found(selectors.access_key_get(project, key_id), "key")
    access_keys.access_key_revoke(key)
    return redirect("converter:project-detail", project.name)


@login_required
@require_GET
def usage(request: AuthedRequest) -> HttpResponse:
    """Frames per project per day (last 31 days) and per month (last 12)."""
    now = timezone.now()
    daily = selectors.usage_for_owner(
        request.user,
        granularity="day",
        start=now - timedelta(days=31),
        end=now + timedelta(seconds=1),
    )
    monthly = selectors.usage_for_owner(
        request.user,
        granularity="month",
        start=metering.month_start(now - timedelta(days=335)),
        end=now + timedelta(seconds=1),
    )
    owned = selectors.project_list_for_owner(request.user)
    quotas = [{"project": p, "used": metering.project_frames_used(p)} for p in owned]
    return render(
        request, "converter/usage.html", {"daily": daily, "monthly": monthly, "quotas": quotas}
    )


# --- Managing a task: delete, share link, retry ------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def task_delete(request: AuthedRequest, public_id: str) -> HttpResponse:
    """GET: the confirmation (a page of its own, so it works without script);
    POST: the task and its files deleted, then the history with a message."""
    task = _found(selectors.task_get_for_owner(request.user, public_id), "task")
    if request.method == "GET":
        return render(request, "converter/task_delete.html", {"task": task})
    try:
        removal.task_delete(task)
    except LoopforgeError as exc:
        notices.error(request, exc.message)
        return redirect("converter:task-detail", task.public_id)
    notices.success(request, f"Deleted {task.display_name}: its files and share link are gone.")
    return redirect("converter:task-list")


@login_required
@require_POST
def share_link_revoke(request: AuthedRequest, public_id: str) -> HttpResponse:
    said = "The share link is revoked: it no longer shows the animation."
    return _share_link_change(request, public_id, removal.share_link_revoke, said)


@login_required
@require_POST
def share_link_renew(request: AuthedRequest, public_id: str) -> HttpResponse:
    said = "A new share link is made; any earlier link no longer works."
    return _share_link_change(request, public_id, removal.share_link_renew, said)


def _share_link_change(
    request: AuthedRequest, public_id: str, change: Callable[[Task], object], said: str
) -> HttpResponse:
    task = _found(selectors.task_get_for_owner(request.user, public_id), "task")
    change(task)
    notices.success(request, said)
    return redirect("converter:task-detail", task.public_id)


@login_required
@require_POST
def task_retry(request: AuthedRequest, public_id: str) -> HttpResponse:
    task = _found(selectors.task_get_for_owner(request.user, public_id), "task")
    try:
        retried = removal.task_retry(task)
    except LoopforgeError as exc:
        notices.error(request, exc.message)
    else:
        if retried:
            notices.success(request, "The task is queued again.")
        else:
            notices.error(request, "Only a failed task can be retried.")
    return redirect("converter:task-detail", task.public_id)


# At most this many tasks are deleted in one go (a page of the history).
BULK_DELETE_MAX = HISTORY_PAGE_SIZE


@login_required
@require_POST
def task_bulk_delete(request: AuthedRequest) -> HttpResponse:
    """The history's "Delete selected": the ticked tasks listed for a
    confirmation (a page of its own, so it works without script), then,
    with ``confirm``, each deleted as Delete on its page does (a task being
    converted is kept, and the message says so)."""
    ids = request.POST.getlist("task")[:BULK_DELETE_MAX]
    tasks = [t for t in (selectors.task_get_for_owner(request.user, i) for i in ids) if t]
    if not tasks:
        notices.error(request, "Tick the animations to delete first.")
        return redirect("converter:task-list")
    if request.POST.get("confirm") != "yes":
        return render(request, "converter/task_bulk_delete.html", {"tasks": tasks})
    deleted, kept = 0, []
    for task in tasks:
        try:
            removal.task_delete(task)
            deleted += 1
        except LoopforgeError:
            kept.append(task.display_name)
    notices.success(request, f"Deleted {deleted} animation(s) with their files and share links.")
    if kept:
        notices.error(request, f"Kept while being converted: {', '.join(kept)}.")
    return redirect("converter:task-list")
