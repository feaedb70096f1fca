"""Where speech models are: lookup in a fixed order, listing, and the shape of a usable model.

Lookup order for a language (first hit wins):
  1. an explicit path (`--model PATH`)            source "--model"
  2. $VOICE_TRAINER_MODEL                          source "VOICE_TRAINER_MODEL"
  3. ./models/ in the current folder               source "./models"
  4. <data dir>/models/ (where `models install` puts them)   source "data dir"
  5. a pip package vosk_model_<lang> with a model/ folder    source "package vosk_model_<lang>"
In 3 and 4 a folder counts for a language when its name is the language (models/ru/) or has it
as a dash/underscore/dot-separated part (models/vosk-model-small-ru-0.22); several hits are
tried in name order. A folder that does not look like a whole Vosk model (a half-unpacked one,
a `*.partial` or hidden temp folder) is never used.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import pkgutil
import re
import shutil
import tempfile
from contextlib import contextmanager
from typing import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from voice_trainer.errors import ModelError, ModelNotFound

MODEL_ENV = "VOICE_TRAINER_MODEL"
MODELS_DIRNAME = "models"


@dataclass(frozen=True)
class ModelLocation:
    path: Path
    source: str
    lang: str


@dataclass(frozen=True)
class ModelInfo:
    lang: str
    source: str
    path: Path
    size_bytes: int


def model_problem(path: Path) -> str | None:
    """Why `path` is not a whole Vosk model, or None when it looks like one."""
    try:
        if not path.is_dir():
            return "no such folder" if not path.exists() else "not a folder"
        if path.name.endswith(".partial") or path.name.startswith("."):
            return "an unfinished download or unpack"
        return _layout_problem(path)
    except OSError as err:  # a name too long, no permission on a parent, a loop of links
        return f"cannot read it: {err.strerror or err}"


def _layout_problem(path: Path) -> str | None:
    mdl = next((p for p in (path / "am" / "final.mdl", path / "final.mdl") if p.is_file()), None)
    if mdl is None:
        return "missing am/final.mdl"
    if mdl.stat().st_size == 0:
        return f"{mdl.relative_to(path)} is empty"
    if not ((path / "conf").is_dir() or (path / "mfcc.conf").is_file()):
        return "missing conf/"
    if not any(path.glob("graph/HCL*.fst")) and not any(path.glob("HCL*.fst")):
        return "missing graph/HCLG.fst or graph/HCLr.fst"
    return None


def find_model(lang: str, explicit: Path | None = None, data_dir: Path | None = None) -> ModelLocation:
    if explicit is not None:
        return ModelLocation(_checked(Path(explicit), "--model"), "--model", lang)
    if os.environ.get(MODEL_ENV):
        return ModelLocation(_checked(Path(os.environ[MODEL_ENV]), f"${MODEL_ENV}"), MODEL_ENV, lang)
    data_dir = data_dir if data_dir is not None else _default_data_dir()
    for source, folder in (("./models", Path.cwd() / MODELS_DIRNAME), ("data dir", data_dir / MODELS_DIRNAME)):
        hits = _lang_folders(folder, lang)
        if hits:
            return ModelLocation(hits[0], source, lang)
    package = package_model(lang)
    if package is not None:
        return ModelLocation(package, f"package {_package_name(lang)}", lang)
    raise ModelNotFound(
        f"no speech model for '{_shown(lang, quote=False)}' (looked at --model, ${MODEL_ENV}, ./{MODELS_DIRNAME}/, "
        f"{data_dir / MODELS_DIRNAME}/, python package {_shown(_package_name(lang), 40)}); "
        f"run `voice-trainer models install {_shown(lang, 40)}` or pass --model PATH"
    )


def list_models(data_dir: Path | None = None) -> list[ModelInfo]:
    """Every usable model we can see, in lookup order."""
    data_dir = data_dir if data_dir is not None else _default_data_dir()
    found: list[tuple[str, str, Path]] = []
    if os.environ.get(MODEL_ENV) and model_problem(Path(os.environ[MODEL_ENV])) is None:
        env_path = Path(os.environ[MODEL_ENV])
        found.append((lang_of(env_path.name), MODEL_ENV, env_path))
    for source, folder in (("./models", Path.cwd() / MODELS_DIRNAME), ("data dir", data_dir / MODELS_DIRNAME)):
        for path in _model_folders(folder):
            named_by = path.name if path.parent == folder else path.parent.name  # models/ru/<model>
            found.append((lang_of(named_by), source, path))
    for lang in _package_langs():
        path = package_model(lang)
        if path is not None:
            found.append((lang, f"package {_package_name(lang)}", path))
    return [ModelInfo(lang, source, path, _size(path)) for lang, source, path in found]


def package_model(lang: str) -> Path | None:
    """The model folder of pip package vosk_model_<lang>, found without importing it."""
    try:
        spec = importlib.util.find_spec(_package_name(lang))
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "model"
        if model_problem(path) is None:
            return path
    return None


def lang_of(folder_name: str) -> str:
    """vosk-model-small-en-us-0.15 -> en-us; ru -> ru."""
    name = re.sub(r"^vosk-model-(small-)?", "", folder_name)
    parts = []
    for part in re.split(r"[-_]", name):
        if re.match(r"^\d", part):
            break
        parts.append(part)
    return "-".join(parts) or folder_name


def _checked(path: Path, where: str) -> Path:
    problem = model_problem(path)
    if problem is not None:
        raise ModelError(
            f"{_shown(str(path))} ({where}): not a usable Vosk model ({problem}); "
            f"point {where} at a model folder, or leave it out to search the usual places"
        )
    return path


def _lang_folders(folder: Path, lang: str) -> list[Path]:
    wanted = lang.lower()
    hits = []
    for path in _model_folders(folder):
        parts = {p.lower() for p in re.split(r"[-_.]", path.name)}
        parent_parts = {p.lower() for p in re.split(r"[-_.]", path.parent.name)} if path.parent != folder else set()
        if path.name.lower() == wanted or wanted in parts or wanted in parent_parts:
            hits.append(path)
    return hits


def _model_folders(folder: Path) -> list[Path]:
    """Usable models directly in `folder`, or one level down (models/ru/vosk-model-small-ru-0.22)."""
    if not folder.is_dir():
        return []
    found = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith(".") or child.name.endswith(".partial") or not child.is_dir():
            continue
        if model_problem(child) is None:
            found.append(child)
            continue
        found += [g for g in sorted(child.iterdir()) if g.is_dir() and model_problem(g) is None]
    return found


def _package_name(lang: str) -> str:
    return "vosk_model_" + re.sub(r"[^a-z0-9]", "_", lang.lower())


def _package_langs() -> list[str]:
    return sorted({m.name[len("vosk_model_"):] for m in pkgutil.iter_modules() if m.name.startswith("vosk_model_")})


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                pass
    return total


def _default_data_dir() -> Path:
    from voice_trainer.settings import default_data_dir

    return default_data_dir()



# ---- installing ------------------------------------------------------------------------------

OFFICIAL_MODEL_URLS = {
    "ru": "https://alphacephei.com/vosk/models/vosk-model-small-ru-0.22.zip",
    "en": "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
}
MODEL_URL_ENV = "VOICE_TRAINER_MODEL_URL"
DOWNLOADS_DIRNAME = ".downloads"
URL_SCHEMES = ("http", "https", "file")
MAX_FOLDER_NAME = 80  # a model folder named after a long URL still fits the 255-byte name limit
_BLOCK_BYTES = 1 << 20
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def install_model(lang: str, data_dir: Path, *, url: str | None = None, progress: bool = True) -> Path:
    """Download, verify and unpack a model into <data_dir>/models/<name>; returns its folder.

    The download lands in models/.downloads/<name>.part and resumes from there after an
    interruption. The model folder appears by one rename, only after the whole archive checked
    out (see model_archive: sizes, paths, links, CRCs, a Vosk layout inside) and fitted on the
    disk, so a half-installed model is never found.
    """
    url = url or os.environ.get(MODEL_URL_ENV) or OFFICIAL_MODEL_URLS.get(lang)
    if not url:
        known = ", ".join(sorted(OFFICIAL_MODEL_URLS))
        raise ModelNotFound(
            f"no official model to download for '{_shown(lang, quote=False)}' (known: {known}); "
            "pass --url URL of a Vosk model zip, or --model PATH to a model folder"
        )
    _check_url(url, lang)
    models_dir = data_dir / MODELS_DIRNAME
    target = models_dir / _folder_name(url, lang)
    if model_problem(target) is None:
        return target
    part = models_dir / DOWNLOADS_DIRNAME / f"{target.name}.part"
    _private_dirs(data_dir, part.parent)
    resumed = _download(url, part, lang, progress)
    problem = _archive_problem(part)
    if problem and resumed and not problem.unsafe:  # the kept partial file may not be a prefix of this archive
        part.unlink()
        _download(url, part, lang, progress)
        problem = _archive_problem(part)
    if problem:
        part.unlink(missing_ok=True)
        advice = (
            "get the model from a source you trust" if problem.unsafe
            else f"run `voice-trainer models install {_shown(lang)}` again or check --url"
        )
        raise ModelError(
            f"{_shown(url)}: the downloaded archive is not a usable Vosk model: {problem}; "
            f"nothing was installed; {advice}"
        )
    _unpack(part, target, lang)
    part.unlink()
    return target


def _check_url(url: str, lang: str) -> None:
    import urllib.parse

    scheme = urllib.parse.urlparse(url).scheme.lower()
    if scheme not in URL_SCHEMES:
        raise ModelError(
            f"{_shown(url)}: not a download address; give --url as http(s)://... or file:///path/to/model.zip"
        )


def _folder_name(url: str, lang: str) -> str:
    """The model folder's name from the archive's file name: safe characters, no archive suffix, not too long."""
    import hashlib
    import urllib.parse

    base = urllib.parse.unquote(urllib.parse.urlparse(url).path).rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"\.(zip|tar|tgz|tar\.gz|tar\.bz2|tar\.xz)$", "", base, flags=re.IGNORECASE)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "vosk-model"
    if len(name) > MAX_FOLDER_NAME:
        name = f"{name[: MAX_FOLDER_NAME - 9]}-{hashlib.sha1(url.encode()).hexdigest()[:8]}"
    parts = {p.lower() for p in re.split(r"[-_.]", name)}
    safe_lang = re.sub(r"[^A-Za-z0-9_-]+", "-", lang)[:16]
    return name if lang.lower() in parts else f"{name}-{safe_lang}"


def _private_dirs(data_dir: Path, folder: Path) -> None:
    """Creates `folder` inside `data_dir`; what it creates from the data dir down is for this user only
    (the data dir holds recordings of people)."""
    missing = []
    probe = folder
    while not probe.exists() and probe != data_dir.parent:
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700, parents=path == data_dir)
            path.chmod(0o700)  # mkdir's mode is narrowed by the umask, never widened; be explicit
        except FileExistsError:
            pass
        except OSError as err:
            raise ModelError(
                f"{_shown(str(path))}: cannot create the folder ({err.strerror or err}); "
                "pass --data-dir with a folder you can write to"
            ) from None


def _download(url: str, part: Path, lang: str, progress: bool) -> bool:
    """Fetches `url` into `part`, continuing an existing partial file; True when it resumed."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        source, total_bytes, resumed = _open(url, offset)
    except _network_errors() as err:
        raise _download_error(url, lang, err) from None
    with source:
        still = (total_bytes - (offset if resumed else 0)) if total_bytes is not None else 0
        _check_free_space(part.parent, still, "download the model", lang)
        try:
            out = open(part, "ab" if resumed else "wb")
        except OSError as err:
            raise _disk_error(err, part.parent, "downloading", lang) from None
        with out, _progress(progress, url, total_bytes) as advance:
            advance(offset if resumed else 0)
            while True:
                try:
                    block = source.read(_BLOCK_BYTES)
                except _network_errors() as err:
                    raise _download_error(url, lang, err) from None
                if not block:
                    break
                try:
                    out.write(block)
                except OSError as err:
                    if err.errno in _DISK_FULL:  # a partial file filling the disk would starve the recordings
                        part.unlink(missing_ok=True)
                    raise _disk_error(err, part.parent, "downloading", lang) from None
                advance(len(block))
    size = part.stat().st_size
    if total_bytes is not None and size != total_bytes:
        raise ModelError(
            f"download of {_shown(url)} stopped at {size} of {total_bytes} bytes; "
            f"run `voice-trainer models install {_shown(lang)}` again to resume"
        )
    return resumed


def _network_errors() -> tuple[type[BaseException], ...]:
    """Looked up when a download fails, not on import: finding a model (every practice start) needs no HTTP."""
    import http.client
    import urllib.error

    return (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


def _download_error(url: str, lang: str, err: BaseException) -> ModelError:
    reason = getattr(err, "reason", None) or err
    if url.lower().startswith("file:"):
        return ModelError(
            f"could not read {_shown(url)} ({getattr(err, 'strerror', None) or _shown(str(reason), 100, quote=False)}); "
            "check the path in --url"
        )
    return ModelError(
        f"could not download {_shown(url)} ({_shown(str(reason), 100, quote=False)}); check the connection and run "
        f"`voice-trainer models install {_shown(lang)}` again (it resumes), or pass --url file:///path/to/model.zip"
    )


def _open(url: str, offset: int):
    """(readable, total size or None, resumed). file:// honours the offset itself, like HTTP Range."""
    import urllib.error
    import urllib.parse
    import urllib.request

    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        path = Path(urllib.request.url2pathname(parsed.path))
        total = path.stat().st_size
        source = open(path, "rb")
        resumed = 0 < offset <= total
        if resumed:
            source.seek(offset)
        return source, total, resumed
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)
    except urllib.error.HTTPError as err:
        if err.code != 416 or not offset:  # 416: the partial file is not a prefix we can extend
            raise
        response = urllib.request.urlopen(url, timeout=30)
        offset = 0
    length = response.headers.get("Content-Length")
    resumed = offset > 0 and response.status == 206
    total = (int(length) + (offset if resumed else 0)) if length and length.isdigit() else None
    return response, total, resumed


@contextmanager
def _progress(enabled: bool, url: str, total_bytes: int | None) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(_shown(url.rsplit("/", 1)[-1], 40, quote=False), total=total_bytes)
        yield lambda n: bar.advance(task, n)


def _archive_problem(path: Path):
    """Why the archive at `path` cannot be installed (an ArchiveProblem), or None. Reads every member."""
    from voice_trainer.speech.model_archive import ArchiveProblem, ModelArchive

    try:
        with ModelArchive(path) as archive:
            archive.verify()
    except ArchiveProblem as problem:
        return problem
    return None


def _unpack(archive_path: Path, target: Path, lang: str) -> None:
    """Unpacks into a hidden work folder beside `target`, then renames; on any failure the work folder goes."""
    from voice_trainer.speech.model_archive import ArchiveProblem, ModelArchive

    work = None
    try:
        with ModelArchive(archive_path) as archive:
            _check_free_space(target.parent, archive.unpacked_bytes, "unpack the model", lang, kept=archive_path)
            work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
            root = archive.unpack(work / "model")
        problem = _layout_problem(root)
        if problem:
            raise ModelError(f"{archive_path}: the archive holds no whole Vosk model ({problem}); nothing was installed")
        if target.exists():  # a broken earlier install: move it out of the way in the same rename-only fashion
            target.rename(work / "old")
        os.rename(root, target)
    except ArchiveProblem as problem:
        raise ModelError(f"{archive_path}: the archive is not a usable Vosk model: {problem}; nothing was installed") from None
    except OSError as err:
        raise _disk_error(err, target.parent, "unpacking", lang, kept=archive_path) from None
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def _check_free_space(folder: Path, needed_bytes: int, doing: str, lang: str, kept: Path | None = None) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell; writing will say so if it does not fit
    if needed_bytes > free:
        note = f"; the downloaded archive is kept in {_shown(str(kept))}" if kept else ""
        raise ModelError(
            f"{_shown(str(folder))}: not enough free disk space to {doing} ({_mb(needed_bytes)} MB needed, "
            f"{_mb(free)} MB free{note}); free some space or pass --data-dir on a bigger disk, then run "
            f"`voice-trainer models install {_shown(lang)}` again"
        )


def _disk_error(err: OSError, folder: Path, doing: str, lang: str, kept: Path | None = None) -> ModelError:
    """One line for a failed write: a full disk, a file size limit, or a folder we may not write to."""
    again = f"then run `voice-trainer models install {_shown(lang)}` again"
    left = f"the downloaded archive is kept in {_shown(str(kept))} for the next try" if kept else "the partial download was removed"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return ModelError(
            f"{_shown(str(folder))}: disk full while {doing} the model ({err.strerror}); nothing was installed and "
            f"{left}; free some space or pass --data-dir on a bigger disk, {again}"
        )
    if err.errno == errno.EFBIG:
        return ModelError(
            f"{_shown(str(folder))}: the file size limit (ulimit -f) stopped {doing} the model; nothing was installed "
            f"and {left}; raise the limit, {again}"
        )
    return ModelError(
        f"{_shown(str(folder))}: cannot write there while {doing} the model ({err.strerror or err}); "
        "pass --data-dir with a folder you can write to"
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f}"


def _shown(text: str, limit: int = 120, quote: bool = True) -> str:
    """A user-given value fit for a one-line message: printable, and cut in the middle when long."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    if len(text) > limit:
        text = f"{text[: limit // 2]}…{text[-limit // 2 :]}"
    return repr(text) if quote and " " in text else text
