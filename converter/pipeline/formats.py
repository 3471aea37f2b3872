"""The output formats: each one's file extension and content type.

Light on purpose: storage and the web pages need these names without loading
the encoders (or MoviePy) into a web process.
"""

from __future__ import annotations

EXTENSIONS: dict[str, str] = {"gif": "gif", "webp": "webp", "mp4": "mp4", "avif": "avif"}
CONTENT_TYPES: dict[str, str] = {
    "gif": "image/gif",
    "webp": "image/webp",
    "mp4": "video/mp4",
    "avif": "image/avif",
}
