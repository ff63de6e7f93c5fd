"""Per-key quotas (requests and images per minute, concurrent requests), in memory or Redis."""

from .policy import Decision, Usage, effective_limits
from .quotas import Backend, Lease, Quotas, open_quotas

__all__ = ["Backend", "Decision", "Lease", "Quotas", "Usage", "effective_limits", "open_quotas"]
