"""Smart intake (智能分类): complaint text → the small classes it most likely belongs to.

corpus (the demo complaints), features (jieba words + character n-grams → a linear model), training (fit,
measure on the held-back part, keep, activate only if at least as good), store (the active model, loaded once
per process and version), keywords (the cold start: category names and admins' synonyms), suggest (the one
function callers use), services (writes: the labelled texts, the suggestion outcomes)."""
