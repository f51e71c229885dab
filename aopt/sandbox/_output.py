"""The tail of the user's stdout/stderr, bounded in size."""

from __future__ import annotations

__all__ = ["OutputTail"]


class OutputTail:
    """Keeps the last `limit` bytes written and counts what was dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        self._buf += data
        if len(self._buf) > 2 * self.limit:
            del self._buf[: len(self._buf) - self.limit]

    def clear(self) -> None:
        self.total = 0
        self._buf.clear()

    def text(self, limit: int | None = None) -> str:
        """The kept output, starting with "[... N bytes truncated ...]" when some was dropped."""
        keep = self.limit if limit is None else min(limit, self.limit)
        data = bytes(self._buf[-keep:]) if keep else b""
        dropped = self.total - len(data)
        body = data.decode("utf-8", "replace")
        if dropped > 0:
            return f"[... {dropped} bytes truncated ...]\n{body}"
        return body
