"""The analysis plan: what both analysers return, validated with JSON Schema."""

from dataclasses import dataclass, field
from decimal import Decimal

import jsonschema

STANCES = ["BULLISH", "BEARISH", "NEUTRAL"]
CATALYST_TYPES = ["EARNINGS", "FDA", "M&A", "CONTRACT", "GUIDANCE", "MACRO", "OTHER"]
_STRINGS = {"type": "array", "items": {"type": "string", "maxLength": 1000}, "maxItems": 20}

PLAN_SCHEMA = {
    "type": "object",
    "required": ["stance", "confidence", "catalyst_type", "tickers", "thesis", "summary"],
    "properties": {
        "stance": {"enum": STANCES},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "catalyst_type": {"enum": CATALYST_TYPES},
        "tickers": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Z][A-Z0-9.\-]{0,9}$"}, "maxItems": 20},
        "thesis": {"type": "string", "maxLength": 4000},
        "key_facts": _STRINGS,
        "risks": _STRINGS,
        "suggested_setups": _STRINGS,
        "summary": {"type": "string", "maxLength": 4000},
        "strategy_bucket": {"type": "string", "maxLength": 40},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(PLAN_SCHEMA)


class PlanInvalid(ValueError):
    """The analyser's output does not match the plan schema (not worth retrying as is)."""


def validate_plan(plan) -> dict:
    errors = sorted(_VALIDATOR.iter_errors(plan), key=lambda e: list(e.absolute_path))
    if errors:
        described = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:5])
        raise PlanInvalid(described)
    return plan


@dataclass
class AnalysisResult:
    provider: str
    model: str
    plan: dict
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    extra: dict = field(default_factory=dict)
