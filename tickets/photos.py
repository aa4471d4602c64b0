"""Photo intake shared by every app: a real image (Pillow decodes it), size-limited, metadata stripped, with a thumbnail."""

import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "HEIC", "MPO"}
THUMBNAIL_SIZE = (320, 320)
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


def max_bytes() -> int:
    return getattr(settings, "TICKETS_PHOTO_MAX_BYTES", 8 * 1024 * 1024)


@dataclass(frozen=True)
class CleanPhoto:
    image: ContentFile
    thumbnail: ContentFile
    width: int
    height: int


def clean_photo(upload) -> CleanPhoto:
    """Validate an uploaded file and re-encode it as JPEG without EXIF/GPS metadata; raises ValidationError in Chinese."""
    if upload is None:
        raise ValidationError(_("Please attach a photo."), code="required")
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes():
        raise ValidationError(
            _("The photo is too large (%(size)d MB); the limit is %(limit)d MB.")
            % {"size": round(size / 1024 / 1024), "limit": max_bytes() // 1024 // 1024},
            code="too_large",
        )
    data = upload.read()
    if len(data) > max_bytes():
        raise ValidationError(_("The photo is too large; the limit is %(limit)d MB.") % {"limit": max_bytes() // 1024 // 1024})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
        if fmt not in ALLOWED_FORMATS:
            raise ValidationError(_("This file type is not accepted; use a JPEG, PNG or WebP photo."), code="format")
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ValidationError(_("The photo has too many pixels."), code="too_large")
        image.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("The file is not a valid image. Please take or choose a photo."), code="invalid_image")
    image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant, then drop the EXIF block
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    # Re-encoding from pixels leaves EXIF, GPS and other metadata behind.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    name = uuid.uuid4().hex
    full = io.BytesIO()
    clean.save(full, format="JPEG", quality=85, optimize=True)
    thumb = clean.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    small = io.BytesIO()
    thumb.save(small, format="JPEG", quality=80)
    return CleanPhoto(
        image=ContentFile(full.getvalue(), name=f"{name}.jpg"),
        thumbnail=ContentFile(small.getvalue(), name=f"{name}_t.jpg"),
        width=clean.width,
        height=clean.height,
    )
