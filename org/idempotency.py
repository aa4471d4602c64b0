"""Who sent a keyed request and what it said: the pair that tells a replay from a reused key."""

import hashlib

OPEN311_KEY_PARAM = "api_key"


def principal(request) -> str | None:
    """A stable name for the sender: the signed-in user, else a hash of the credential the request carries."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    credential = request.headers.get("Authorization") or request.GET.get(OPEN311_KEY_PARAM) or request.POST.get(OPEN311_KEY_PARAM)
    if not credential:
        return None
    return "cred:" + hashlib.sha256(credential.encode()).hexdigest()[:58]


def fingerprint(request, *, form) -> str:
    """sha256 of method, path and body. A form is hashed field by field (a multipart boundary changes on every retry)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if form is not None:
        for key, values in sorted(form.lists()):
            for value in values:
                digest.update(f"{key}={value}\n".encode("utf-8", "surrogatepass"))
        for key, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"{key}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()

