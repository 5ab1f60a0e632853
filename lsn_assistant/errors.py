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
