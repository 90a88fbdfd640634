"""What the OpenAPI schema says beyond what drf-spectacular infers: the error answers every operation may
give, in the one error format (``iea.api.errors``), so a client (and the schema fuzzer) knows them."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string", "description": "For programs: which rule or check refused."},
                "message": {"type": "string", "description": "For people, in the request's language."},
                "fields": {
                    "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "The messages of each field that is not valid.",
                },
            },
        },
    },
}

ERRORS = {
    "400": "The request is not valid, or a rule refused it (deadline, eligibility, state).",
    "401": "No credentials, or a token that is unknown, revoked or expired.",
    "403": "Not allowed: a read-only token writing, a role without the right, two-factor not set up.",
    "404": "Not found, or not visible to you.",
    "405": "This method is not allowed here.",
    "406": "The Accept header asks for a format the API does not give.",
    "409": "The object changed since you read it; nothing was written.",
    "415": "The body's content type is not accepted here.",
    "429": "Too many requests: wait for Retry-After seconds.",
    "500": "A fault on the server (logged with the request id, which the message gives; never its details).",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error format as a component, and every error status on
    every operation (an operation's own description of a status wins)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(status, {"content": {"application/json": {"schema": reference}},
                                              "description": description})
    return result
