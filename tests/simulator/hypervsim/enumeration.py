"""Enumeration contexts and the bodies of EnumerateResponse / PullResponse / ReleaseResponse (wire notes 2.2-2.4).

Results are rendered once, at Enumerate time, and handed out in batches.  With OptimizeEnumeration the first
response carries exactly one item in w:Items (what 2008 R2 and 2012 do whatever MaxElements says); Pull answers use
n:Items, bounded by MaxElements (WS-Enumeration default 1) and by half the envelope size in characters (UTF-16
bytes, [infer] from the ~76 KB batches of a 150 KB host).  Every non-final PullResponse carries a fresh context id
and the previous id stops being valid (real captures show a new id per Pull; invalidating the old one is [infer]).
"""

import uuid
from dataclasses import dataclass

from . import faults
from .xmlutil import text

# Fixed part of a PullResponse envelope, counted against the envelope budget.
ENVELOPE_OVERHEAD = 1200


@dataclass
class Context:
    id: str
    items: list[str]
    pos: int
    owner: str
    last_used: float


def new_context_id() -> str:
    return "uuid:" + str(uuid.uuid4()).upper()


class EnumerationStore:
    """Open enumeration contexts with idle expiry and a per-user operation quota."""

    def __init__(self, idle_timeout: float, max_per_user: int) -> None:
        self.idle_timeout = idle_timeout
        self.max_per_user = max_per_user
        self._contexts: dict[str, Context] = {}

    def expire(self, now: float) -> None:
        for key in [k for k, c in self._contexts.items() if now - c.last_used >= self.idle_timeout]:
            del self._contexts[key]

    def open_count(self, owner: str) -> int:
        return sum(1 for c in self._contexts.values() if c.owner.lower() == owner.lower())

    def create(self, items: list[str], pos: int, owner: str, now: float) -> Context:
        if self.open_count(owner) >= self.max_per_user:
            raise faults.quota_operations(self.max_per_user)
        ctx = Context(new_context_id(), items, pos, owner, now)
        self._contexts[ctx.id] = ctx
        return ctx

    def take(self, context_id: str, now: float) -> Context:
        """The live context for an id; n:InvalidEnumerationContext if unknown, finished, released or expired."""
        ctx = self._contexts.get(context_id.strip())
        if ctx is None:
            raise faults.invalid_enumeration_context()
        ctx.last_used = now
        return ctx

    def release(self, context_id: str, now: float) -> None:
        self.take(context_id, now)
        del self._contexts[context_id.strip()]

    def rotate(self, ctx: Context) -> str:
        """Give the context a new id, as Windows does on every PullResponse that is not the last."""
        del self._contexts[ctx.id]
        ctx.id = new_context_id()
        self._contexts[ctx.id] = ctx
        return ctx.id

    def finish(self, ctx: Context) -> None:
        self._contexts.pop(ctx.id, None)


def batch(items: list[str], pos: int, max_elements: int, max_chars: int) -> list[str]:
    """Items from pos: at most max_elements, and within max_chars unless a single item is larger."""
    out: list[str] = []
    used = ENVELOPE_OVERHEAD
    for item in items[pos:pos + max_elements]:
        if out and used + len(item) > max_chars:
            break
        out.append(item)
        used += len(item)
    return out


def enumerate_body(store: EnumerationStore, items: list[str], optimize: bool, owner: str, now: float) -> str:
    """<n:EnumerateResponse> for the rendered items."""
    if not optimize:
        ctx = store.create(items, 0, owner, now)
        return f"<n:EnumerateResponse><n:EnumerationContext>{ctx.id}</n:EnumerationContext></n:EnumerateResponse>"
    first = "".join(items[:1])
    if len(items) <= 1:
        return ("<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext>"
                f"<w:Items>{first}</w:Items><w:EndOfSequence/></n:EnumerateResponse>")
    ctx = store.create(items, 1, owner, now)
    return (f"<n:EnumerateResponse><n:EnumerationContext>{ctx.id}</n:EnumerationContext>"
            f"<w:Items>{first}</w:Items></n:EnumerateResponse>")


def pull_body(store: EnumerationStore, context_id: str, max_elements: int, max_chars: int, now: float) -> str:
    """<n:PullResponse>: a context only while more remain, n:EndOfSequence on the last batch."""
    ctx = store.take(context_id, now)
    items = batch(ctx.items, ctx.pos, max_elements, max_chars)
    ctx.pos += len(items)
    content = f"<n:Items>{''.join(items)}</n:Items>"
    if ctx.pos < len(ctx.items):
        new_id = store.rotate(ctx)
        return f"<n:PullResponse><n:EnumerationContext>{text(new_id)}</n:EnumerationContext>{content}</n:PullResponse>"
    store.finish(ctx)
    return f"<n:PullResponse>{content}<n:EndOfSequence/></n:PullResponse>"
