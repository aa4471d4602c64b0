"""Category suggestions (智能分类): accuracy on the held-back demo corpus and the time of one suggestion.

1. Fits the classifier on the demo corpus's training part (40 per small class) and measures it on its held-back
   part (phrasings, titles, openings and closings never used in training; goal top-1 ≥ 85 %, top-3 ≥ 95 %),
   and, stricter, on texts that also use local names of the thing the training never saw.
2. The in-process suggestion (text → top 3 with names) over BENCH_QUERIES held-back texts: p50/p95/max
   (goal p95 < 20 ms), without and with the department at a point.
Uses the categories and regions of DATABASE_URL's demo city (load_demo_city). Prints one JSON object last.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402

from bench._common import log, machine  # noqa: E402
from grid.models import Grid  # noqa: E402
from tickets.classify import corpus, features, store  # noqa: E402
from tickets.classify.suggest import suggest  # noqa: E402
from tickets.classify.training import classifier_train, measure  # noqa: E402

QUERIES = int(os.environ.get("BENCH_QUERIES", "1000"))


def fit(train_part: str, held_part: str) -> dict:
    train = corpus.labelled(per_class=40, seed=12345, part=train_part)
    held = corpus.labelled(per_class=12, seed=777, part=held_part)
    started = time.perf_counter()
    pipeline = features.pipeline().fit([t for t, _ in train], [c for _, c in train])
    seconds = time.perf_counter() - started
    top1, top3, confusions = measure(pipeline, [t for t, _ in held], [c for _, c in held])
    return {"train": len(train), "held": len(held), "fit_s": round(seconds, 2), "top1": round(top1, 4), "top3": round(top3, 4),
            "confusions": confusions[:6]}


def timings(texts, **kwargs) -> dict:
    ms = []
    for text in texts:
        t = time.perf_counter()
        suggest(text, **kwargs)
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(ms[int(len(ms) * 0.95)], 2), "max_ms": round(ms[-1], 2)}


def main():
    log("fitting on the demo corpus ...")
    held = fit("train", "held")
    strict = fit("train-strict", "held-strict")
    log(f"held-back: top-1 {held['top1']:.1%} top-3 {held['top3']:.1%} (strict: {strict['top1']:.1%} / {strict['top3']:.1%})")
    if store.active()[1] is None:
        classifier_train()
    texts = [t for t, _ in corpus.labelled(per_class=max(QUERIES // len(corpus.CODES), 1), seed=99, part="held")][:QUERIES]
    suggest(texts[0])  # load the model once, as every process does
    grid = Grid.objects.order_by("code").first()
    figures = {
        "machine": machine(), "held_back": held, "held_back_unseen_names": strict,
        "suggest_text_only": timings(texts), "suggest_with_department": timings(texts[:200], point=grid.station or grid.boundary.centroid),
    }
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
