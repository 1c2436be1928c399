"""The prompt catalogue: every prompt a flow plays, where it is heard, and where its audio comes from.

Texts live in the dialplan file (`prompts:`); engineers may drop a recorded `<key>.wav` (or .mp3, .m4a,
.ogg, .flac; any rate, read with pydub) into the recorded-prompts folder (`dialplans/prompts/` by default)
and it is played instead of the synthesised text. `hotline prompts render` renders them all and reports any missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialplans.loader import DialplanInvalid, load_dialplan
from dialplans.model import Dialplan
from hotline.core.settings import CoreSettings

# key: where the citizen (or petitioner, or unit) hears it
USES: dict[str, str] = {
    "greeting": "every call, first words", "greeting_new_year": "New Year / Spring Festival greeting",
    "greeting_festival": "other holidays' greeting", "emergency_hint": "once queued, on numbers with emergency_hint",
    "transition": "merged numbers in their transition window", "goodbye": "end of a call",
    "apology": "a broken flow (fail-safe)", "rating": "after the agent hangs up",
    "rating_invalid": "a wrong rating key", "rating_thanks": "after the rating",
    "silent_prompt": "a silent caller (three times)", "silent_goodbye": "a silent caller, at the end",
    "blocked": "a blocked number", "watch_warning": "a number on the watch list or warned",
    "service_suspended": "a number under a pause / stop / suspension of service",
    "queue_position": "waiting: callers ahead ({n} = 1..9)", "queue_position_many": "waiting: ten or more ahead",
    "queue_wait": "waiting: the expected wait ({m} = 1..9 minutes)",
    "queue_wait_long": "waiting: ten minutes or more expected",
    "self_service_offer": "waiting: ticket progress (1) or a callback (2)", "ticket_enter": "ticket lookup",
    "self_service_offer_knowledge": "waiting, on numbers with knowledge: also the knowledge base's answers (3)",
    "knowledge_none": "the knowledge base has no entry to read on this line",
    "ticket_not_found": "ticket lookup: no such ticket", "back_to_waiting": "after self-service",
    "callback_booked": "callback requested", "callback_unavailable": "callback impossible (withheld number)",
    **{f"ticket_status_{s}": f"ticket lookup: status {s}"
       for s in ("accepted", "dispatched", "signed", "feedback", "closed", "overdue")},
    "duty_call_opening": "a handling unit's duty phone ({agent}, {title})",
    "menu_invalid": "a number's menu: a wrong key", "menu_12329": "12329's menu (housing fund / other)",
    "over_capacity_offer": "over capacity: a message (1) instead of waiting",
    "message_record": "before the caller's message", "message_thanks": "after the caller's message",
    "revisit_opening": "revisit: greeting, is this {name}?",
    "revisit_consent": "revisit: consent (1 yes, 2 no, 0 a person)",
    "revisit_contacted": "revisit: contacted? ({topic})",
    "revisit_solved": "revisit: solved?", "revisit_satisfaction": "revisit: how satisfied",
    "revisit_aspect": "revisit: which aspect", "revisit_repeat": "revisit: no key heard",
    "revisit_closing": "revisit: closing words", "revisit_declined": "revisit: consent refused",
    "revisit_to_person": "revisit: handing over to a person",
    **{f"agent_{k}": f"agents' phones: feature code ({k.replace('_', ' ')})" for k in (
        "ready", "paused", "signed_out", "wrap_up_extended", "not_in_wrap_up", "on_call", "code_invalid")},
}
# filled in per call: rendered with these sample values to prove they synthesise
SAMPLES = {"{n}": "三", "{m}": "五", "{name}": "张女士", "{topic}": "小区噪音", "{agent}": "8001", "{title}": "停水"}


@dataclass(frozen=True)
class Entry:
    key: str
    text: str
    use: str
    source: str  # recorded | synthesised | per-call | missing
    seconds: float | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


def recorded_dir(settings: CoreSettings) -> Path:
    return settings.recorded_prompts or settings.dialplan_file.parent / "prompts"


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return round(w.getnframes() / w.getframerate(), 2)


async def catalogue(plan: Dialplan, out_dir: Path, settings: CoreSettings) -> list[Entry]:
    """Render every prompt of the plan (recorded audio first) into `out_dir`; one entry per key."""
    from hotline.core.asterisk.root import find_root
    from hotline.core.audio.prompts import PromptRenderer
    from hotline.core.settings import default_cache_dir

    renderer = PromptRenderer(find_root(settings.asterisk_root), default_cache_dir() / "prompts",
                              recorded_dir(settings))
    entries: list[Entry] = []
    for key in sorted(set(USES) | set(plan.prompts)):
        text, use = plan.prompts.get(key), USES.get(key, "(not played by any flow)")
        if text is None:
            entries.append(Entry(key, "", use, "missing"))
            continue
        sample = text
        for mark, value in SAMPLES.items():
            sample = sample.replace(mark, value)
        try:
            path = (await renderer.render_all({key: sample}, out_dir))[key]
        except Exception as exc:
            entries.append(Entry(key, text, use, "missing", error=str(exc)[:200]))
            continue
        source = "per-call" if sample != text else ("recorded" if renderer.recorded_for(key) else "synthesised")
        entries.append(Entry(key, text, use, source, _seconds(path)))
    return entries


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    prompts = sub.add_parser("prompts", help="the prompt catalogue")
    psub = prompts.add_subparsers(dest="prompts_command", required=True)
    rend = psub.add_parser("render", help="render every prompt (recorded audio first, else TTS); report missing")
    rend.add_argument("--out", type=Path, help="where to write the WAVs (default: a folder in the home)")
    rend.add_argument("--json", action="store_true")
    rend.set_defaults(func=lambda a: asyncio.run(_render(a)))


async def _render(args: argparse.Namespace) -> int:
    settings = CoreSettings()
    try:
        plan = load_dialplan(settings.dialplan_file)
    except DialplanInvalid as exc:
        print(exc, file=sys.stderr)
        return 1
    out = args.out or settings.home / "prompts-rendered"
    entries = await catalogue(plan, out, settings)
    missing = [e for e in entries if e.source == "missing"]
    if args.json:
        print(json.dumps({"prompts": [e.to_json() for e in entries], "missing": [e.key for e in missing],
                          "out": str(out)}, ensure_ascii=False))
    else:
        for e in entries:
            length = f"{e.seconds:5.1f}s" if e.seconds is not None else "    - "
            print(f"{e.source:11} {length}  {e.key:26} {e.use}: {e.text or e.error or ''}")
        print(f"{len(entries)} prompts in {out}; {len(missing)} missing")
    return 1 if missing else 0
