"""Chinese text → tokens (jieba) for knowledge-base search and duplicate scoring."""

import logging
import re
import threading
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

_lock = threading.Lock()
_ready = False
# function words and hotline filler that say nothing about the matter
STOPWORDS = frozenset(
    "的 了 在 是 我 你 他 她 它 们 有 和 就 不 也 都 还 很 到 要 会 说 对 这 那 吗 呢 吧 啊 呀 么 与 及 或 被 把 给 让 从 向 "
    "请问 您好 你好 谢谢 一下 一个 怎么 如何 什么 哪里 现在 已经 市民 来电 反映 希望 请 能否 可以 问题 情况 相关".split()
)
_WORD = re.compile(r"[\w\u4e00-\u9fff]")


def _init() -> None:
    global _ready
    with _lock:
        if not _ready:
            jieba.initialize()
            _ready = True


def tokens(text: str) -> list[str]:
    """Search-mode segmentation (long words also yield their parts), without stopwords and punctuation."""
    _init()
    out = []
    for tok in jieba.lcut_for_search(text or ""):
        tok = tok.strip().lower()
        if not tok or tok in STOPWORDS or not _WORD.search(tok):
            continue
        out.append(tok)
    return out


@lru_cache(maxsize=20_000)
def segmented(text: str) -> str:
    """The tokens joined by spaces. Cached (a pure function of the text, a few MB at most): duplicate search
    compares each new contact with the same open tickets near a hotspot again and again."""
    return " ".join(tokens(text))
