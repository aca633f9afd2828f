"""Classifier: a category and a priority for a text, by rules a pack writes as data (nothing is evaluated).

- `classify(text?, tier?)`: the text is cut into words (letters and digits, case folded) and each
  keyword of the options is looked for as whole words (`not working` is two words in a row).
  - category: the one of `categories` whose keywords occur most often; a tie goes to the one written
    first; no match -> `default_category`.
  - priority: the first of `priorities` (most urgent first) with a keyword in the text, else
    `default_priority`; a `tier` in `tier_priorities` raises it to at least that tier's priority.
  - confidence: the share of all category keyword occurrences that were the chosen category's,
    rounded to 2 places (0.0 when none occurred); keywords: those found, in the order written.
  A missing text is an empty one (the defaults); a text or tier that is not text fails `validation`.
  Nothing is created, so there is nothing to undo; a retry with the same key answers the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sagatui.model.calls import Call
from sagatui.sim import params
from sagatui.sim.catalog import ClassifierOptions
from sagatui.sim.service import Handler, Result, Row, SimService

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def occurrences(text: Sequence[str], keyword: str) -> int:
    """How many times the keyword's words occur in a row in the text's words."""
    wanted = words(keyword)
    size = len(wanted)
    if not size:
        return 0
    return sum(1 for start in range(len(text) - size + 1) if text[start:start + size] == wanted)


def _found(text: Sequence[str], rules: Mapping[str, Sequence[str]]) -> dict[str, dict[str, int]]:
    """Rule name -> each of its keywords found in the text -> how often (rules with none left out)."""
    found: dict[str, dict[str, int]] = {}
    for name, keywords in rules.items():
        counts = {keyword: occurrences(text, keyword) for keyword in keywords}
        hits = {keyword: count for keyword, count in counts.items() if count}
        if hits:
            found[name] = hits
    return found


class ClassifierService(SimService):
    kind = "classifier"
    options: ClassifierOptions

    def handlers(self) -> dict[str, Handler]:
        return {"classify": self.classify}

    def classify(self, call: Call) -> tuple[Result, list[Row]]:
        text = words(params.text(call.params, "text", ""))
        tier = params.text(call.params, "tier") if call.params.get("tier") is not None else None
        categories = _found(text, self.options.categories)
        scores = {name: sum(hits.values()) for name, hits in categories.items()}
        category = max(scores, key=lambda name: scores[name]) if scores else self.options.default_category
        total = sum(scores.values())
        confidence = round(scores[category] / total, 2) if total else 0.0
        urgent = _found(text, self.options.priorities)
        levels = [*self.options.priorities, self.options.default_priority]
        priority = next(iter(urgent), self.options.default_priority)  # dicts keep the order written
        floor = self.options.tier_priorities.get(tier) if tier is not None else None
        if floor is not None and levels.index(floor) < levels.index(priority):
            priority = floor
        keywords = list(dict.fromkeys(keyword for found in (categories, urgent) for hits in found.values()
                                      for keyword in hits))
        return {"category": category, "priority": priority, "confidence": confidence, "keywords": keywords}, []
