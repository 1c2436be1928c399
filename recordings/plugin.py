"""Recordings: the worker process that stores every call's audio, their search and playback, retention."""

from __future__ import annotations

from pathlib import Path

from dialplans.model import Dialplan
from hotline.calls.audio import StoredAudio
from hotline.core.plugin import Brought, Deps, Plugin, Started
from hotline.core.web.health import PartHealth
from hotline.core.workers import ChildWorker
from recordings import http
from recordings.backends import StoreConfig
from recordings.backup import backup_backlog
from recordings.catalog import RecordingCatalog
from recordings.metrics import RecordingFigures
from recordings.process import RecordingWorkerProcess
from recordings.quality import http as quality_http
from recordings.quality.flags import FlagRules
from recordings.quality.service import QualityReview
from recordings.quality.sheet import load_sheet
from recordings.settings import RecordingSettings
from recordings.verify import register
from recordings.worker import recording_backlog


async def load(deps: Deps) -> Brought:
    s, core, data = deps.get(RecordingSettings), deps.core, deps.data
    store = StoreConfig.of(s, core.home)
    worker = RecordingWorkerProcess(core.db_url, data.host(data.inner_of("recordings")), store, core.run_dir,
                                    fmt=s.format, max_backoff_s=s.max_backoff_s, keep_years=s.keep_years,
                                    max_attempts=s.max_attempts)
    catalog = RecordingCatalog(deps.sessions, store.open())  # malformed keys stop the service here
    deps.publish(catalog.store, StoredAudio)  # a voice message on the callback work list is played from it
    store.open_backup()  # a bad backup target stops the service now, not the worker later

    async def start(_: Started) -> None:
        await worker.start()

    async def backlog() -> PartHealth:
        waiting = await recording_backlog(deps.sessions)
        copies = await backup_backlog(deps.sessions) if store.backup else {"waiting": 0, "dead": 0}
        return PartHealth(waiting["failing"] == 0 and waiting["dead"] == 0 and copies["dead"] == 0,
                          f"waiting {waiting['waiting']}, failing {waiting['failing']}, dead {waiting['dead']}; "
                          f"backup waiting {copies['waiting']}, dead {copies['dead']} (see recordings.log)")

    figures = RecordingFigures(deps.sessions)
    labels = deps.get(Dialplan).rating.labels
    review = QualityReview(deps.sessions, load_sheet(), FlagRules.of(s, labels), labels)
    # several service instances: the worker process runs on the one holding its lease (hotline.core.workers)
    several = bool(core.instances)
    return Brought(routes=[http.routes(catalog), quality_http.routes(review)],
                   workers=[figures, *([ChildWorker("recordings", worker.start, worker.stop)] if several else [])],
                   collectors=[figures], on_asterisk=[] if several else [start], closers=[worker.stop],
                   health={"recordings": backlog},
                   pages={"quality": PAGES / "quality"})  # 录音质检


PAGES = Path(__file__).parent / "pages"
plugin = Plugin("recordings", load, commands=[register], migrations=Path(__file__).parent / "migrations")
