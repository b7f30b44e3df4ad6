"""What `auditor fix` found to do: one Change per finding it acts on, and the new content of each file it edits."""

from __future__ import annotations

from typing import Any

from auditor.records import field, mutable_record


# A change's status. pending: would be written (dry run); applied: written; refused: cannot be done safely (the
# reason says why); failed: the write failed; command: for the user to run; manual: code the user changes.
PENDING, APPLIED, REFUSED, FAILED, COMMAND, MANUAL = "pending", "applied", "refused", "failed", "command", "manual"
OPEN = (PENDING, REFUSED, FAILED, COMMAND, MANUAL)  # what leaves something to do: exit code 1


@mutable_record
class Change:
    file: str  # as the scan's report shows it
    line: int | None
    before: str | None  # the text of the line (or lines) as read; None for a command or an append
    after: str | None
    reason: str
    status: str
    command: str | None = None  # the command for the user to run (status command)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file, "line": self.line, "before": self.before, "after": self.after,
                                "reason": self.reason, "status": self.status}
        if self.command is not None:
            data["command"] = self.command
        return data


@mutable_record
class FileEdit:
    """The edits of one file: whole lines replaced (by index) and bytes appended, over the bytes read once."""

    host: str  # the real path, inside the target
    shown: str
    original: bytes
    replaced: dict[int, tuple[int, list[bytes]]] = field(default_factory=dict)  # first line -> (count, new lines)
    appended: bytes = b""
    changes: list[Change] = field(default_factory=list)

    def lines(self) -> list[bytes]:
        return self.original.splitlines(keepends=True)

    def replace(self, first: int, count: int, new_lines: list[bytes]) -> bool:
        """Lines [first, first + count) replaced; False when they overlap an edit already made."""
        for start, (length, _) in self.replaced.items():
            if first < start + length and start < first + count:
                return False
        self.replaced[first] = (count, new_lines)
        return True

    def content(self) -> bytes:
        lines, out, index = self.lines(), [], 0
        while index < len(lines):
            if index in self.replaced:
                count, new_lines = self.replaced[index]
                out.extend(new_lines)
                index += count
            else:
                out.append(lines[index])
                index += 1
        return b"".join(out) + self.appended
