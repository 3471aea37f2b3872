"""libwebp's animation encoder, driven through ctypes: the libwebp Pillow ships.

Pillow's own wrapper (``PIL._webp.WebPAnimEncoder``) sets only quality and
method. The settings that decide how many bytes a picture costs at a given
quality (spatial noise shaping, filter strength, segments, entropy passes,
threads) are in libwebp's ``WebPConfig``, which Pillow does not expose. So we
call the same library Pillow loaded (``PIL._webp`` links it; we find it in the
process's memory map, so a Pillow built against the system libwebp works as
well) with the documented C API of ``webp/encode.h`` and ``webp/mux.h``:
``WebPConfigInitInternal``, ``WebPPictureImport{RGB,RGBA,BGR,BGRA}``, ``WebPEncode``,
``WebPAnimEncoderNewInternal``, ``WebPAnimEncoderAdd``,
``WebPAnimEncoderAssemble``.

ctypes releases the GIL around every call, so encoders in separate threads
run in parallel.

Only the leading, long-stable fields of ``WebPPicture`` (up to ``writer``)
are touched (the rest is left to ``WebPPictureInitInternal``) and every
struct is allocated larger than libwebp 1.5 declares it. ``available()``
says whether this works here; ``encode_webp`` falls back to Pillow's public
API when it does not.
"""

from __future__ import annotations

import ctypes as C
import functools
from dataclasses import dataclass, fields

import numpy as np

from .encoding import Order

# ABI versions of the headers these structs follow (libwebp 1.5). libwebp
# refuses a caller whose major ABI differs and accepts older minors.
ENCODER_ABI = 0x0210
MUX_ABI = 0x0109
MIN_VERSION = 0x010200  # 1.2.0: use_sharp_yuv; qmin/qmax are harmless spare ints before 1.3.1
NO_KEYFRAMES = 2**31 - 1  # kmax: key frames only where libwebp finds them smaller

_CONFIG_FIELDS = [
    "lossless",
    "quality",
    "method",
    "image_hint",
    "target_size",
    "target_PSNR",
    "segments",
    "sns_strength",
    "filter_strength",
    "filter_sharpness",
    "filter_type",
    "autofilter",
    "alpha_compression",
    "alpha_filtering",
    "alpha_quality",
    "pass_",
    "show_compressed",
    "preprocessing",
    "partitions",
    "partition_limit",
    "emulate_jpeg_size",
    "thread_level",
    "low_memory",
    "near_lossless",
    "exact",
    "use_delta_palette",
    "use_sharp_yuv",
    "qmin",
    "qmax",
]


class _Config(C.Structure):  # struct WebPConfig
    _fields_ = [
        (name, C.c_float if name in ("quality", "target_PSNR") else C.c_int)
        for name in _CONFIG_FIELDS
    ] + [("_spare", C.c_uint32 * 32)]


class _AnimOptions(C.Structure):  # struct WebPAnimEncoderOptions
    _fields_ = [
        ("bgcolor", C.c_uint32),  # anim_params.bgcolor
        ("loop_count", C.c_int),  # anim_params.loop_count
        ("minimize_size", C.c_int),
        ("kmin", C.c_int),
        ("kmax", C.c_int),
        ("allow_mixed", C.c_int),
        ("verbose", C.c_int),
        ("_spare", C.c_uint32 * 32),
    ]


class _Picture(C.Structure):  # struct WebPPicture, then room
    _fields_ = [
        ("use_argb", C.c_int),
        ("colorspace", C.c_int),
        ("width", C.c_int),
        ("height", C.c_int),
        ("y", C.c_void_p),
        ("u", C.c_void_p),
        ("v", C.c_void_p),
        ("y_stride", C.c_int),
        ("uv_stride", C.c_int),
        ("a", C.c_void_p),
        ("a_stride", C.c_int),
        ("pad1", C.c_uint32 * 2),
        ("argb", C.c_void_p),
        ("argb_stride", C.c_int),
        ("pad2", C.c_uint32 * 3),
        ("writer", C.c_void_p),
        ("custom_ptr", C.c_void_p),
        ("_rest", C.c_uint8 * 2048),
    ]


class _MemoryWriter(C.Structure):  # struct WebPMemoryWriter, then room
    _fields_ = [
        ("mem", C.c_void_p),
        ("size", C.c_size_t),
        ("max_size", C.c_size_t),
        ("_spare", C.c_uint32 * 8),
    ]


class _Data(C.Structure):  # struct WebPData
    _fields_ = [("bytes", C.c_void_p), ("size", C.c_size_t)]


@dataclass(frozen=True)
class Config:
    """The lossy settings we choose (``webp/encode.h`` explains each)."""

    quality: float
    method: int = 4
    sns_strength: int = 50
    filter_strength: int = 60
    filter_sharpness: int = 0
    segments: int = 4
    pass_: int = 1
    preprocessing: int = 0
    use_sharp_yuv: int = 0
    thread_level: int = 0


class _Lib:
    def __init__(self) -> None:
        from PIL import _webp  # noqa: F401  (loads libwebp and libwebpmux)

        self.webp = C.CDLL(_loaded("libwebp"))
        self.mux = C.CDLL(_loaded("libwebpmux"))
        w, m = self.webp, self.mux
        w.WebPGetEncoderVersion.restype = C.c_int
        w.WebPConfigInitInternal.argtypes = [C.POINTER(_Config), C.c_int, C.c_float, C.c_int]
        w.WebPValidateConfig.argtypes = [C.POINTER(_Config)]
        w.WebPPictureInitInternal.argtypes = [C.POINTER(_Picture), C.c_int]
        self.imports = {  # by channel order and count
            (order, channels): getattr(
                w, "WebPPictureImport" + order.upper() + "A" * (channels == 4)
            )
            for order in ("rgb", "bgr")
            for channels in (3, 4)
        }
        for import_ in self.imports.values():
            import_.argtypes = [C.POINTER(_Picture), C.c_void_p, C.c_int]
        w.WebPPictureFree.argtypes = [C.POINTER(_Picture)]
        w.WebPFree.argtypes = [C.c_void_p]
        w.WebPMemoryWriterInit.argtypes = [C.POINTER(_MemoryWriter)]
        w.WebPMemoryWriterClear.argtypes = [C.POINTER(_MemoryWriter)]
        w.WebPEncode.argtypes = [C.POINTER(_Config), C.POINTER(_Picture)]
        m.WebPAnimEncoderOptionsInitInternal.argtypes = [C.POINTER(_AnimOptions), C.c_int]
        m.WebPAnimEncoderNewInternal.restype = C.c_void_p
        m.WebPAnimEncoderNewInternal.argtypes = [C.c_int, C.c_int, C.POINTER(_AnimOptions), C.c_int]
        m.WebPAnimEncoderAdd.argtypes = [
            C.c_void_p,
            C.POINTER(_Picture),
            C.c_int,
            C.POINTER(_Config),
        ]
        m.WebPAnimEncoderAssemble.argtypes = [C.c_void_p, C.POINTER(_Data)]
        m.WebPAnimEncoderGetError.restype = C.c_char_p
        m.WebPAnimEncoderGetError.argtypes = [C.c_void_p]
        m.WebPAnimEncoderDelete.argtypes = [C.c_void_p]
        self.version = w.WebPGetEncoderVersion()
        if self.version < MIN_VERSION:
            raise OSError(f"libwebp {self.version:#x} is older than 1.2")


def _loaded(stem: str) -> str:
    """The path of a shared library already mapped into this process."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            name = path.rsplit("/", 1)[-1]
            if name.startswith((stem + "-", stem + ".so")):
                return path
    raise OSError(f"{stem} is not loaded")


@functools.cache
def _lib() -> _Lib:
    return _Lib()


def available() -> bool:
    try:
        _lib()
    except (ImportError, OSError, AttributeError):
        return False
    return True


def _config(c: Config) -> _Config:
    lib = _lib().webp
    out = _Config()
    if not lib.WebPConfigInitInternal(C.byref(out), 0, c.quality, ENCODER_ABI):
        raise RuntimeError("libwebp refused its configuration (ABI mismatch)")
    for f in fields(c):
        setattr(out, f.name, getattr(c, f.name))
    if not lib.WebPValidateConfig(C.byref(out)):
        raise ValueError(f"invalid libwebp configuration: {c}")
    return out


def _import(frame: np.ndarray, order: Order) -> _Picture:
    """A WebPPicture holding ``frame`` (H x W x 3 or 4 ``uint8``, colour
    channels in ``order``), as ARGB."""
    height, width, channels = frame.shape
    if channels not in (3, 4) or frame.dtype != np.uint8:
        raise ValueError("frames must be H x W x 3 or 4 uint8 arrays")
    if frame.strides[1:] != (channels, 1):  # rows may lie apart, pixels may not
        frame = np.ascontiguousarray(frame)
    lib = _lib()
    picture = _Picture()
    if not lib.webp.WebPPictureInitInternal(C.byref(picture), ENCODER_ABI):
        raise RuntimeError("libwebp refused its picture (ABI mismatch)")
    picture.use_argb, picture.width, picture.height = 1, width, height
    if not lib.imports[order, channels](C.byref(picture), frame.ctypes.data, frame.strides[0]):
        lib.webp.WebPPictureFree(C.byref(picture))
        raise MemoryError("libwebp could not import a frame")
    return picture


def encode_image(frame: np.ndarray, config: Config, order: Order = "rgb") -> bytes:
    """One picture as a still WebP file (one encode, no animation logic)."""
    lib = _lib().webp
    picture = _import(frame, order)
    writer = _MemoryWriter()
    lib.WebPMemoryWriterInit(C.byref(writer))
    try:
        picture.writer = C.cast(lib.WebPMemoryWrite, C.c_void_p).value
        picture.custom_ptr = C.addressof(writer)
        if not lib.WebPEncode(C.byref(_config(config)), C.byref(picture)):
            raise RuntimeError("libwebp could not encode a frame")
        return C.string_at(writer.mem, writer.size)
    finally:
        lib.WebPMemoryWriterClear(C.byref(writer))
        lib.WebPPictureFree(C.byref(picture))


class AnimEncoder:
    """One animation: ``add`` frames (RGB or RGBA ``uint8``, or BGR(A) with
    ``order`` "bgr") with their start times in ms, then ``assemble`` with the
    end time. Key frames are left to libwebp (it makes one wherever that is
    smaller), as ffmpeg and gif2webp do."""

    def __init__(
        self, width: int, height: int, loop: int, config: Config, order: Order = "rgb"
    ) -> None:
        lib = _lib()
        self._order = order
        self._webp, self._mux = lib.webp, lib.mux
        self._config = _config(config)
        options = _AnimOptions()
        if not self._mux.WebPAnimEncoderOptionsInitInternal(C.byref(options), MUX_ABI):
            raise RuntimeError("libwebpmux refused its options (ABI mismatch)")
        options.loop_count = loop
        options.kmin, options.kmax = NO_KEYFRAMES - 1, NO_KEYFRAMES
        self._size = (width, height)
        self._enc = self._mux.WebPAnimEncoderNewInternal(width, height, C.byref(options), MUX_ABI)
        if not self._enc:
            raise MemoryError("libwebp could not create an animation encoder")

    def add(self, frame: np.ndarray, timestamp_ms: int) -> None:
        if (frame.shape[1], frame.shape[0]) != self._size:
            raise ValueError("frames must be of the canvas size")
        picture = _import(frame, self._order)
        try:
            if not self._mux.WebPAnimEncoderAdd(
                self._enc, C.byref(picture), timestamp_ms, C.byref(self._config)
            ):
                raise RuntimeError(self._error())
        finally:
            self._webp.WebPPictureFree(C.byref(picture))

    def assemble(self, end_ms: int) -> bytes:
        if not self._mux.WebPAnimEncoderAdd(self._enc, None, end_ms, None):
            raise RuntimeError(self._error())
        data = _Data()
        if not self._mux.WebPAnimEncoderAssemble(self._enc, C.byref(data)):
            raise RuntimeError(self._error())
        try:
            return C.string_at(data.bytes, data.size)
        finally:
            self._webp.WebPFree(data.bytes)

    def close(self) -> None:
        if self._enc:
            self._mux.WebPAnimEncoderDelete(self._enc)
            self._enc = None

    def __enter__(self) -> AnimEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self) -> str:
        message = self._mux.WebPAnimEncoderGetError(self._enc)
        return "libwebp: " + (message.decode("utf-8", "replace") if message else "encoding failed")
