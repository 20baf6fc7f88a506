"""Rasa pipeline component: numbers with a fixed shape are taken by pattern only.

Meter numbers (11 digits), customer ids (12), transaction refs and ticket ids have the shapes of
nlu_data/regex.yml, and RegexEntityExtractor finds them exactly. DIET, trained on the same
annotated examples, also guesses them: it took a bare "12345" for a customer id, so a form
asking for a meter number saw a new value on every wrong answer and never noticed it was going
in circles, and it doubled every number the pattern had already found. This component, placed
after both, drops the entities of those types that did not come from a pattern; DIET keeps the
free-text ones (area, amount).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, EXTRACTOR
from rasa.shared.nlu.training_data.message import Message

PATTERN_EXTRACTOR = "RegexEntityExtractor"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PatternEntitiesOnly(GraphComponent, EntityExtractorMixin):
    """Keeps an entity of the `by_pattern` types only when RegexEntityExtractor found it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"by_pattern": ["meter_number", "customer_id", "transaction_ref", "ticket_id"]}

    def __init__(self, config: dict[str, Any]) -> None:
        by_pattern = config.get("by_pattern")
        if not isinstance(by_pattern, list) or not all(isinstance(n, str) for n in by_pattern):
            raise ValueError("PatternEntitiesOnly: 'by_pattern' must be a list of entity names")
        self._by_pattern = frozenset(by_pattern)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PatternEntitiesOnly:
        return cls(config)

    def keeps(self, entity: dict[str, Any]) -> bool:
        return (
            entity.get("entity") not in self._by_pattern
            or entity.get(EXTRACTOR) == PATTERN_EXTRACTOR
        )

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            kept = [e for e in entities if self.keeps(e)]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages
