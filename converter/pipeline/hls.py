"""HLS (M3U8) sources, assembled into one local file without ffmpeg's hls demuxer.

A playlist is a list of other files to read, which is exactly what must never
reach ffmpeg from a user: its hls demuxer follows URLs and local paths, and a
playlist has made it read other tenants' files (see the security brief). So we
parse the playlist ourselves, accept only plain relative segment names, get
each segment through a caller-supplied function that can only look inside the
upload (or the playlist's own bucket folder), and concatenate their bytes:

- MPEG-TS segments concatenate into one valid transport stream;
- fMP4 segments (``#EXT-X-MAP`` init segment first) concatenate into one valid
  fragmented MP4.

The result then goes through the normal probe and pipeline like any upload.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PipelineError

# A playlist of a 4-hour source in 2-second segments is ~7200 lines of ~40 bytes.
MAX_PLAYLIST_BYTES = 1024 * 1024
MAX_SEGMENTS = 10_000
MAX_NAME_CHARS = 1024
# One level: a master playlist may name variant playlists, which must be media
# playlists (never more masters), so a playlist cannot make us loop.
MAX_DEPTH = 1

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)')

SegmentFetcher = Callable[[str], "bytes | Path"]


@dataclass(frozen=True)
class MediaPlaylist:
    segments: tuple[str, ...]
    init: str | None  # #EXT-X-MAP URI (fMP4), fetched before the segments
    duration: float  # sum of #EXTINF


def _invalid(message: str) -> PipelineError:
    return PipelineError("InvalidPlaylist", message)


def check_name(name: str) -> str:
    """Return ``name`` if it is a plain relative reference inside the
    playlist's folder, or refuse it: no scheme (``http:``, ``file:``,
    ``data:``...), no absolute path, no ``..`` or ``.`` part, no backslash,
    query, fragment, percent-encoding or control character."""
    if not name or len(name) > MAX_NAME_CHARS:
        raise _invalid("The playlist has an empty or overlong segment name.")
    bad = (
        _SCHEME.match(name)
        or name.startswith("/")
        or any(c in name for c in "\\?#%")
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)
        or any(part in ("", ".", "..") for part in name.split("/"))
    )
    if bad:
        raise _invalid(
            f"The playlist refers to {name[:100]!r}. Only segments next to the playlist, "
            "named without a folder path or address, can be used."
        )
    return name


def _attributes(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _ATTRIBUTE.findall(text)}


def _lines(playlist: bytes) -> list[str]:
    if len(playlist) > MAX_PLAYLIST_BYTES:
        raise _invalid("The playlist is too large.")
    try:
        text = playlist.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _invalid("The playlist is not UTF-8 text.") from None
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines or lines[0] != "#EXTM3U":
        raise _invalid("This is not an M3U8 playlist (it does not start with #EXTM3U).")
    return lines


def parse(playlist: bytes) -> MediaPlaylist | list[tuple[int, str]]:
    """A media playlist, or for a master playlist its variants as
    (bandwidth, playlist name), every name already checked."""
    reading = _Reading()
    for line in _lines(playlist)[1:]:
        if line.startswith("#"):
            reading.tag(line)
        else:
            reading.entry(line)
    return reading.result()


@dataclass
class _Reading:
    """A playlist read so far, line by line."""

    segments: list[str] = field(default_factory=list)
    variants: list[tuple[int, str]] = field(default_factory=list)
    init: str | None = None  # #EXT-X-MAP URI
    duration: float = 0.0  # sum of #EXTINF
    pending_variant: int | None = None  # bandwidth of the #EXT-X-STREAM-INF just read

    def tag(self, line: str) -> None:
        tag, _, value = line.partition(":")
        handle = _TAGS.get(tag)
        if handle is not None:  # other tags (and comments) carry nothing we need
            handle(self, value, line)

    def stream_inf(self, value: str, line: str) -> None:
        try:
            self.pending_variant = int(_attributes(value).get("BANDWIDTH", "0"))
        except ValueError:
            self.pending_variant = 0

    def extinf(self, value: str, line: str) -> None:
        try:
            self.duration += max(0.0, float(value.split(",")[0]))
        except ValueError:
            raise _invalid(f"The playlist has a bad #EXTINF line: {line[:100]!r}.") from None

    def key(self, value: str, line: str) -> None:
        if _attributes(value).get("METHOD", "NONE").upper() != "NONE":
            raise PipelineError(
                "UnsupportedPlaylist",
                "The playlist is encrypted; encrypted HLS cannot be converted.",
            )

    def init_map(self, value: str, line: str) -> None:
        attributes = _attributes(value)
        if "BYTERANGE" in attributes:
            self.byterange(value, line)  # refused as a byte-range playlist
        if self.init is not None or self.segments:
            raise PipelineError(
                "UnsupportedPlaylist",
                "Playlists that change their init segment are not supported.",
            )
        self.init = check_name(attributes.get("URI", ""))

    def byterange(self, value: str, line: str) -> None:
        raise PipelineError("UnsupportedPlaylist", "Byte-range HLS playlists are not supported.")

    def entry(self, line: str) -> None:
        """A line that is not a tag: a segment, or the variant its tag announced."""
        name = check_name(line)
        if self.pending_variant is not None:
            self.variants.append((self.pending_variant, name))
            self.pending_variant = None
        else:
            self.segments.append(name)
        if len(self.segments) + len(self.variants) > MAX_SEGMENTS:
            raise _invalid(f"The playlist has more than {MAX_SEGMENTS:,} entries.")

    def result(self) -> MediaPlaylist | list[tuple[int, str]]:
        if self.variants and self.segments:
            raise _invalid("The playlist mixes variant playlists and media segments.")
        if self.variants:
            return self.variants
        if not self.segments:
            raise _invalid("The playlist lists no segments.")
        return MediaPlaylist(tuple(self.segments), self.init, self.duration)


# The tags that matter, each with what reading it does.
_TAGS: dict[str, Callable[[_Reading, str, str], None]] = {
    "#EXT-X-STREAM-INF": _Reading.stream_inf,
    "#EXTINF": _Reading.extinf,
    "#EXT-X-KEY": _Reading.key,
    "#EXT-X-MAP": _Reading.init_map,
    "#EXT-X-BYTERANGE": _Reading.byterange,
}


def _fetch(fetch_segment: SegmentFetcher, name: str) -> bytes | Path:
    try:
        return fetch_segment(name)
    except (FileNotFoundError, KeyError):
        raise PipelineError(
            "SegmentMissing",
            f"The playlist refers to {name[:100]!r}, which is not with it. "
            "Upload the playlist together with all of its segments.",
        ) from None


def assemble_hls(
    playlist_bytes: bytes,
    fetch_segment: SegmentFetcher,
    out: Path,
    *,
    max_bytes: int = 4 * 1024**3,
    remove_fetched: bool = False,
) -> Path:
    """Concatenate the segments an HLS playlist lists into the local file
    ``out`` and return ``out``; the pipeline then reads it as MPEG-TS or MP4.

    ``fetch_segment(name)`` is the only way anything is read. It gets a name
    that ``check_name`` has accepted (a plain relative name such as
    ``seg-001.ts`` or ``720p/seg-001.ts``: no scheme, no absolute path, no
    ``..``) and returns the segment's bytes or the ``Path`` of a local copy; it
    raises ``FileNotFoundError`` (or ``KeyError``) when there is no such
    segment. For a browser upload it looks the name up among the uploaded
    files; for a bucket source it reads ``posixpath.join(folder_of_playlist,
    name)`` from the same bucket. It must never treat the name as a URL.

    A master playlist is followed one level: its highest-bandwidth variant
    playlist is fetched the same way. Encrypted and byte-range playlists are
    refused, and so is a segment listed twice (one upload must not make a
    file many times its size). Raises ``PipelineError`` with codes
    ``InvalidPlaylist``, ``UnsupportedPlaylist``, ``SegmentMissing`` or
    ``SourceTooLarge`` (more than ``max_bytes`` in all). ``remove_fetched``
    deletes each fetched ``Path`` once it is appended (the fetcher's own
    copies), so the folder never holds the segments twice over.
    """
    parsed = parse(playlist_bytes)
    if isinstance(parsed, list):
        _, name = max(parsed, key=lambda v: v[0])
        variant = _fetch(fetch_segment, name)
        data = variant.read_bytes() if isinstance(variant, Path) else variant
        parsed = parse(data)
        if isinstance(parsed, list):
            raise _invalid("A variant playlist may not list further playlists.")
    names = ([parsed.init] if parsed.init else []) + list(parsed.segments)
    repeated = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if repeated is not None:
        raise _invalid(f"The playlist lists {repeated[:100]!r} more than once.")
    total = 0
    with open(out, "wb") as dst:
        for name in names:
            part = _fetch(fetch_segment, name)
            size = part.stat().st_size if isinstance(part, Path) else len(part)
            total += size
            if total > max_bytes:
                raise PipelineError(
                    "SourceTooLarge",
                    f"The playlist's segments add up to more than {max_bytes:,} bytes.",
                )
            if isinstance(part, Path):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
                if remove_fetched:
                    part.unlink()
            else:
                dst.write(part)
    return out


def folder_fetcher(read: Callable[[str], bytes | Path], playlist_key: str) -> SegmentFetcher:
    """A ``fetch_segment`` for a playlist stored under ``playlist_key`` in a
    bucket (``videos/show/index.m3u8``): segment ``name`` is read with
    ``read(key)`` from the playlist's own folder (``videos/show/<name>``),
    and never from anywhere else, because ``check_name`` has refused every
    name that could leave it. ``read`` raises ``FileNotFoundError`` (or
    ``KeyError``) for a missing object."""
    folder = posixpath.dirname(playlist_key)

    def fetch(name: str) -> bytes | Path:
        name = check_name(name)
        return read(posixpath.join(folder, name) if folder else name)

    return fetch


def is_playlist(head: bytes) -> bool:
    """Whether a file starting with ``head`` is an M3U8 playlist."""
    return head.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"#EXTM3U")
