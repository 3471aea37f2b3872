"""The browser's upload form. It produces the same ``TaskSpec`` as the API."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile

from .errors import Code
from .models import Task
from .pipeline import hls
from .pipeline.encoding import DEFAULT_QUALITY
from .pipeline.errors import PipelineError
from .pipeline.geometry import crop_box
from .presets import PRESETS, cap_words
from .spec import (
    FORMATS,
    MAX_CROP_PX,
    MAX_FRAME_RATE,
    MAX_LOOP,
    MAX_SIDE_PX,
    MAX_SPEED,
    MAX_TIME_S,
    MIN_SPEED,
    AnimationSpec,
    Caption,
    Crop,
    SpecError,
    TaskSpec,
    Trim,
    with_preset,
)
from .uploads import too_large

SIZE_CHOICES = [("half", "Half size"), ("original", "Original size"), ("pixels", "Width in pixels")]
PRESET_CHOICES = [("", "Anywhere (no size cap)")] + [
    (p.id, f"{p.name} (at most {cap_words(p.max_bytes)})") for p in PRESETS.values()
]
# The form's size cap is in MB (1,000,000 bytes), from the spec's 1 KB to 1 GB.
MIN_MAX_MB, MAX_MAX_MB = 0.001, 1000.0
QUALITY_CHOICES = [
    ("low", "Low: smallest file"),
    ("balanced", "Balanced (recommended)"),
    ("best", "Best: largest file"),
]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class VideoFilesField(forms.FileField):
    """One video, or an HLS playlist together with its segments: a list of
    uploaded files either way."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(VideoFilesField, self).clean(f, initial) for f in files]


def _is_playlist(upload: UploadedFile) -> bool:
    """By content, never by name: a file called .m3u8 that is something else
    goes to the probe like any upload (and is refused there)."""
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    return hls.is_playlist(head)


def assemble_bundle(files: list[UploadedFile]) -> UploadedFile:
    """The one source file a playlist bundle stands for: its segments, named
    by the playlist and found among the uploaded files only, concatenated by
    ``hls.assemble_hls`` into a temporary file. Raises ``PipelineError``."""
    playlists = [f for f in files if _is_playlist(f)]
    if len(playlists) > 1:  # a master playlist with its variant playlists
        playlists = [f for f in playlists if b"#EXT-X-STREAM-INF" in f.read(hls.MAX_PLAYLIST_BYTES)]
    if len(playlists) != 1:
        raise PipelineError(
            "InvalidPlaylist",
            "Choose one video file, or one .m3u8 playlist together with all of its segments.",
        )
    playlist = playlists[0]
    by_name = {f.name: f for f in files if f is not playlist}

    def fetch(name: str) -> bytes | Path:
        upload = by_name[name]  # KeyError: not uploaded
        if hasattr(upload, "temporary_file_path"):
            return Path(upload.temporary_file_path())
        upload.seek(0)
        return upload.read()

    playlist.seek(0)
    text = playlist.read(hls.MAX_PLAYLIST_BYTES + 1)
    bundle = TemporaryUploadedFile(
        playlist.name or "playlist.m3u8", "application/octet-stream", 0, None
    )
    path = Path(bundle.temporary_file_path())
    # The bundle is never larger than what was uploaded with it.
    uploaded = sum(f.size or 0 for f in files)
    hls.assemble_hls(
        text, fetch, path, max_bytes=min(uploaded, settings.CONVERTER_MAX_UPLOAD_BYTES)
    )
    bundle.size = os.path.getsize(path)
    bundle.seek(0)
    return bundle


class SourceForm(forms.Form):
    """The video alone: what the editor uploads in the background as soon as
    a file is chosen (a draft), before any setting is chosen."""

    video = VideoFilesField(
        help_text="MP4, MOV, WebM, MKV, AVI and most other video files. For HLS, choose the "
        ".m3u8 playlist together with all of its segments."
    )

    def clean_video(self):
        files = self.cleaned_data["video"]
        if len(files) == 1 and files[0].size == 0:
            raise forms.ValidationError("The file is empty.", code="EmptyFile")
        if sum(f.size for f in files) > settings.CONVERTER_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(too_large().message, code=str(Code.UPLOAD_TOO_LARGE))
        return files

    def source_upload(self) -> UploadedFile:
        """The uploaded video, or the video an uploaded HLS bundle assembles
        into. Raises ``PipelineError`` for an unusable bundle."""
        files = self.cleaned_data["video"]
        if len(files) == 1 and not _is_playlist(files[0]):
            return files[0]
        return assemble_bundle(files)


class UploadForm(SourceForm):
    """The upload page's form: the video with the settings in one post (the
    page without script), or the settings for a draft the editor already
    uploaded (``draft``, its public id; then no video is sent)."""

    draft = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    format = forms.ChoiceField(
        choices=[
            ("gif", "GIF"),
            ("webp", "WebP"),
            ("mp4", "MP4 (video, smallest)"),
            ("avif", "AVIF"),
        ],
        initial="gif",
    )
    start = forms.FloatField(
        label="Start at (seconds)", min_value=0, max_value=MAX_TIME_S, initial=0, required=False
    )
    duration = forms.FloatField(
        label="Duration (seconds)",
        min_value=0,
        max_value=MAX_TIME_S,
        required=False,
        help_text="Empty or 0: to the end.",
    )
    fps = forms.FloatField(
        label="Frames per second", min_value=0.1, max_value=MAX_FRAME_RATE, initial=10
    )
    size = forms.ChoiceField(choices=SIZE_CHOICES, initial="half", widget=forms.RadioSelect)
    width = forms.IntegerField(
        label="Width (pixels)", min_value=1, max_value=MAX_SIDE_PX, required=False
    )
    quality = forms.ChoiceField(choices=QUALITY_CHOICES, initial=DEFAULT_QUALITY)
    speed = forms.TypedChoiceField(
        label="Speed",
        choices=[(str(v), f"{v:g}x") for v in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)],
        coerce=float,
        initial="1.0",
        required=False,
        help_text=f"{MIN_SPEED:g}x to {MAX_SPEED:g}x: 2x plays the selection in half the time.",
    )
    reverse = forms.BooleanField(label="Reverse", required=False)
    boomerang = forms.BooleanField(
        label="Boomerang", required=False, help_text="Forward, then backward."
    )
    loop = forms.IntegerField(
        label="Loops",
        min_value=0,
        max_value=MAX_LOOP,
        required=False,
        help_text="How many times it plays; 0: forever.",
    )
    crop_x = forms.IntegerField(label="Left", min_value=0, max_value=MAX_CROP_PX, required=False)
    crop_y = forms.IntegerField(label="Top", min_value=0, max_value=MAX_CROP_PX, required=False)
    crop_width = forms.IntegerField(
        label="Width", min_value=1, max_value=MAX_CROP_PX, required=False
    )
    crop_height = forms.IntegerField(
        label="Height", min_value=1, max_value=MAX_CROP_PX, required=False
    )
    # The editor's caption rows, as the API's Captions list (JSON).
    captions = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20_000)
    # Where it is going (issue 14): a platform preset, or a size cap in MB.
    preset = forms.ChoiceField(label="Made for", choices=PRESET_CHOICES, required=False)
    max_bytes = forms.FloatField(
        label="At most (MB)",
        min_value=MIN_MAX_MB,
        max_value=MAX_MAX_MB,
        required=False,
        help_text="The frame rate, size and quality are lowered until the file fits.",
    )
    waveform = forms.BooleanField(
        label="Animate the sound's waveform instead of the picture",
        required=False,
        help_text="For audio files (MP3, WAV, AAC...), which have no picture to animate.",
    )

    @staticmethod
    def initial_from(spec: TaskSpec, picture: tuple[int, int]) -> dict:
        """The form's values that ask for ``spec`` again (Edit again), for
        a source whose picture is ``picture`` (width, height): the first
        animation's settings, a crop given in fractions turned to pixels."""
        a = spec.animations[0]
        size, width = "pixels", a.width
        if a.width is None and a.height is None:
            size, width = "original", None
        elif a.width == 0.5 and a.height is None:
            size, width = "half", None
        elif width is not None and width < 1:
            width = round(width * picture[0])
        initial = {
            "format": a.format, "start": spec.trim.start, "duration": spec.trim.duration or None,
            "fps": a.frame_rate, "size": size, "width": int(width) if width else None,
            "quality": a.quality, "speed": str(float(a.speed)), "reverse": a.reverse,
            "boomerang": a.boomerang, "loop": a.loop or None, "waveform": a.waveform,
            "captions": json.dumps([c.to_api() for c in a.captions], ensure_ascii=False)
            if a.captions else "",
            "preset": a.preset or "",
            "max_bytes": a.max_bytes / 1e6
            if a.max_bytes and (not a.preset or a.max_bytes != PRESETS[a.preset].max_bytes)
            else None,
        }  # fmt: skip
        if a.crop is not None:
            box = crop_box(a.crop, *picture)
            initial |= {
                "crop_x": box.x, "crop_y": box.y,
                "crop_width": box.width, "crop_height": box.height,
            }  # fmt: skip
        return initial

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.data.get("draft"):
            self.fields["video"].required = False

    def clean(self):
        data = super().clean() or {}
        if data.get("size") == "pixels" and not data.get("width"):
            self.add_error("width", "Give a width in pixels, or choose another size.")
        self._clean_crop(data)
        self._clean_target(data)
        return data

    def _clean_target(self, data: dict) -> None:
        """A preset's format and cap, said on the fields they are about."""
        preset = PRESETS.get(data.get("preset") or "")
        if preset is None:
            return
        fmt = data.get("format")
        if fmt and not preset.allows(fmt):
            allowed = " or ".join(f.upper() for f in preset.formats)
            self.add_error("format", f"{preset.name} takes {allowed}.")
        cap = data.get("max_bytes")
        if cap is not None and round(cap * 1e6) > preset.max_bytes:
            self.add_error(
                "max_bytes", f"{preset.name} takes at most {cap_words(preset.max_bytes)}."
            )

    def _clean_crop(self, data: dict) -> None:
        """A crop is its width and height (left and top default to 0); with
        neither, there is none."""
        given = [data.get(f"crop_{k}") is not None for k in ("width", "height")]
        if any(given) and not all(given):
            missing = "crop_height" if given[0] else "crop_width"
            self.add_error(missing, "Give the crop's width and height, or neither.")

    def clean_captions(self) -> tuple[Caption, ...]:
        text = self.cleaned_data.get("captions") or ""
        if not text.strip():
            return ()
        try:
            return Caption.parse_all(json.loads(text))
        except ValueError:  # JSONDecodeError; a SpecError is a LoopforgeError
            raise forms.ValidationError("The captions could not be read.") from None
        except SpecError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None

    def _crop(self) -> Crop | None:
        data = self.cleaned_data
        if data.get("crop_width") is None:
            return None
        sides = (data.get("crop_x") or 0, data.get("crop_y") or 0)
        return Crop.create(
            x=float(sides[0]),
            y=float(sides[1]),
            width=float(data["crop_width"]),
            height=float(data["crop_height"]),
        )

    def to_spec(self) -> TaskSpec:
        data = self.cleaned_data
        width = {"half": 0.5, "original": None}.get(data["size"], data.get("width"))
        fps = data["fps"]
        target: dict[str, Any] = {
            "width": float(width) if width else None,
            "height": None,
            "scale_type": "stretch",
            "number": 0,
            "max_bytes": None if data.get("max_bytes") is None else round(data["max_bytes"] * 1e6),
        }
        try:
            preset = PRESETS.get(data.get("preset") or "")
            if preset is not None:
                if preset.box and data["size"] != "pixels":
                    target["width"] = None  # the platform's box is the size
                target = with_preset(
                    preset,
                    format=data["format"],
                    frame_rate=fps,
                    boomerang=bool(data.get("boomerang")),
                    **target,
                )
            animation = AnimationSpec.create(
                format=data["format"],
                interval=1 / fps,
                frame_rate=fps,
                quality=data["quality"],
                waveform=bool(data.get("waveform")),
                speed=data.get("speed") or 1.0,
                reverse=bool(data.get("reverse")),
                boomerang=bool(data.get("boomerang")),
                loop=data.get("loop") or 0,
                crop=self._crop(),
                captions=data.get("captions") or (),
                preset=preset.id if preset else None,
                **target,
            )
        except SpecError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        return TaskSpec(Trim(data.get("start") or 0.0, data.get("duration") or 0.0), (animation,))


class HistoryFilterForm(forms.Form):
    """The history page's search: by file name, status and format (GET)."""

    q = forms.CharField(label="File name", max_length=255, required=False)
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any status"), *Task.Status.choices], required=False
    )
    format = forms.ChoiceField(
        label="Format", choices=[("", "Any format"), *((f, f.upper()) for f in FORMATS)],
        required=False,
    )  # fmt: skip

    def filters(self) -> dict[str, str]:
        """The valid filters, by name (an invalid one is left out)."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class SignupForm(UserCreationForm):
    pass


class ProjectForm(forms.Form):
    name = forms.RegexField(
        regex=r"\A[a-zA-Z][a-zA-Z0-9_-]{0,127}\Z",
        max_length=128,
        help_text=(
            "Starts with a letter; letters, digits, '-' and '_'. Used as ProjectName in API calls."
        ),
        error_messages={"invalid": "Start with a letter; use letters, digits, '-' and '_'."},
    )
    description = forms.CharField(max_length=256, required=False)
    monthly_frame_quota = forms.IntegerField(
        label="Monthly frame quota", min_value=0, required=False, help_text="Empty: no quota."
    )


class QuotaForm(forms.Form):
    monthly_frame_quota = forms.IntegerField(
        label="Monthly frame quota", min_value=0, required=False, help_text="Empty: no quota."
    )
