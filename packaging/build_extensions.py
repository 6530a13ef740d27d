"""Build the browser extension packages from extension/ (no build step: files are copied as they are).

    python packaging/build_extensions.py [--out dist] [--unpacked]

writes dist/crosscurrent-chrome.zip and dist/crosscurrent-firefox.zip (and, with --unpacked, the same
trees as dist/chrome/ and dist/firefox/ for `web-ext lint` or loading unpacked). The Firefox manifest is
extension/manifest.json with extension/manifest.firefox.json merged over it as a JSON merge patch
(RFC 7396: objects merge, a null removes the key). Zips are deterministic: sorted entries, fixed
timestamps and permissions, so the same sources give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import zipfile
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "extension"
BASE_MANIFEST = "manifest.json"
FIREFOX_PATCH = "manifest.firefox.json"
# Files that describe the package rather than belong in it.
NOT_SHIPPED = {FIREFOX_PATCH, "README.md"}
SKIPPED_NAMES = {".DS_Store", "Thumbs.db"}
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold


def merge_patch(target, patch):
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_for(browser: str, source: Path = SOURCE) -> dict:
    base = load_json(source / BASE_MANIFEST)
    if browser == "chrome":
        return base
    if browser == "firefox":
        return merge_patch(base, load_json(source / FIREFOX_PATCH))
    raise ValueError(f"unknown browser {browser!r}")


def shipped_files(source: Path = SOURCE) -> list[Path]:
    """Every file of the extension but the manifests, as paths relative to `source`, sorted."""
    files = []
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if not path.is_file() or path.name in SKIPPED_NAMES or any(part.startswith(".") for part in relative.parts):
            continue
        if relative.as_posix() in NOT_SHIPPED or relative.as_posix() == BASE_MANIFEST:
            continue
        files.append(relative)
    return sorted(files, key=lambda p: p.as_posix())


def package_contents(browser: str, source: Path = SOURCE) -> dict[str, bytes]:
    """Archive name -> bytes, manifest first."""
    manifest = json.dumps(manifest_for(browser, source), indent=2, ensure_ascii=False) + "\n"
    contents = {BASE_MANIFEST: manifest.encode("utf-8")}
    for relative in shipped_files(source):
        contents[relative.as_posix()] = (source / relative).read_bytes()
    return contents


def write_zip(contents: dict[str, bytes], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for name in [BASE_MANIFEST] + sorted(n for n in contents if n != BASE_MANIFEST):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # unix, so the permissions above mean the same everywhere
            archive.writestr(info, contents[name], compresslevel=9)


def write_tree(contents: dict[str, bytes], target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    for name, data in contents.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def build(out: Path, unpacked: bool = False, source: Path = SOURCE) -> list[Path]:
    written = []
    for browser in ("chrome", "firefox"):
        contents = package_contents(browser, source)
        archive = out / f"crosscurrent-{browser}.zip"
        write_zip(contents, archive)
        written.append(archive)
        if unpacked:
            write_tree(contents, out / browser)
            written.append(out / browser)
        logger.info("built %s (%d files)", archive, len(contents))
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--unpacked", action="store_true", help="also write unpacked trees dist/chrome and dist/firefox")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(args.out, args.unpacked)


if __name__ == "__main__":
    main()
