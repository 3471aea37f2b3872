"""HLS playlists: assembled from their own segments only, then converted like
any upload. Nothing a playlist names outside its folder is ever asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.bench.decode import decode
from converter.bench.score import ssim
from converter.pipeline.convert import convert
from converter.pipeline.errors import PipelineError
from converter.pipeline.hls import assemble_hls, check_name, folder_fetcher, is_playlist
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec
from tests.media import reference_frames


class Folder:
    """A fetcher over one folder's files that records every name asked for."""

    def __init__(self, folder: Path, as_path: bool = False) -> None:
        self.files = {p.name: p for p in folder.iterdir()}
        self.as_path = as_path
        self.asked: list[str] = []

    def __call__(self, name: str):
        self.asked.append(name)
        path = self.files[name]  # KeyError when absent
        return path if self.as_path else path.read_bytes()


@pytest.mark.parametrize(("segment_type", "demuxer"), [("mpegts", "mpegts"), ("fmp4", "mov")])
@pytest.mark.parametrize("as_path", [False, True])
def test_a_playlist_and_its_segments_convert_like_one_file(
    clips, tmp_path, segment_type, demuxer, as_path
):
    playlist = clips.hls(segment_type)
    fetch = Folder(playlist.parent, as_path)
    source = assemble_hls(playlist.read_bytes(), fetch, tmp_path / "source.video")
    assert set(fetch.asked) == {n for n in fetch.files if n != "index.m3u8"}
    info = probe(source)
    assert (info.demuxer, info.width, info.height) == (demuxer, 320, 240)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    result = convert(
        source,
        info,
        AnimationSpec.create(format="webp", interval=0.25, frame_rate=4, quality="best"),
    )
    image = decode(result.data)
    frames = image.frames
    # 0 .. 1.75 s. ffmpeg 9's fMP4 segments count the video's start offset
    # (0.08 s of B-frame delay) in the track's duration, 2.08 s: that adds a
    # frame at 2.0 s, the last picture still shown, never more.
    count = 8 if info.duration < 2.0 + 1e-6 else 9
    assert image.size == (320, 240) and len(frames) == count
    # Against the same moments of the original (unsegmented) pattern
    times = [0.25 * k for k in range(count)]
    refs = reference_frames(clips.container("mp4-h264"), times, 320, 240)
    scores = [ssim(f[..., :3], r) for f, r in zip(frames, refs, strict=True)]
    assert min(scores) > 0.75, scores


def test_a_master_playlist_follows_its_best_variant_in_the_folder(clips, tmp_path):
    playlist = clips.hls("mpegts")
    files = {p.name: p.read_bytes() for p in playlist.parent.iterdir()}
    files["media.m3u8"] = files.pop("index.m3u8")
    master = (
        b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000,RESOLUTION=160x120\nlow.m3u8\n"
        b"#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=320x240\nmedia.m3u8\n"
    )
    asked = []

    def fetch(name):
        asked.append(name)
        return files[name]

    source = assemble_hls(master, fetch, tmp_path / "source.video")
    assert asked[0] == "media.m3u8" and "low.m3u8" not in asked
    assert probe(source).demuxer == "mpegts"


@pytest.mark.parametrize(
    "name",
    [
        "http://169.254.169.254/latest/meta-data/x.ts",
        "https://example.com/seg.ts",
        "file:///etc/passwd",
        "file:seg000.ts",
        "data:video/mp2t;base64,AAAA",
        "concat:seg000.ts|seg001.ts",
        "/etc/passwd",
        "../other-tenant/seg000.ts",
        "a/../../seg000.ts",
        "./seg000.ts",
        "seg000.ts?token=1",
        "seg000.ts#frag",
        "%2e%2e/seg000.ts",
        "..\\seg000.ts",
        "C:\\seg000.ts",
        "seg\x00.ts",
        "a//seg000.ts",
    ],
)
def test_segments_outside_the_folder_are_refused_before_anything_is_fetched(tmp_path, name):
    asked = []
    playlist = f"#EXTM3U\n#EXTINF:1,\nseg000.ts\n#EXTINF:1,\n{name}\n".encode()
    with pytest.raises(PipelineError) as err:
        assemble_hls(playlist, lambda n: asked.append(n) or b"\x47" * 188, tmp_path / "out")
    assert err.value.code == "InvalidPlaylist"
    assert asked == []  # the whole playlist is checked before the first fetch


def test_plain_and_subfolder_names_are_accepted():
    for name in ["seg000.ts", "720p/seg-001.ts", "a b.ts", "SEG_1.m4s"]:
        assert check_name(name) == name


def test_a_missing_segment_names_it(clips, tmp_path):
    playlist = clips.hls("mpegts")
    fetch = Folder(playlist.parent)
    del fetch.files["seg002.ts"]
    with pytest.raises(PipelineError) as err:
        assemble_hls(playlist.read_bytes(), fetch, tmp_path / "out")
    assert err.value.code == "SegmentMissing" and "seg002.ts" in err.value.message


@pytest.mark.parametrize(
    ("playlist", "code"),
    [
        (b"not a playlist", "InvalidPlaylist"),
        (b"#EXTM3U\n#EXT-X-ENDLIST\n", "InvalidPlaylist"),
        (b"\xff\xfe#\x00E\x00", "InvalidPlaylist"),
        (
            b'#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="key.bin"\n#EXTINF:1,\na.ts\n',
            "UnsupportedPlaylist",
        ),
        (b"#EXTM3U\n#EXT-X-BYTERANGE:1000@0\n#EXTINF:1,\na.ts\n", "UnsupportedPlaylist"),
        (
            b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n",
            "InvalidPlaylist",
        ),  # variant is a master
        (b"#EXTM3U\n" + b"#EXTINF:1,\na.ts\n" * 10_001, "InvalidPlaylist"),
    ],
)
def test_unusable_playlists_are_refused_clearly(tmp_path, playlist, code):
    master_again = b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n"
    with pytest.raises(PipelineError) as err:
        assemble_hls(playlist, lambda n: master_again, tmp_path / "out")
    assert err.value.code == code


def test_segments_beyond_the_size_limit_are_refused(clips, tmp_path):
    playlist = clips.hls("mpegts")
    with pytest.raises(PipelineError) as err:
        assemble_hls(
            playlist.read_bytes(), Folder(playlist.parent), tmp_path / "out", max_bytes=50_000
        )
    assert err.value.code == "SourceTooLarge"


def test_a_playlist_uploaded_alone_is_not_a_video(clips):
    playlist = clips.hls("mpegts")
    assert is_playlist(playlist.read_bytes()[:64])
    with pytest.raises(PipelineError) as err:
        probe(playlist)  # ffmpeg's hls demuxer is never allowed to open it
    assert err.value.code == "UnsupportedFormat"


def test_a_bucket_folder_fetcher_reads_only_inside_the_playlists_folder(clips, tmp_path):
    playlist = clips.hls("mpegts")
    bucket = {f"videos/show/{p.name}": p.read_bytes() for p in playlist.parent.iterdir()}
    bucket["videos/secret.ts"] = b"other tenant"
    read_keys = []

    def read(key):
        read_keys.append(key)
        return bucket[key]

    fetch = folder_fetcher(read, "videos/show/index.m3u8")
    source = assemble_hls(bucket["videos/show/index.m3u8"], fetch, tmp_path / "source.video")
    assert probe(source).demuxer == "mpegts"
    assert read_keys == [f"videos/show/seg00{k}.ts" for k in range(4)]
    with pytest.raises(PipelineError):
        fetch("../secret.ts")
    with pytest.raises(KeyError):
        folder_fetcher(read, "index.m3u8")("seg000.ts")  # top-level playlist: top-level names
