"""What downloaded outputs are called, whichever route hands out the link."""

from __future__ import annotations

import pytest

from app.api.presenters import download_name
from app.models.job import Job


@pytest.mark.parametrize(
    ("uploaded", "expected"),
    [
        ('日本語 "quote";.flac', '日本語 "quote";.transcript.txt'),  # the Content-Disposition carries any name
        ("C:\\Users\\me\\board meeting.mp3", "board meeting.transcript.txt"),
        ("../../etc/passwd", "passwd.transcript.txt"),
        (None, "job-7.transcript.txt"),
        ("   .flac", "job-7.transcript.txt"),
    ],
)
def test_outputs_are_named_after_the_uploaded_file(uploaded: str | None, expected: str) -> None:
    assert download_name(Job(id=7, input_filename=uploaded), "transcript.txt") == expected
