"""The C heap under the interpreter (glibc malloc): fewer arenas, freed memory handed back.

vosk allocates and frees tens of MB per recognizer on the threads that decode; glibc keeps what was
freed in per-thread arenas, so the process's resident memory would keep its high-water mark. Both
helpers do nothing where the C library is not glibc (musl, macOS, Windows).
"""

from __future__ import annotations

_M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
_TRIM = False  # malloc_trim, looked up on first use; None where there is none


def few_malloc_arenas() -> None:
    """At most two malloc arenas for this process, set before any thread starts (later it does not apply
    to the arenas already made). Each thread that allocates otherwise gets an arena of its own (up to 8
    per core), and what the recognizers' threads free stays held in theirs: with the kept free-pass
    recognizer a practice call peaked ~8 MB higher."""
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass


def release_freed_memory() -> None:
    """Hand the heap memory freed so far back to the system (malloc_trim; ~2 ms)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _malloc_trim():
    global _TRIM
    if _TRIM is False:
        import ctypes

        try:
            _TRIM = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
            _TRIM.argtypes, _TRIM.restype = [ctypes.c_size_t], ctypes.c_int
        except (OSError, AttributeError):
            _TRIM = None
    return _TRIM
