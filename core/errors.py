"""Errors FaceGate raises. Each carries a sentence a user can act on, naming the file at fault."""

from __future__ import annotations


class FaceGateError(Exception):
    """Base of every error FaceGate raises on purpose; its message is shown to users as is."""


class ImageError(FaceGateError):
    """An image file could not be used: missing, empty, damaged, not an image, or too large."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class NoFaceError(FaceGateError):
    """An image or frame held no face where one was needed."""


class ManyFacesError(FaceGateError):
    """An image held several faces where exactly one was needed (enrolling from a photo)."""


class PoorFaceError(NoFaceError):
    """The face found is too small, blurred or turned away to give a descriptor to trust."""


class ModelError(FaceGateError):
    """A model file (dlib's, YuNet's, the Haar cascade) is missing or unreadable."""


class StoreError(FaceGateError):
    """The gallery database cannot be used."""


class DatabaseLocked(StoreError):
    """Another program holds the database; nothing was written, try again later."""


class DatabaseDamaged(StoreError):
    """The database file is not a FaceGate database, or is corrupt."""


class UnknownPerson(StoreError):
    """A person named by the user is not in the gallery."""


class DuplicatePerson(StoreError):
    """A person with that name already exists."""
