"""A real local fake LLM upstream: OpenAI- and Anthropic-style JSON and SSE endpoints."""
