"""The recordings' section of the settings (`HOTLINE_RECORDINGS_*`, `HOTLINE_S3_*`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hotline.core.settings import env_field


@dataclass(frozen=True)
class RecordingSettings:
    # stored recordings (a dated tree, read-only files; default <home>/recordings) and their format: opus | mp3
    dir: str = env_field("RECORDINGS_DIR", "")
    format: str = env_field("RECORDINGS_FORMAT", "opus")
    max_backoff_s: float = env_field("RECORDINGS_MAX_BACKOFF_S", "60", float)
    # where stored recordings go: local (the dated tree above) | s3 (S3-compatible object storage; the
    # access key and secret come from HOTLINE_S3_ACCESS_KEY / HOTLINE_S3_SECRET_KEY)
    backend: str = env_field("RECORDINGS_BACKEND", "local")
    s3_endpoint: str = env_field("S3_ENDPOINT", "")
    s3_bucket: str = env_field("S3_BUCKET", "hotline-recordings")
    s3_region: str = env_field("S3_REGION", "us-east-1")
    s3_prefix: str = env_field("S3_PREFIX", "")
    # the second copy of every stored recording: a folder, or s3://bucket/prefix (same endpoint and keys as
    # above); "" for none. Encryption keys: HOTLINE_RECORDINGS_KEY / _OLD_KEYS / _ENCRYPT (recordings.keyring)
    backup: str = env_field("RECORDINGS_BACKUP", "")
    max_attempts: int = env_field("RECORDINGS_MAX_ATTEMPTS", "30", int)
    # keep stored recordings this many years (0: for ever, as the standards ask long-term keeping)
    keep_years: int = env_field("RECORDINGS_KEEP_YEARS", "0", int)
    # quality review (recordings.quality): a call is flagged `silence` when its longest dead air (neither side
    # speaking) lasts this long, `talk_over` when both sides spoke at once this long in all, `short` when the
    # agent's part of an answered call was shorter than this; `bad_rating` is the two worst rating levels
    quality_silence_s: float = env_field("QUALITY_SILENCE_S", "30", float)
    quality_talk_over_s: float = env_field("QUALITY_TALK_OVER_S", "10", float)
    quality_short_s: float = env_field("QUALITY_SHORT_S", "30", float)

    def store_dir(self, home: Path) -> Path:
        return Path(self.dir) if self.dir else home / "recordings"
