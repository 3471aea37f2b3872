"""What ffmpeg and the probe may open: demuxers, decoders and protocols.

The probe refuses a file whose container or codec is not listed here before a
frame is decoded, and every ffmpeg command repeats the lists as whitelists
(``-format_whitelist``, ``-codec_whitelist``, ``-protocol_whitelist``), so a
nested open or a spoofed header cannot reach anything else either.
"""

from __future__ import annotations

# libavformat demuxer name -> the short name ffmpeg's ``-f`` takes. Playlists
# (hls), scripts (concat), image sequences and device inputs are deliberately
# absent: they make ffmpeg open other files or URLs. (An HLS upload is
# assembled into one local MPEG-TS file by ``hls.assemble_hls`` first.)
VIDEO_DEMUXERS: dict[str, str] = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mov",  # MP4, MOV, M4A
    "matroska,webm": "matroska",  # MKV, WebM
    "avi": "avi",
    "flv": "flv",
    "asf": "asf",  # WMV, WMA
    "mpegts": "mpegts",  # TS, M2TS, HLS segments
    "mpeg": "mpeg",  # MPEG-PS: VOB, MPG
    "rm": "rm",  # RealMedia
}
# Audio-only containers. They are opened only to answer "no video stream"
# clearly (and, when asked, to draw the sound's waveform); a picture inside one
# (Ogg Theora) is never converted.
AUDIO_DEMUXERS: dict[str, str] = {
    "mp3": "mp3",
    "wav": "wav",
    "flac": "flac",
    "ogg": "ogg",  # Opus, Vorbis
    "aac": "aac",  # ADTS
    "ac3": "ac3",
    "eac3": "eac3",
}
DEMUXERS: dict[str, str] = {**VIDEO_DEMUXERS, **AUDIO_DEMUXERS}
# Codecs we decode (libavcodec's codec names) and the decoders ffmpeg may open
# for each. libavcodec decodes hundreds more, and old, rarely used decoders
# carry their share of memory-safety bugs (docs/security: decoder bugs), so a
# stream in any other codec is refused before a frame is decoded, and ffmpeg
# and the probe are started with ``codec_whitelist`` as a second lock.
VIDEO_CODECS: dict[str, tuple[str, ...]] = {
    "h264": ("h264",),
    "hevc": ("hevc",),
    "av1": ("libdav1d", "libaom-av1", "av1"),
    "vp8": ("vp8", "libvpx"),
    "vp9": ("vp9", "libvpx-vp9"),
    "vp6f": ("vp6f",),  # Flash video
    "vp6": ("vp6",),
    "vp6a": ("vp6a",),
    "prores": ("prores",),
    "mpeg4": ("mpeg4",),  # MPEG-4 part 2: Xvid, DivX
    "msmpeg4v3": ("msmpeg4",),  # DivX 3
    "msmpeg4v2": ("msmpeg4v2",),
    "h263": ("h263",),
    "h263p": ("h263p",),
    "flv1": ("flv",),
    "mjpeg": ("mjpeg",),
    "mpeg1video": ("mpeg1video",),
    "mpeg2video": ("mpeg2video", "mpegvideo"),
    "wmv1": ("wmv1",),
    "wmv2": ("wmv2",),
    "wmv3": ("wmv3",),
    "vc1": ("vc1",),
    "rv10": ("rv10",),
    "rv20": ("rv20",),
    "rv30": ("rv30",),
    "rv40": ("rv40",),
    "theora": ("theora",),
    "dvvideo": ("dvvideo",),
    "ffv1": ("ffv1",),
    "qtrle": ("qtrle",),
    "tscc2": ("tscc2",),  # TechSmith screen recordings
    "dnxhd": ("dnxhd",),
    "huffyuv": ("huffyuv",),
    "utvideo": ("utvideo",),
    "png": ("png",),
    "rawvideo": ("rawvideo",),
}
AUDIO_CODECS: dict[str, tuple[str, ...]] = {
    "aac": ("aac", "aac_fixed"),
    "aac_latm": ("aac_latm",),
    "amr_nb": ("amrnb", "libopencore_amrnb"),  # phone 3GP
    "dts": ("dca",),
    "truehd": ("truehd",),
    "wmapro": ("wmapro",),
    "mp3": ("mp3float", "mp3"),
    "mp2": ("mp2float", "mp2"),
    "ac3": ("ac3", "ac3_fixed"),
    "eac3": ("eac3",),
    "flac": ("flac",),
    "alac": ("alac",),
    "opus": ("opus", "libopus"),
    "vorbis": ("vorbis", "libvorbis"),
    "wmav1": ("wmav1",),
    "wmav2": ("wmav2",),
    **{
        pcm: (pcm,)
        for pcm in (
            "pcm_s16le",
            "pcm_s16be",
            "pcm_s24le",
            "pcm_s24be",
            "pcm_s32le",
            "pcm_s32be",
            "pcm_f32le",
            "pcm_f64le",
            "pcm_u8",
            "pcm_alaw",
            "pcm_mulaw",
        )
    },
}
CODEC_WHITELIST = ",".join(d for codec in (VIDEO_CODECS | AUDIO_CODECS).values() for d in codec)
FORMAT_WHITELIST = ",".join(DEMUXERS)
PROTOCOL_WHITELIST = "file"
