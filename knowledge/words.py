"""Chinese words for the knowledge base's search: jieba segmentation (its dictionary loaded once, lazily,
with the synonyms and the departments', categories' and entries' words added), synonyms that fold a citizen's
word into the entry's, and pinyin (full syllables, initials) so that "gjj" and a homophone typo still match."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources

import yaml
from pypinyin import Style, lazy_pinyin

HAN = re.compile(r"[\u3400-\u9fff]")
ASCII_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(w for line in resources.files("knowledge").joinpath("data/stopwords.txt")
                      .read_text(encoding="utf-8").splitlines() if not line.startswith("#") for w in line.split())


@cache
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    text = resources.files("knowledge").joinpath("data/synonyms.yaml").read_text(encoding="utf-8")
    return tuple(tuple(str(w) for w in group) for group in yaml.safe_load(text)["groups"])


@cache
def _canonical() -> dict[str, str]:
    return {word: group[0] for group in synonym_groups() for word in group}


def canonical(term: str) -> str:
    """The synonym group's word for `term` (itself when it has none)."""
    return _canonical().get(term, term)


class Segmenter:
    """One jieba tokenizer for the process: its dictionary is loaded on first use (about a second)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jieba: object | None = None
        self._added: set[str] = set()

    def _tokenizer(self) -> object:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    for group in synonym_groups():
                        for word in group:
                            tokenizer.add_word(word, freq=50_000)
                    self._jieba = tokenizer
        return self._jieba

    def add_words(self, words: Iterable[str]) -> None:
        """Words the dictionary must keep whole (departments, categories, keywords)."""
        tokenizer = self._tokenizer()
        for word in words:
            word = word.strip()
            if len(word) >= 2 and word not in self._added and HAN.search(word):
                self._added.add(word)
                tokenizer.add_word(word, freq=20_000)  # type: ignore[attr-defined]

    def cut(self, text: str, *, parts: bool = False) -> list[str]:
        """The words of `text`, lower case; with `parts`, jieba's search mode (long words and their parts)."""
        tokenizer = self._tokenizer()
        words = (tokenizer.cut_for_search(text.lower()) if parts  # type: ignore[attr-defined]
                 else tokenizer.cut(text.lower()))  # type: ignore[attr-defined]
        return [w for w in (w.strip() for w in words) if w and (HAN.search(w) or ASCII_WORD.fullmatch(w))]


SEGMENTER = Segmenter()


def terms(text: str) -> list[str]:
    """A query's meaningful words, each folded to its synonym group's word, in order, once each."""
    seen: dict[str, None] = {}
    for word in SEGMENTER.cut(text):
        if word in STOPWORDS:
            continue
        seen.setdefault(canonical(word), None)
    return list(seen)


def index_terms(text: str) -> list[str]:
    """What an entry's text is indexed by: its words and their synonym groups' words."""
    seen: dict[str, None] = {}
    for word in SEGMENTER.cut(text, parts=True):
        if word not in STOPWORDS:
            seen.setdefault(word, None)
            seen.setdefault(canonical(word), None)
    return list(seen)


@lru_cache(maxsize=65536)
def _syllable(char: str) -> str:
    return lazy_pinyin(char)[0]


def syllables(text: str) -> list[str]:
    """The pinyin syllable of each Chinese character of `text`, in order (others dropped); character by
    character, the same for entries and queries, so a homophone typo meets the word it stands for."""
    return [_syllable(ch) for ch in HAN.findall(text)]


@lru_cache(maxsize=65536)
def initials(word: str) -> str:
    """The pinyin initials of a Chinese word: 公积金 → gjj."""
    return "".join(p[0] for p in lazy_pinyin(word, style=Style.FIRST_LETTER) if p) if HAN.search(word) else ""


def bigrams(text: str) -> list[str]:
    """Character bigrams of each run of Chinese characters (the typo fallback)."""
    out: list[str] = []
    for run in re.findall(r"[\u3400-\u9fff]+", text):
        out += [run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]
    return out
