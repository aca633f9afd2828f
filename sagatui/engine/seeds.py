"""One root seed, many independent random streams derived by a stable hash (never `hash()`)."""

import hashlib
import random


def derive_seed(root: int, name: str) -> int:
    digest = hashlib.sha256(f"{root}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def random_stream(root: int, name: str) -> random.Random:
    """A private Random for one consumer (a service, a breaker, the jitter of a step)."""
    return random.Random(derive_seed(root, name))
