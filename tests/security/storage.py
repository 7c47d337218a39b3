"""Storages that fail like a full disk or an unreachable object store (for the fault tests)."""

import errno

from django.core.files.storage import FileSystemStorage


class FullDiskStorage(FileSystemStorage):
    """Every save fails with ENOSPC, as when the disk is full."""

    def _save(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device")


class FillsUpStorage(FileSystemStorage):
    """The first save of each test succeeds; later ones fail with ENOSPC."""

    saved = 0

    def _save(self, name, content):
        if FillsUpStorage.saved >= 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        FillsUpStorage.saved += 1
        return super()._save(name, content)
