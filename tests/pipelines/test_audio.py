"""Probing and decoding real media, and refusing what is not audio."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import AppError, InvalidAudio, UnsupportedMediaType
from app.pipelines.audio import AudioLongerThanAllowed, decode_audio, iter_decoded_chunks, probe_audio
from tests.media import png_bytes, write_speech_wav, write_understated_matroska, write_video


def test_probe_flac(testdata_dir: Path) -> None:
    info = probe_audio(testdata_dir / "jfk.flac")

    assert info.duration == pytest.approx(11.0, abs=0.05)
    assert (info.sample_rate, info.channels, info.codec, info.container_format) == (44100, 2, "flac", "flac")


def test_probe_mp3(testdata_dir: Path) -> None:
    info = probe_audio(testdata_dir / "multilingual_en_de.mp3")

    assert info.duration == pytest.approx(59.9, abs=0.2)
    assert info.codec.startswith("mp3")
    assert info.container_format == "mp3"


def test_probe_file_like_leaves_position_at_zero(testdata_dir: Path) -> None:
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as upload:
        upload.write((testdata_dir / "jfk.flac").read_bytes())
        upload.seek(0)

        info = probe_audio(upload)

        assert info.duration == pytest.approx(11.0, abs=0.05)
        assert upload.tell() == 0


def test_probe_wav_of_real_speech(testdata_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "cut.wav"
    written = write_speech_wav(testdata_dir / "jfk.flac", target, start=1.0, end=4.0)

    info = probe_audio(target)
    decoded = decode_audio(target)

    assert (info.sample_rate, info.channels, info.codec, info.container_format) == (16000, 1, "pcm_s16le", "wav")
    assert info.duration == pytest.approx(3.0, abs=1e-3)
    assert decoded.size == written.size
    assert np.abs(decoded - written).max() < 1e-3


@pytest.mark.parametrize("payload", [b"", np.random.default_rng(7).bytes(4096), b"not audio at all\n" * 100])
def test_undecodable_bytes_are_invalid_audio(payload: bytes) -> None:
    upload = io.BytesIO(payload)

    with pytest.raises(InvalidAudio) as caught:
        probe_audio(upload)

    assert isinstance(caught.value.details, dict) and caught.value.details["reason"]
    assert upload.tell() == 0


def test_empty_and_truncated_files_are_invalid_audio(testdata_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes((testdata_dir / "jfk.flac").read_bytes()[:5000])

    with pytest.raises(InvalidAudio, match="not decodable"):
        probe_audio(empty)
    with pytest.raises(InvalidAudio):
        probe_audio(truncated)
    with pytest.raises(InvalidAudio):
        decode_audio(truncated)


def test_image_has_no_audio_stream() -> None:
    with pytest.raises(AppError) as caught:
        probe_audio(io.BytesIO(png_bytes()))

    assert isinstance(caught.value, UnsupportedMediaType | InvalidAudio)
    assert 400 <= caught.value.status_code < 500


def test_video_without_audio_is_unsupported(tmp_path: Path) -> None:
    target = tmp_path / "silent.mp4"
    write_video(target, speech=None)

    with pytest.raises(UnsupportedMediaType, match="no audio stream"):
        probe_audio(target)
    with pytest.raises(UnsupportedMediaType):
        decode_audio(target)


def test_video_with_audio_decodes_its_audio_track(testdata_dir: Path, tmp_path: Path) -> None:
    speech = decode_audio(testdata_dir / "jfk.flac")[: 3 * 16000]
    target = tmp_path / "talk.mp4"
    write_video(target, speech=speech)

    info = probe_audio(target)
    decoded = decode_audio(target)

    assert info.codec == "aac"
    assert decoded.size == pytest.approx(speech.size, abs=2048)


def test_decode_length_and_range(testdata_dir: Path) -> None:
    audio = decode_audio(testdata_dir / "jfk.flac")

    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == pytest.approx(11.0 * 16000, abs=16)
    assert 0.1 < np.abs(audio).max() < 1.5, "full scale, give or take resampling overshoot"


def test_chunks_stream_the_same_signal(testdata_dir: Path) -> None:
    path = testdata_dir / "jfk.flac"
    chunks = list(iter_decoded_chunks(path, chunk_seconds=4.0))

    assert [chunk.size for chunk in chunks[:-1]] == [4 * 16000] * (len(chunks) - 1)
    assert 0 < chunks[-1].size <= 4 * 16000
    np.testing.assert_array_equal(np.concatenate(chunks), decode_audio(path))


def test_a_forged_header_cannot_make_decoding_hold_more_than_allowed(testdata_dir: Path, tmp_path: Path) -> None:
    jfk = decode_audio(testdata_dir / "jfk.flac")
    forged = tmp_path / "forged.mkv"
    write_understated_matroska(forged, np.tile(jfk, 3), declared_seconds=2.0)
    assert probe_audio(forged).duration == pytest.approx(2.0)  # what the header claims

    assert decode_audio(forged, max_seconds=40.0).size == 3 * jfk.size
    with pytest.raises(AudioLongerThanAllowed) as refused:
        decode_audio(forged, max_seconds=20.0)
    assert refused.value.status_code == 422 and refused.value.details == {"reason": "too long", "max_seconds": 20.0}


@pytest.mark.parametrize(
    ("name", "script"),
    [
        ("talk.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:12\n#EXTINF:11.0,\n{target}\n#EXT-X-ENDLIST\n"),
        ("talk.flac", "ffconcat version 1.0\nfile {target}\n"),
    ],
)
def test_media_that_names_other_files_on_this_host_is_refused(
    testdata_dir: Path, tmp_path: Path, name: str, script: str
) -> None:
    """A playlist or concat script is the user's: the files it names (another user's output, say) are not."""
    target = tmp_path / "someone-elses-output.flac"
    target.write_bytes((testdata_dir / "jfk.flac").read_bytes())
    upload = tmp_path / name
    upload.write_text(script.format(target=target.name))  # beside the script, as FFmpeg resolves it

    with pytest.raises(InvalidAudio) as refused:
        decode_audio(upload)
    with pytest.raises(InvalidAudio):
        probe_audio(upload)
    assert str(tmp_path) not in str(refused.value.details)
