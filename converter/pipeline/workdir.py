"""Private temporary folders: the one way the app makes a folder for a task.

Sources are copied, uploads spooled and MPEG-TS files rewritten into such a
folder, under neutral names of the caller's choosing (ffmpeg never sees a
client's file name). It is readable by this user only and removed, with
everything in it, however the ``with`` block ends. A worker killed inside
the block leaves it behind; ``converter.reconcile`` sweeps old ones by
``FOLDER_NAME``, which matches exactly the names made here.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "loopforge-"
# What a folder holds: a stored source (storage.local_copy), an upload
# (storage.upload_path), an API object (storage.object_local_copy), or a
# conversion's own files (convert).
KINDS = ("src", "up", "obj", "work")
# tempfile's random part: 8 characters of [a-z0-9_]. Kind-less names are the
# work folders of earlier releases, still swept after an upgrade.
FOLDER_NAME = re.compile(rf"{PREFIX}(?:(?:{'|'.join(KINDS)})-)?[a-z0-9_]{{8}}")


@contextmanager
def private_folder(kind: str) -> Iterator[Path]:
    """A fresh folder ``loopforge-<kind>-XXXXXXXX`` in the temp dir, mode
    0700, removed with its contents when the block ends."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of folder {kind!r}; one of {KINDS}")
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-"))  # mkdtemp makes it 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
