"""ORM models; importing this package registers every table on ``Base.metadata``."""

from app.models.job import Job, JobKind, JobStatus
from app.models.user import User
from app.models.voice import VoiceProfile, VoiceUse

__all__ = ["Job", "JobKind", "JobStatus", "User", "VoiceProfile", "VoiceUse"]
