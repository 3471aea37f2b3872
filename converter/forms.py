"""The browser's upload form. It produces the same ``TaskSpec`` as the API."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from .pipeline.encoding import DEFAULT_QUALITY
from .spec import MAX_FRAME_RATE, MAX_SIDE_PX, AnimationSpec, SpecError, TaskSpec, Trim

SIZE_CHOICES = [("half", "Half size"), ("original", "Original size"), ("pixels", "Width in pixels")]
QUALITY_CHOICES = [
    ("low", "Low: smallest file"),
    ("balanced", "Balanced (recommended)"),
    ("best", "Best: largest file"),
]


class UploadForm(forms.Form):
    video = forms.FileField(help_text="MP4, MOV, WebM, MKV, AVI and most other video files.")
    format = forms.ChoiceField(choices=[("gif", "GIF"), ("webp", "WebP")], initial="gif")
    start = forms.FloatField(label="Start at (seconds)", min_value=0, initial=0, required=False)
    duration = forms.FloatField(
        label="Duration (seconds)", min_value=0, required=False, help_text="Empty or 0: to the end."
    )
    fps = forms.FloatField(
        label="Frames per second", min_value=0.1, max_value=MAX_FRAME_RATE, initial=10
    )
    size = forms.ChoiceField(choices=SIZE_CHOICES, initial="half", widget=forms.RadioSelect)
    width = forms.IntegerField(label="Width (pixels)", min_value=1, max_value=MAX_SIDE_PX, required=False)
    quality = forms.ChoiceField(choices=QUALITY_CHOICES, initial=DEFAULT_QUALITY)

    def clean_video(self):
        video = self.cleaned_data["video"]
        if video.size == 0:
            raise forms.ValidationError("The file is empty.", code="EmptyFile")
        if video.size > settings.CONVERTER_MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is too large.", code="UploadTooLarge")
        return video

    def clean(self):
        data = super().clean()
        if data.get("size") == "pixels" and not data.get("width"):
            self.add_error("width", "Give a width in pixels, or choose another size.")
        return data

    def to_spec(self) -> TaskSpec:
        data = self.cleaned_data
        width = {"half": 0.5, "original": None}.get(data["size"], data.get("width"))
        fps = data["fps"]
        try:
            animation = AnimationSpec.create(
                format=data["format"],
                interval=1 / fps,
                frame_rate=fps,
                width=float(width) if width else None,
                quality=data["quality"],
            )
        except SpecError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        return TaskSpec(Trim(data.get("start") or 0.0, data.get("duration") or 0.0), (animation,))


class SignupForm(UserCreationForm):
    pass


class ProjectForm(forms.Form):
    name = forms.RegexField(
        regex=r"^[a-zA-Z][a-zA-Z0-9_-]{0,127}$",
        max_length=128,
        help_text="Starts with a letter; letters, digits, '-' and '_'. Used as ProjectName in API calls.",
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
