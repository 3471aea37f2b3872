"""The only code that knows where files live. The pipeline wants local paths;
storage may be S3. ``local_copy`` bridges the two and always cleans up."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from django.core.files.base import ContentFile, File
from django.db.models.fields.files import FieldFile

from .pipeline import CONTENT_TYPES, EXTENSIONS


@contextmanager
def local_copy(field: FieldFile) -> Iterator[Path]:
    """Download a stored file into a fresh private folder, under a fixed
    neutral name, and remove the folder afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="loopforge-src-"))
    try:
        target = folder / "source.video"
        with field.open("rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, length=1024 * 1024)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def upload_path(upload: File) -> Iterator[Path]:
    """A local path holding an upload: Django's temporary file when it has
    one, otherwise a private copy that is removed afterwards."""
    if hasattr(upload, "temporary_file_path"):
        yield Path(upload.temporary_file_path())
        return
    folder = Path(tempfile.mkdtemp(prefix="loopforge-up-"))
    try:
        target = folder / "upload.video"
        upload.seek(0)
        with open(target, "wb") as dst:
            for chunk in upload.chunks():
                dst.write(chunk)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def save_source(field: FieldFile, upload: File) -> None:
    """Stream an upload to storage (multipart for large files), no DB write."""
    upload.seek(0)
    upload.content_type = "application/octet-stream"  # never the client's claim
    field.save("source.video", upload, save=False)


def save_output(field: FieldFile, data: bytes, fmt: str) -> None:
    content = ContentFile(data)
    content.content_type = CONTENT_TYPES[fmt]
    field.save(f"animation.{EXTENSIONS[fmt]}", content, save=False)
