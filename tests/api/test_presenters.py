"""What downloaded outputs are called, whichever route hands out the link ), and how the name travels."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from app.api.presenters import batch_state, download_name
from app.models.job import Job, JobStatus
from app.storage import attachment_disposition


@pytest.mark.parametrize(
    ("uploaded", "expected"),
    [
        ('日本語 "quote";.flac', '日本語 "quote";.transcript.txt'),
        ("C:\\Users\\me\\board meeting.mp3", "board meeting.transcript.txt"),
        ("../../etc/passwd", "passwd.transcript.txt"),
        (None, "job-7.transcript.txt"),
        ("   .flac", "job-7.transcript.txt"),
        (".bashrc", "bashrc.transcript.txt"),  # never a hidden file
        ("...", "job-7.transcript.txt"),
    ],
)
def test_outputs_are_named_after_the_uploaded_file(uploaded: str | None, expected: str) -> None:
    assert download_name(Job(id=7, input_filename=uploaded), "transcript.txt") == expected


def test_any_name_travels_in_the_content_disposition() -> None:
    name = '日本語 "quote";\\.transcript.txt'
    disposition = attachment_disposition(name)

    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and '"' not in fallback and "\\" not in fallback
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == name


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([JobStatus.PENDING, JobStatus.PENDING], "pending"),
        ([JobStatus.PENDING, JobStatus.PROCESSING], "processing"),
        ([JobStatus.COMPLETED, JobStatus.PENDING], "processing"),  # one has ended: the batch is under way
        ([JobStatus.COMPLETED, JobStatus.COMPLETED], "completed"),
        ([JobStatus.FAILED, JobStatus.FAILED], "failed"),
        ([JobStatus.COMPLETED, JobStatus.FAILED], "partial"),
    ],
)
def test_a_batch_is_summed_up_from_its_jobs(statuses: list[JobStatus], expected: str) -> None:
    jobs = [Job(id=index, status=status, progress=50.0) for index, status in enumerate(statuses)]
    state = batch_state("b1", jobs)
    assert state["status"] == expected and sum(state["counts"].values()) == len(jobs)
    ended = sum(status.is_terminal for status in statuses)
    assert state["progress"] == (100 * ended + 50 * (len(jobs) - ended)) / len(jobs)
