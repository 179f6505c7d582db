"""The frontend contract: what web UIs rely on, generated from the code into ``frontend_contract/``.

``declare`` marks proxy routes with their response models; ``generate`` builds the JSON
Schemas, the OpenAPI document, the realtime catalogue, the deep-link page and the
TypeScript types; ``validate`` checks a response body against them (for handler tests).
"""
