"""Every file a member downloads passes through here.

Template downloads (DOCX, Markdown, text, XLSX, CSV) and the "download all" bundles
are collected as `Download`s and handed to the site by `publish`: the one place
where an output file is made ready for the static host. Zip-based formats are
rewritten with fixed timestamps so that two builds of the same sources give the
same bytes.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from generator.content.access import PUBLIC

MIME_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}
FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_FIXED_ISO = "2000-01-01T00:00:00Z"
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


@dataclass(frozen=True)
class Download:
    path: str  # where it is served, relative to the site root: downloads/weekly-report.docx
    content: bytes
    tier: str  # public, or the tier whose members may download it

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def mime(self) -> str:
        return MIME_TYPES.get(self.name.rsplit(".", 1)[-1], "application/octet-stream")


def reproducible_zip(data: bytes) -> bytes:
    """Rewrite a zip (DOCX, XLSX) with fixed timestamps and fixed document dates."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(rb"\g<1>" + _FIXED_ISO.encode() + rb"\g<3>", content)
            info = zipfile.ZipInfo(item.filename, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, content)
    return out.getvalue()


#: Zips already: deflating them again gains nothing and costs most of a bundle's time.
_COMPRESSED = (".docx", ".xlsx", ".zip")


def make_bundle(path: str, members: Iterable[tuple[str, bytes]], tier: str) -> Download:
    """A zip of (name inside the zip, bytes), reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(members):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            stored = name.lower().endswith(_COMPRESSED)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return Download(path, out.getvalue(), tier)


def publish(
    downloads: Iterable[Download], seal: Callable[[Download], bytes] | None = None
) -> Iterator[tuple[str, bytes]]:
    """(site path, bytes) for every download, ready to be written to the site.

    A members-only download is published only as its MK1 envelope, `X.mk1`.
    """
    for download in downloads:
        if download.tier == PUBLIC or seal is None:
            yield download.path, download.content
        else:
            yield f"{download.path}.mk1", seal(download)
