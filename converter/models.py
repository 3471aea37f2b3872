"""The lasting record of every conversion. RQ's job records expire; these rows
do not, so every status the user sees comes from here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import storages
from django.db import models


def sources_storage():  # named functions: migrations cannot serialise lambdas
    return storages["sources"]


def outputs_storage():
    return storages["outputs"]


def new_task_id() -> str:
    return f"mc-{uuid.uuid4().hex}"


def new_share_key() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def source_name(task: Task, filename: str) -> str:
    # Never the user's name or extension: ffmpeg must not pick a demuxer (or a
    # playlist parser) from it, and a stored key must not be guessable.
    return f"{task.public_id}/{uuid.uuid4().hex}.video"


def new_draft_id() -> str:
    return f"dr-{uuid.uuid4().hex}"


def draft_source_name(draft: Draft, filename: str) -> str:
    # As for a task's source: a neutral name, never the user's.
    return f"drafts/{draft.public_id}/{uuid.uuid4().hex}.video"


def draft_proxy_name(draft: Draft, filename: str) -> str:
    return f"drafts/{draft.public_id}/{uuid.uuid4().hex}.proxy.mp4"


def output_name(output: Output, filename: str) -> str:
    return f"{output.task.public_id}/{output.index}-{output.spec_key}"


def rendition_name(output: Output, filename: str) -> str:
    # filename is "video.mp4" or "poster.jpg": ours, never the user's.
    return f"{output.task.public_id}/{output.index}-{filename}"


def new_access_key_id() -> str:
    # Upper-case letters and digits, like the reference's AccessKeyId; 100 bits.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "LF" + "".join(secrets.choice(alphabet) for _ in range(20))


def new_access_key_secret() -> str:
    return secrets.token_urlsafe(30)  # 240 bits


def hash_secret(secret: str) -> str:
    # The secret is 240 random bits, not a password: one SHA-256 cannot be
    # brute-forced and keeps every API call cheap (a slow KDF would not).
    return hashlib.sha256(secret.encode()).hexdigest()


class Project(models.Model):
    name = models.CharField(max_length=128, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects"
    )
    description = models.CharField(max_length=256, blank=True)
    # Frames (the billing unit) per calendar month (UTC); null: no quota.
    monthly_frame_quota = models.PositiveBigIntegerField(null=True, blank=True)
    # The project a person's browser uploads go to: found by this flag, never
    # by its name (a name is something a client can choose).
    is_default = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(is_default=True),
                name="project_one_default_per_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name


class AccessKey(models.Model):
    """An API credential for exactly one project. The secret is shown once,
    when the key is made; what is stored is its hash (the JSON API compares
    it) and the secret encrypted (``converter.vault``: the signatures of
    Alibaba Cloud's SDKs are HMACs, which only the secret itself can check)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="access_keys")
    key_id = models.CharField(max_length=32, unique=True, default=new_access_key_id, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    # A Fernet token of the secret; empty for a key made before secrets were
    # kept (it works with the JSON API only) and once the key is revoked.
    secret_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The owner's say that this key may create projects, each answered with a
    # first key of its own (CreateProject); without it CreateProject makes the
    # project and no key, and the owner makes keys on the project page.
    may_create_projects = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.key_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def secret_matches(self, secret: str) -> bool:
        # Constant time: the comparison must not tell how many characters matched.
        return hmac.compare_digest(self.secret_hash, hash_secret(secret))


class Task(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=64, unique=True, default=new_task_id, editable=False)
    # Null once the owner revokes the link (``services.removal``): no key,
    # so no URL finds the task; a new link is a new key. Null, not "": the
    # column is unique, and many tasks may have no link.
    share_key = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, default=new_share_key, editable=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    source = models.FileField(
        storage=sources_storage, upload_to=source_name, max_length=500, blank=True
    )
    original_filename = models.CharField(max_length=255, blank=True)
    source_size = models.BigIntegerField(default=0)
    # API tasks read their source from a bucket object (oss://bucket/key or
    # s3://bucket/key) instead of an upload; the worker downloads it itself.
    source_uri = models.CharField(max_length=1100, blank=True)
    spec = models.JSONField()  # TaskSpec.to_dict()
    user_data = models.TextField(blank=True)  # passed through, <= 2048 bytes
    tags = models.JSONField(default=dict, blank=True)  # {"name": "value"}
    notification = models.JSONField(default=dict, blank=True)  # {"MNS": {...}, "Webhook": {...}}
    request = models.JSONField(null=True, blank=True)  # the API request body, for RequestDefinition
    # Frames the request will make when they can be known up front (0: not
    # known); held against the project's monthly quota while the task runs.
    estimated_frames = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)  # 0..100
    code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    probe = models.JSONField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the retention sweep deleted the uploaded source (the outputs
    # stay): CONVERTER_SOURCE_RETENTION_DAYS after the task finished.
    source_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # ListTasks pages by keyset on (created_at, id) within one project.
        indexes = [models.Index(fields=["project", "created_at", "id"], name="task_project_keyset")]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def display_name(self) -> str:
        return (
            self.original_filename or PurePosixPath(self.source.name or "").name or self.public_id
        )


class Draft(models.Model):
    """A source a person uploaded from the editor before choosing settings:
    stored and probed while they trim, turned into a task by Convert without
    uploading again. A claimed draft keeps pointing at its task (whose source
    is the same stored file), so the source can be edited again later; one
    never claimed is removed by the reconciler after CONVERTER_DRAFT_MAX_AGE_S."""

    public_id = models.CharField(max_length=64, unique=True, default=new_draft_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    source = models.FileField(
        storage=sources_storage, upload_to=draft_source_name, max_length=500, blank=True
    )
    original_filename = models.CharField(max_length=255, blank=True)
    source_size = models.BigIntegerField(default=0)
    probe = models.JSONField()  # VideoInfo.to_dict() of the header probe
    # What the server works out for the editor after the upload (a job on
    # the previews queue, ``services.previews``): {"state": "pending" |
    # "ready" | "failed", "bars": the picture inside black bars or None}.
    preview = models.JSONField(default=dict)
    # Suggested moments asked for in the editor (a job on the previews queue,
    # ``services.preview_jobs``): {"state", "length", "items": [{"start",
    # "end", "score", "on_cuts"}], "code" when it failed}.
    moments = models.JSONField(default=dict)
    # A small H.264 copy the browser can play, made with the preview where
    # it cannot play the source (AVI, WMV, FLV, MPEG-TS...); removed when
    # the draft is converted or swept.
    proxy = models.FileField(
        storage=sources_storage, upload_to=draft_proxy_name, max_length=500, blank=True
    )
    # The task Convert made of it; the task owns the stored file from then on
    # (deleting the task deletes the file, and this row with it).
    task = models.OneToOneField(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="draft"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.public_id


class Output(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="outputs")
    index = models.PositiveSmallIntegerField()
    spec = models.JSONField()  # AnimationSpec.to_dict()
    spec_key = models.CharField(max_length=200)  # str(AnimationSpec)
    file = models.FileField(
        storage=outputs_storage, upload_to=output_name, max_length=500, blank=True
    )
    # Where an API output was written: the animation's URI template expanded
    # (oss://bucket/key). Empty: the output lives in ``file``.
    uri = models.CharField(max_length=1100, blank=True)
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    frames = models.PositiveIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    frame_duration_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # For sharing (``pipeline.renditions``), kept in our storage whatever the
    # output's own place: a muted H.264 MP4 of the animation (none for an
    # MP4 output: it is its own) and a JPEG poster of its first frame.
    video = models.FileField(
        storage=outputs_storage, upload_to=rendition_name, max_length=500, blank=True
    )
    video_width = models.PositiveIntegerField(default=0)
    video_height = models.PositiveIntegerField(default=0)
    video_bytes = models.BigIntegerField(default=0)
    poster = models.FileField(
        storage=outputs_storage, upload_to=rendition_name, max_length=500, blank=True
    )
    # What fitting under MaxBytes did (``pipeline.fit``'s ``FitResult.report``:
    # the passes tried, what changed, the SSIM kept); None without MaxBytes.
    fit_report = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["task", "index"], name="output_unique_index")
        ]

    def __str__(self) -> str:
        return f"{self.task.public_id}#{self.index}"

    @property
    def is_done(self) -> bool:
        return bool(self.file) or bool(self.uri and self.bytes)

    @property
    def duration_s(self) -> float:
        """How long one play lasts."""
        return self.frames * self.frame_duration_ms / 1000

    @property
    def content_version(self) -> str:
        """Changes whenever the file could: the ``?v=`` of media URLs that
        may be cached for a year, and their ETags (``views.media``)."""
        return f"{self.pk}-{int(self.created_at.timestamp())}-{self.bytes}"


class UsageRecord(models.Model):
    """Frames billed for one output (the reference bills per output frame).
    Unique per output, so a task that runs twice is billed once. A record
    outlives its task and output (a person deleting a task does not undo the
    bill): their links become null, the project, frames and time stay."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="usage")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="usage"
    )
    output = models.OneToOneField(
        Output, null=True, blank=True, on_delete=models.SET_NULL, related_name="usage"
    )
    frames = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.frames} frames for output {self.output_id}"


class Delivery(models.Model):
    """One attempt to deliver a task's completion message (every attempt is
    kept, failures too, so a missing notification can be explained)."""

    class Channel(models.TextChoices):
        MNS = "mns", "Redis stream (MNS)"
        WEBHOOK = "webhook", "Webhook"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=2048)  # topic name or URL
    message_id = models.CharField(max_length=64)
    attempt = models.PositiveSmallIntegerField()
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.channel} attempt {self.attempt} for task {self.task_id}: {self.ok}"
