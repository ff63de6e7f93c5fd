"""glibc's allocator, set for a process that handles many same-sized multi-megabyte buffers.

Every answer passes through a few buffers the size of its images (2.9 MB of base64 per 1024²
PNG): the body read from Bedrock, its strings, the answer written to the caller. By default glibc
serves each with a fresh `mmap` and unmaps it when freed, so every request faults its buffers in
page by page, and the kernel zeroes each page: at 16 concurrent requests that was a fifth of the
event loop's time. Raising the mmap threshold to its maximum puts them in the heap, and the trim
threshold keeps up to `TRIM_BYTES` of freed heap for the next request instead of returning it at
once. RSS then settles at the working set rather than tracking each request. The trim threshold
must be above what one wave of requests frees: at 32 MB the heap was still handed back and faulted
in again about once a request (4 ms of kernel time per 1024² text-to-image at one request at a
time); at 128 MB, 1 ms.

The other way, a low mmap threshold, keeps RSS at exactly the live data, but faulting every buffer
in cost 40% of the throughput of 1024² text-to-image at 16 concurrent requests on this machine.
What bounds memory instead is max_body_bytes_in_flight (capacity.py).

Only glibc has `mallopt`; elsewhere (musl, macOS) nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt(3) parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# The largest threshold glibc takes on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX): buffers up to 32 MB
# (ten 1024² images in one answer) come from the heap.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
TRIM_BYTES = 128 * 1024 * 1024
# One arena for every thread. Worker threads (image checks, transcoding) would otherwise get an
# arena each, each keeping its own freed memory: under 64 concurrent 2 MB uploads that was a
# third of the peak RSS.
ARENAS = 1


def tune() -> bool:
    """Apply the settings above; False when the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return all(
        mallopt(param, value) == 1
        for param, value in (
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
            (_M_TRIM_THRESHOLD, TRIM_BYTES),
            (_M_ARENA_MAX, ARENAS),
        )
    )
