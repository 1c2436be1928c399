"""The ticket, case-system and recording parts of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from tickets.catalogue import CHANNELS, CONTENT_FIELDS, REQUEST_TYPES, URGENCIES

_ERROR = {"$ref": "#/components/responses/Error"}
_TICKET_ID = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_TICKET = {"200": {"description": "the ticket", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Ticket"}}}}}
_BAD = {"description": "bad fields, each named", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/TicketErrors"}}}}

TICKET_SCHEMAS: dict[str, Any] = {
    "TicketInput": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "channel": {"enum": list(CHANNELS)}, "request_type": {"enum": list(REQUEST_TYPES)},
            "category": {"type": "string", "maxLength": 16, "description": "code from the category catalogue"},
            "urgency": {"enum": list(URGENCIES)}, "complex": {"type": "boolean"},
            "title": {"type": "string", "maxLength": 100}, "handling_unit": {"type": "string", "maxLength": 100},
            "content": {"type": "object", "additionalProperties": False, "properties": {
                key: {"type": "string", "maxLength": limit, "description": label}
                for key, (label, limit) in CONTENT_FIELDS.items()}},
            "petitioner": {"type": "object", "additionalProperties": False, "properties": {
                "name": {"type": "string", "maxLength": 64}, "phone": {"type": "string", "maxLength": 32},
                "address": {"type": "string", "maxLength": 200}, "confidential": {"type": "boolean"},
                "revisit_consent": {"type": "boolean"}, "enterprise": {"type": "boolean"}}},
            "calls": {"type": "array", "maxItems": 20,
                      "items": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$"}},
        },
    },
    "Ticket": {"type": "object", "required": ["id", "number", "status", "deadlines", "calls"], "properties": {
        "id": {"type": "integer"}, "number": {"type": "string"},
        "status": {"enum": ["draft", "submitted", "received", "dispatched", "signed", "feedback", "closed",
                            "overdue"]},
        "deadlines": {"type": "object"}, "calls": {"type": "array", "items": {"type": "string"}},
        "case_number": {"type": ["string", "null"]}}},
    "TicketErrors": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["id", "message", "fields"], "properties": {
            "id": {"const": "bad_ticket"}, "message": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "object", "required": ["field", "message"]}}}}}},
}

TICKET_PATHS: dict[str, Any] = {
    "/api/tickets": {"post": {
        "summary": "a new draft ticket (agent, supervisor, admin); several per call, one issue each",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/TicketInput"}}}},
        "responses": {"201": _TICKET["200"], "400": _ERROR, "401": _ERROR, "403": _ERROR, "422": _BAD}}},
    "/api/tickets/{ticket_id}": {
        "get": {"summary": "one ticket (agents: their own; confidential: supervisors and admins)",
                "parameters": [_TICKET_ID],
                "responses": {**_TICKET, "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR}},
        "patch": {"summary": "change a draft", "parameters": [_TICKET_ID],
                  "requestBody": {"required": True, "content": {"application/json": {"schema": {
                      "$ref": "#/components/schemas/TicketInput"}}}},
                  "responses": {**_TICKET, "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR,
                                "409": _ERROR, "422": _BAD}}},
    "/api/tickets/{ticket_id}/submit": {"post": {
        "summary": "check completeness, fix the time limits, queue for the case system",
        "parameters": [_TICKET_ID],
        "responses": {**_TICKET, "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "409": _ERROR,
                      "422": _BAD}}},
    "/api/tickets/{ticket_id}/calls": {"post": {
        "summary": "link another call (a repeat caller about the same issue) to the ticket",
        "parameters": [_TICKET_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["call_id"], "properties": {"call_id": {"type": "string"}}}}}},
        "responses": {**_TICKET, "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "422": _BAD}}},
    "/api/tickets/{ticket_id}/legal-hold": {"put": {
        "summary": "keep (hold: true, with a reason) or release the ticket's recordings past the retention period",
        "parameters": [_TICKET_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["hold"], "properties": {
                "hold": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 200}}}}}},
        "responses": {"200": {"description": "the hold"}, "400": _ERROR, "401": _ERROR, "403": _ERROR,
                      "404": _ERROR}}},
    "/api/tickets/{ticket_id}/timeline": {"get": {
        "summary": "the ticket's timeline (created, submitted, delivered, case-system statuses) and revisits",
        "parameters": [_TICKET_ID],
        "responses": {"200": {"description": "timeline"}, "400": _ERROR, "401": _ERROR, "403": _ERROR,
                      "404": _ERROR}}},
    "/api/tickets/{ticket_id}/duty-call": {"post": {
        "summary": "urgent ticket: ring the agent's phone (or `phone`), then the handling unit's duty phone, which "
                   "hears the opening words (B.2.1); outcome on the timeline",
        "parameters": [_TICKET_ID],
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"phone": {"type": "string", "pattern": r"^\d{3,6}$"}}}}}},
        "responses": {"202": {"description": "ringing"}, "400": _ERROR, "401": _ERROR, "403": _ERROR,
                      "404": _ERROR, "409": _ERROR}}},
    "/api/callers/{number}/history": {"get": {
        "summary": "screen pop: a number's recent calls and tickets",
        "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "calls and tickets"}, "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
    "/api/case-system/outbox": {"get": {
        "summary": "messages to the case system: pending, dead (dead letters) or delivered; the backlog",
        "parameters": [{"name": "state", "in": "query", "schema": {"enum": ["pending", "dead", "delivered"]}}],
        "responses": {"200": {"description": "messages"}, "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
    "/api/case-system/outbox/{message_id}/replay": {"post": {
        "summary": "put a dead message back in line",
        "parameters": [{"name": "message_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "replayed"}, "401": _ERROR, "403": _ERROR, "404": _ERROR}}},
    "/api/case-system/events": {"post": {
        "summary": "the case system's webhook: status changes, signed (X-Signature-Timestamp, X-Signature: "
                   "HMAC-SHA256 of '<timestamp>.<body>'), each event id once",
        "security": [],
        "responses": {"200": {"description": "applied"}, "400": _ERROR, "401": _ERROR, "409": _ERROR}}},
}

RECORDING_PATHS: dict[str, Any] = {
    "/api/recordings": {"get": {
        "summary": "recordings the principal may hear, newest first (agents: their own calls)",
        "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                       for n in ("call_id", "number", "agent", "ticket")]
                      + [{"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}},
                         {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                      "maximum": 500}},
                         {"name": "review", "in": "query", "description": "1: only calls flagged for review",
                          "schema": {"enum": ["1"]}}],
        "responses": {"200": {"description": "recordings"}, "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
    "/api/recordings/{recording_id}/audio": {"get": {
        "summary": "the audio (Opus in Ogg); HTTP Range supported; download=1 as an attachment; audited",
        "parameters": [{"name": "recording_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "download", "in": "query", "schema": {"enum": ["1"]}}],
        "responses": {"200": {"description": "audio"}, "206": {"description": "a range of the audio"},
                      "401": _ERROR, "403": _ERROR, "404": _ERROR, "410": _ERROR, "416": _ERROR}}},
    "/api/recordings/{recording_id}/waveform": {"get": {
        "summary": "the waveform image (PNG) for the player: caller above, what the caller heard below; audited",
        "parameters": [{"name": "recording_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "PNG"}, "206": {"description": "a range of the PNG"},
                      "401": _ERROR, "403": _ERROR, "404": _ERROR, "410": _ERROR, "416": _ERROR}}},
}
