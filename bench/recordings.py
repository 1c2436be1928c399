"""Recording storage: transcode speed and stored size against the raw WAV, measured in the same run.

A five-minute 8 kHz mono WAV (the prompt audio the stack synthesised, looped; pink noise when there is
none yet) is transcoded the way the worker does it, several times. Keys: `transcode_x_realtime_per_core`
(audio seconds per CPU second of ffmpeg; target ≥ 200), `stored_bytes_per_min` (target ≤ 120 KB) and
the baseline `wav_bytes_per_min`, plus the copy speed of the WAV itself. The two-channel file the
worker keeps when Asterisk wrote both sides (`two_channel_*`) and the webrtcvad analysis speed
(`analysis_x_realtime_per_core`) are measured on the same audio.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

from bench.common import progress, publish
from bench.headlines import Headline
from hotline.app.settings import default_cache_dir
from recordings.analysis import analyse
from recordings.transcode import Codec, transcode, wav_seconds

SECONDS = 300
ROUNDS = 5

HEADLINES = (
    Headline("transcode_x_realtime_per_core", target=">= 200"),
    Headline("stored_bytes_per_min", baseline="wav_bytes_per_min", target="<= 120000"),
    Headline("analysis_x_realtime_per_core"),
)
BUDGET_S = 300


def _source(folder: Path) -> tuple[Path, str]:
    """A 5-minute WAV of speech if synthesised prompts are cached, else pink noise."""
    out = folder / "call.wav"
    prompts = sorted((default_cache_dir() / "prompts").glob("*.wav"))
    if prompts:
        frames = b""
        with wave.open(str(prompts[0]), "rb") as first:
            params = first.getparams()
        while len(frames) < SECONDS * params.framerate * params.sampwidth:
            for p in prompts:
                with wave.open(str(p), "rb") as w:
                    frames += w.readframes(w.getnframes())
        with wave.open(str(out), "wb") as w:
            w.setparams(params)
            w.writeframes(frames[: SECONDS * params.framerate * params.sampwidth])
        return out, f"{len(prompts)} synthesised prompts, looped"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"anoisesrc=d={SECONDS}:c=pink:r=8000:a=0.3", "-ac", "1", "-c:a", "pcm_s16le", str(out)],
                   check=True)
    return out, "pink noise (no synthesised prompts cached yet)"


def _rotated(wav: Path, out: Path) -> Path:
    """The same audio started a third of the way in: a stand-in for the other side of the call."""
    with wave.open(str(wav), "rb") as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    cut = len(frames) // 3 // params.sampwidth * params.sampwidth
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes(frames[cut:] + frames[:cut])
    return out


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run() -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="bench-rec-"))
    try:
        wav, source = _source(folder)
        seconds = wav_seconds(wav)
        progress(f"recordings: {seconds:.0f} s WAV from {source}; {ROUNDS} transcodes")
        codec = Codec()
        start_cpu, start = _child_cpu(), time.perf_counter()
        for i in range(ROUNDS):
            await transcode([wav], folder / f"out{i}.{codec.suffix}", codec)
        cpu, wall = _child_cpu() - start_cpu, time.perf_counter() - start
        copy_start = time.perf_counter()
        for i in range(ROUNDS):
            shutil.copyfile(wav, folder / f"copy{i}.wav")
        copy_wall = time.perf_counter() - copy_start
        stored = (folder / f"out0.{codec.suffix}").stat().st_size
        heard = _rotated(wav, folder / "heard.wav")  # the other side: same kind of audio, other moments
        two_start = _child_cpu()
        await transcode([wav, heard], folder / f"two.{codec.suffix}", codec)
        two_cpu = _child_cpu() - two_start
        two_stored = (folder / f"two.{codec.suffix}").stat().st_size
        analysis_start = time.process_time()
        analyse(wav, wav, heard)
        analysis_cpu = time.process_time() - analysis_start
        minutes = seconds / 60
        return publish("recordings", {
            "source": source, "audio_s": round(seconds, 1), "rounds": ROUNDS,
            "format": f"{codec.format} {codec.bitrate_kbps} kb/s",
            "transcode_x_realtime_per_core": round(seconds * ROUNDS / cpu, 1),
            "transcode_x_realtime_wall": round(seconds * ROUNDS / wall, 1),
            "stored_bytes_per_min": round(stored / minutes),
            "two_channel_transcode_x_realtime_per_core": round(seconds / two_cpu, 1),
            "two_channel_stored_bytes_per_min": round(two_stored / minutes),
            "analysis_x_realtime_per_core": round(seconds / analysis_cpu, 1),
            "wav_bytes_per_min": round(wav.stat().st_size / minutes),
            "baseline": {"what": "the raw WAV, kept as Asterisk wrote it",
                         "bytes_per_min": round(wav.stat().st_size / minutes),
                         "copy_x_realtime_wall": round(seconds * ROUNDS / copy_wall, 1)},
            "targets": {"transcode_x_realtime_per_core": ">= 200", "stored_bytes_per_min": "<= 120000"},
        })
    finally:
        shutil.rmtree(folder, ignore_errors=True)
