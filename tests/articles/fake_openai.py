"""A local stand-in for an OpenAI-compatible endpoint, served by pytest-httpserver."""

import json

from werkzeug import Response

VALID_PLAN = {
    "stance": "BULLISH", "confidence": 0.82, "catalyst_type": "EARNINGS", "tickers": ["AAPL"],
    "thesis": "Beat and raise.", "key_facts": ["EPS $1.20 vs $1.05"], "risks": ["China demand"],
    "suggested_setups": ["Buy the first pullback"], "summary": "Apple beat and raised.", "strategy_bucket": "momentum",
}


def completion(content: str, prompt_tokens=120, completion_tokens=80) -> dict:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def respond(httpserver, *contents_or_statuses):
    """Queue responses in order: a str is a completion's content, an int an error status."""
    for item in contents_or_statuses:
        expectation = httpserver.expect_oneshot_request("/v1/chat/completions", method="POST")
        if isinstance(item, int):
            expectation.respond_with_response(Response(json.dumps({"error": {"message": "upstream says no"}}),
                                                       status=item, content_type="application/json"))
        else:
            expectation.respond_with_json(completion(item))


def configure(settings, httpserver):
    settings.LLM_BASE_URL = httpserver.url_for("/v1")
    settings.LLM_API_KEY = "test-key"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.LLM_TIMEOUT = 5
