"""Atomic writes: a file or folder appears whole or not at all.

Each write goes to a temporary name in the destination's own folder (:func:`temporary_sibling`) and is
renamed into place (``os.replace``) only when complete, so a process killed at any moment leaves either
the old file or the new one, never half of one. Temporaries name the process that wrote them, so the
leftovers of a killed process can be removed (:func:`remove_stale_temporaries`) without touching what
another live process is writing. Used by figures, the runner's reports, training checkpoints and dataset
downloads.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = ["temporary_sibling", "atomic_path", "atomic_write_text", "replace_folder", "remove_stale_temporaries"]


# ".<final name>.<pid>.<8 hex>.tmp": hidden, unique per writer, and naming the process that wrote it
# so that leftovers of a killed process can be told from files another live process is writing.
_TEMP_RE = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def temporary_sibling(path: str | Path) -> Path:
    """A fresh temporary name in ``path``'s folder: ``.<name>.<pid>.<random>.tmp``.

    Renaming it onto ``path`` (``os.replace``) is atomic because both lie in one folder (one file
    system); the pid lets :func:`remove_stale_temporaries` clean up after a killed writer.
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Write ``path`` atomically: yield a temporary sibling to write to; when the block ends without
    an exception, ``os.replace`` it onto ``path``; otherwise (any exception, ``KeyboardInterrupt``
    included) delete it and leave ``path`` as it was.

    Works for a file or a folder written at the temporary name (a folder replaces only a missing or
    empty ``path``; see :func:`replace_folder`).
    """
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"atomic write of {path}: nothing was written to the temporary {tmp}")
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def replace_folder(src: Path, dst: Path) -> None:
    """Move the complete folder ``src`` to ``dst`` (same file system), replacing an existing ``dst``.

    An existing ``dst`` is first renamed out of the way (to a temporary sibling, then deleted), so at
    every moment ``dst`` is either the old folder, absent, or the complete new one.
    """
    src, dst = Path(src), Path(dst)
    old = None
    if dst.exists() or dst.is_symlink():
        old = temporary_sibling(dst)
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        _remove(old)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or not a pid we can check: leave its files alone
    return True


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporaries (:func:`temporary_sibling` names, files or folders) in ``folder`` whose
    writing process no longer exists (a run killed mid-write); return what was deleted.

    Temporaries of live processes (this one included) are left alone: they are being written.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m is not None and not _pid_alive(int(m.group("pid"))):
            _remove(entry)
            removed.append(entry)
    return removed
