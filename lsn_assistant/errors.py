"""Errors per layer. Messages say what to do about them."""


class LSNError(Exception):
    """Base of every error LSN Assistant raises on purpose."""


class ConfigError(LSNError):
    """A setting is missing or invalid."""


class IngestError(LSNError):
    """One file could not be ingested; the batch goes on without it."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreUnavailable(LSNError):
    """The vector store (embedded or a Chroma server) cannot be reached."""


class IndexEmpty(LSNError):
    """Nothing has been ingested yet."""


class BadQuery(LSNError):
    """A question or search request that cannot be served as given."""


class Forbidden(LSNError):
    """A write request without the right API key."""


class NotFound(LSNError):
    """The named document (or other resource) does not exist."""


class Conflict(LSNError):
    """The request clashes with what is there (e.g. a name the corpus already uses)."""


class UploadRejected(LSNError):
    """An upload that is refused before anything is stored; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status
