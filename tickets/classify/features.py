"""Text → features: TF-IDF over jieba words and over character n-grams (typos and unknown words still share
characters), joined in one FeatureUnion, then a linear model. Every step has a fixed random_state."""

import logging
import re
import threading

import jieba
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

jieba.setLogLevel(logging.WARNING)

_lock = threading.Lock()
_ready: list = []
_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
# spoken filler that says nothing about the matter
STOPWORDS = frozenset("的 了 在 是 我 你 他 们 有 和 就 也 都 还 很 到 要 会 说 这 那 吗 呢 吧 啊 呀 嘛 么 喂 你好 麻烦 一下 谢谢".split())


def words(text: str) -> list[str]:
    """jieba's words of the text, lower-cased, without punctuation and filler. A module-level function so the
    fitted pipeline pickles by reference."""
    if not _ready:
        with _lock:
            if not _ready:
                jieba.initialize()
                _ready.append(True)
    return [w for w in (t.strip().lower() for t in jieba.lcut(text or "")) if w and w not in STOPWORDS and _KEEP.search(w)]


def pipeline(*, c: float = 50.0) -> Pipeline:
    return Pipeline([
        ("features", FeatureUnion([
            ("words", TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2)),
        ])),
        ("model", LogisticRegression(C=c, max_iter=2000, random_state=0)),
    ])
