"""The only code that knows where files live. The pipeline wants local paths;
storage may be S3. ``source_copy`` bridges the two and always cleans up."""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db.models.fields.files import FieldFile

from .errors import Code, LoopforgeError
from .models import sources_storage
from .pipeline import hls
from .pipeline.errors import PipelineError
from .pipeline.formats import CONTENT_TYPES, EXTENSIONS
from .pipeline.workdir import private_folder
from .spec import ObjectUri, key_problem


class StorageUnavailable(LoopforgeError):
    """Storage could not be reached, or failed to read or write: the one
    failure of this module that may pass (a task meeting it is retried).
    Nothing else is taken for storage trouble: PyAV, for one, raises
    subclasses of OSError for damaged media."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            Code.STORAGE_UNAVAILABLE, "Storage could not be reached; try again in a while."
        )
        self.detail = detail


class ObjectNotFound(Exception):
    """The object (or stored upload) named does not exist."""


@contextmanager
def _faults(action: str, name: str) -> Iterator[None]:
    """The storage layer's own failures, told apart: a missing object is
    ``ObjectNotFound``, any other trouble reaching or using storage (S3
    errors, connections, the local copy's disk) ``StorageUnavailable``.
    Wrap storage operations only, never code that runs on what they fetched."""
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise ObjectNotFound(name) from None
        raise StorageUnavailable(f"S3 {action} {name} failed: {exc}") from exc
    except FileNotFoundError:
        raise ObjectNotFound(name) from None
    except (BotoCoreError, OSError) as exc:
        raise StorageUnavailable(f"{action} {name} failed: {exc!r}") from exc


@contextmanager
def stored_source_copy(name: str) -> Iterator[Path]:
    """Download an upload kept in the sources storage into a fresh private
    folder, under a fixed neutral name, removed afterwards whatever happens."""
    with private_folder("src") as folder:
        target = folder / "source.video"
        with (
            _faults("GET", name),
            sources_storage().open(name, "rb") as src,
            open(target, "wb") as dst,
        ):
            shutil.copyfileobj(src, dst, length=1024 * 1024)
        yield target


@contextmanager
def upload_path(upload: File) -> Iterator[Path]:
    """A local path holding an upload: Django's temporary file when it has
    one, otherwise a private copy that is removed afterwards."""
    if hasattr(upload, "temporary_file_path"):
        yield Path(upload.temporary_file_path())
        return
    with private_folder("up") as folder:
        target = folder / "upload.video"
        upload.seek(0)
        with open(target, "wb") as dst:
            for chunk in upload.chunks():
                dst.write(chunk)
        yield target


def save_source(field: FieldFile, upload: UploadedFile) -> None:
    """Stream an upload to storage (multipart for large files), no DB write."""
    upload.seek(0)
    upload.content_type = "application/octet-stream"  # never the client's claim
    with _faults("PUT", "a source"):
        field.save("source.video", upload, save=False)


def copy_source(name: str, field: FieldFile) -> None:
    """A stored source copied into ``field`` (another draft's or task's),
    streamed storage to storage: the person uploads nothing again, and each
    copy is deleted with its own row."""
    with _faults("GET", name), sources_storage().open(name, "rb") as src:
        field.save("source.video", File(src), save=False)


def save_output(field: FieldFile, data: bytes, fmt: str) -> None:
    # An uploaded file's content_type is what django-storages sends to S3.
    name = f"animation.{EXTENSIONS[fmt]}"
    with _faults("PUT", "an output"):
        field.save(name, SimpleUploadedFile(name, data, CONTENT_TYPES[fmt]), save=False)


def save_rendition(field: FieldFile, name: str, data: bytes, content_type: str) -> None:
    """Store a rendition of an output (``name``: ours, "video.mp4" or
    "poster.jpg"), with its exact content type."""
    with _faults("PUT", "a rendition"):
        field.save(name, SimpleUploadedFile(name, data, content_type), save=False)


# --- Bucket objects named by the API (oss://bucket/key, s3://bucket/key) -----------
# The API reads sources from and writes animations to objects the client names,
# on the configured S3 server, with the server's credentials: only buckets in
# CONVERTER_API_BUCKETS, never the prefixes where this app keeps its own files,
# and with CONVERTER_API_OBJECT_SCOPE "project" only the project's own folder.

RESERVED_PREFIXES = ("sources/", "outputs/", "misc/")


class ObjectForbidden(LoopforgeError):
    """A bucket or key the API may not touch (``Forbidden``)."""

    def __init__(self, message: str) -> None:
        super().__init__(Code.FORBIDDEN, message)


@functools.lru_cache(maxsize=4)
def _client(endpoint: str, *, quick: bool = False):
    """The S3 client for ``endpoint``; a ``quick`` one tries once and gives
    up after 3 s (a health check must answer at once)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=settings.CONVERTER_S3_ACCESS_KEY,
        aws_secret_access_key=settings.CONVERTER_S3_SECRET_KEY,
        region_name=settings.CONVERTER_S3_REGION,
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1} if quick else {"max_attempts": 3, "mode": "standard"},
            connect_timeout=3 if quick else 10,
            read_timeout=3 if quick else 60,
        ),
    )


def s3_client():
    return _client(settings.CONVERTER_S3_ENDPOINT)


def check_reachable() -> None:
    """Raise ``StorageUnavailable`` unless the app's own storage answers now
    (the bucket with S3, a writable data folder with local storage): for /readyz."""
    if settings.CONVERTER_STORAGE != "s3":
        if not os.access(settings.DATA_DIR, os.W_OK):
            raise StorageUnavailable(f"The data folder {settings.DATA_DIR} is not writable.")
        return
    client = _client(settings.CONVERTER_S3_ENDPOINT, quick=True)
    with _faults("HEAD", settings.CONVERTER_S3_BUCKET):
        client.head_bucket(Bucket=settings.CONVERTER_S3_BUCKET)


def object_check_allowed(bucket: str, key: str, project: str) -> None:
    """Refuse buckets the installation does not open to the API, the
    prefixes of our own storage (other users' uploads and outputs live there)
    and, where each project has its own folder, keys outside ``project``'s."""
    if settings.CONVERTER_STORAGE != "s3":
        raise ObjectForbidden("Bucket objects need S3 storage (CONVERTER_STORAGE=s3).")
    if bucket not in settings.CONVERTER_API_BUCKETS:
        raise ObjectForbidden(f"Bucket {bucket!r} is not open to the API on this installation.")
    # Every key the worker reads or writes comes here, parsed or not. A key
    # that passes key_problem is already the one SeaweedFS stores (it would
    # turn "\\" into "/" and collapse "//"), so the prefix checks below see
    # the stored key.
    problem = key_problem(key)
    if problem:
        raise ObjectForbidden(f"The object key {problem}.")
    if bucket == settings.CONVERTER_S3_BUCKET and key.startswith(RESERVED_PREFIXES):
        raise ObjectForbidden(
            f"Keys under {', '.join(RESERVED_PREFIXES)} are reserved for Loopforge itself."
        )
    if settings.CONVERTER_API_OBJECT_SCOPE == "project" and not key.startswith(f"{project}/"):
        raise ObjectForbidden(
            "On this installation each project has its own folder: "
            f"keys must start with {project + '/'!r}."
        )


def object_size(bucket: str, key: str) -> int:
    """The object's size; ObjectNotFound when there is none."""
    with _faults("HEAD", f"{bucket}/{key}"):
        return s3_client().head_object(Bucket=bucket, Key=key)["ContentLength"]


def _download(bucket: str, key: str, target: Path, max_bytes: int) -> int:
    """One object to a local file, at most ``max_bytes`` of it (the object
    may have been replaced since its size was checked: a reusable pre-signed
    URL allows that); its size. Errors as ``_faults`` tells them apart."""
    written = 0
    with _faults("GET", f"{bucket}/{key}"), open(target, "wb") as dst:
        body = s3_client().get_object(Bucket=bucket, Key=key)["Body"]
        for chunk in body.iter_chunks(1024 * 1024):
            written += len(chunk)
            if written > max_bytes:
                body.close()
                raise PipelineError(
                    Code.SOURCE_TOO_LARGE,
                    f"The source is larger than {max_bytes:,} bytes, the limit.",
                )
            dst.write(chunk)
    return written


@contextmanager
def object_local_copy(bucket: str, key: str) -> Iterator[Path]:
    """Download an object into a private folder under a neutral name (ffmpeg
    is never handed a URL, nor the client's file name), removed afterwards."""
    with private_folder("obj") as folder:
        target = folder / "source.video"
        _download(bucket, key, target, settings.CONVERTER_MAX_UPLOAD_BYTES)
        yield target


def object_put(target: ObjectUri, data: bytes, fmt: str) -> None:
    """Write an animation to the bucket object the API named."""
    with _faults("PUT", str(target)):
        s3_client().put_object(
            Bucket=target.bucket, Key=target.key, Body=data, ContentType=CONTENT_TYPES[fmt]
        )


def object_read(bucket: str, key: str) -> bytes:
    return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()


def object_open(bucket: str, key: str):
    """A readable stream of the object (for the web pages that show API outputs)."""
    return s3_client().get_object(Bucket=bucket, Key=key)["Body"]


def object_signed_url(bucket: str, key: str, params: dict | None = None) -> str:
    return s3_client().generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, **(params or {})},
        ExpiresIn=settings.CONVERTER_SIGNED_URL_EXPIRY_S,
    )


def object_upload_url(bucket: str, key: str, expires_s: int) -> str:
    """A pre-signed PUT URL a program can upload a source to without S3
    credentials of its own, signed for the address clients use."""
    client = _client(settings.CONVERTER_S3_PUBLIC_ENDPOINT)
    return client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
    )


@contextmanager
def source_copy(source: ObjectUri | str, project: str) -> Iterator[Path]:
    """A task's source as a local file: a bucket object the API named (an
    HLS playlist there is joined with its segments, each key checked as the
    API checks keys, for ``project``), or the name of an upload in the
    sources storage."""
    if isinstance(source, str):
        with stored_source_copy(source) as path:
            yield path
        return
    with object_local_copy(source.bucket, source.key) as path:
        with open(path, "rb") as f:
            head = f.read(hls.MAX_PLAYLIST_BYTES + 1)
        if hls.is_playlist(head):
            yield _bucket_playlist(source, project, head, path.parent)
        else:
            yield path


def _bucket_playlist(source: ObjectUri, project: str, playlist: bytes, folder: Path) -> Path:
    """An HLS playlist object and the segments beside it in its bucket folder,
    joined into one local file, at most CONVERTER_MAX_UPLOAD_BYTES. Only
    plain relative names in the playlist's own folder are read
    (``hls.folder_fetcher``), and each key must be one the API may read."""
    limit = settings.CONVERTER_MAX_UPLOAD_BYTES

    def read(segment_key: str) -> Path:
        object_check_allowed(source.bucket, segment_key, project)
        target = folder / f"segment-{uuid.uuid4().hex}"
        try:
            _download(source.bucket, segment_key, target, limit)
        except ObjectNotFound:
            raise FileNotFoundError(segment_key) from None
        return target

    return hls.assemble_hls(
        playlist,
        hls.folder_fetcher(read, source.key),
        folder / "assembled.video",
        max_bytes=limit,
        remove_fetched=True,
    )


def output_open(output):
    """A readable stream of a finished output, wherever it was written."""
    if output.file:
        return output.file.open("rb")
    uri = ObjectUri.parse(output.uri)
    return object_open(uri.bucket, uri.key)


def output_signed_url(output, params: dict | None = None) -> str:
    if output.file:
        storage = output.file.storage
        return storage.url(output.file.name, parameters=params) if params else output.file.url
    uri = ObjectUri.parse(output.uri)
    return object_signed_url(uri.bucket, uri.key, params)
