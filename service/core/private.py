"""Owner-only files: the data dir holds the database, the master key and sealed blobs, so nobody else on the host
may read (or list) anything in it, whatever umask the process was started with.

Two layers: our own files and directories are made with explicit modes (and checked on start-up), and the
entry points set an owner-only umask so files third-party code makes in the data dir (SQLite's journals, Celery
beat's schedule, the model cache) are owner-only too.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.core.settings import Settings

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077

log = logging.getLogger("anonscribe")


def restrict_umask() -> None:
    """For entry points (CLI, uvicorn factory, Celery): everything this process creates is owner-only."""
    os.umask(UMASK)


def private_parents(path: Path) -> Path:
    """Create whichever of `path` and its parents are missing, each 0700; existing ones are left as they are
    (a parent may be a shared directory the operator chose)."""
    missing = []
    for p in (path, *path.parents):
        if p.exists():
            break
        missing.append(p)
    for p in reversed(missing):
        try:
            p.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass  # another process made it first
        else:
            # mkdir's mode is masked by the umask; the chmod is what guarantees it.
            os.chmod(p, DIR_MODE)
    return path


def private_dir(path: Path) -> Path:
    """Make `path` a 0700 directory, creating it (and missing parents) or tightening it."""
    private_parents(path)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty and 0600 if missing (before a library such as SQLite creates it with a mode of its
    own), or tighten an existing one."""
    private_parents(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def tighten_tree(root: Path) -> int:
    """Make every directory under `root` 0700 and every file 0600 (symlinks are left alone and not followed).
    Returns how many modes were changed: non-zero means something was made before this guarantee held."""
    changed = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (".", *dirnames, *filenames):
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            want = DIR_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE
            if stat.S_IMODE(st.st_mode) != want:
                try:
                    os.chmod(path, want)
                    changed += 1
                except PermissionError:
                    log.warning("cannot make %s owner-only (not its owner)", path)
    return changed


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other back-ends and in-memory databases)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def secure_data_dir(settings: Settings) -> None:
    """Create the data dir 0700 and tighten what is already in it (files from before this guarantee, or made
    by a process with a looser umask); a local blob directory configured elsewhere gets the same."""
    roots = [private_dir(settings.data_dir)]
    if settings.storage == "local" and settings.blob_dir is not None:
        roots.append(private_dir(settings.blob_dir))
    if (db_file := sqlite_file(settings.resolved_database_url)) is not None:
        private_file(db_file)
    for root in roots:
        if changed := tighten_tree(root):
            log.warning("made %d file(s) or directories under %s owner-only", changed, root)
