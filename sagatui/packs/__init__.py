"""Scenario packs: YAML files of services, breakers, sagas and scenarios, read safely, validated, and
reported with file, line and field when wrong. Entry points: `loader.load_pack`, `bundled.resolve_pack`."""

DEFAULT_PACK = "ecommerce"  # the bundled pack the dashboard opens when none is named
