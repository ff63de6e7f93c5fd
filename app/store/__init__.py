"""Where the images jobs make are kept: a local directory (the default) and signed URLs to them."""

from .local import LocalStore, SignedUrls

__all__ = ["LocalStore", "SignedUrls"]
