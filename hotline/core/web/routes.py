"""Routes as data: each domain fills a `RouteTable`; the app installs them and generates the OpenAPI
document from them and their pydantic models (nothing is written by hand)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_PARAM = re.compile(r"\{(\w+)(?::([^}]+))?\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    public: bool = False  # no bearer token (health, metrics, signed webhooks)
    produces: str = "application/json"
    tag: str = ""
    errors: tuple[int, ...] = ()  # statuses this route answers beside the usual ones (409, 410, 416 …)
    consumes: tuple[str, ...] = ()  # other body types it takes beside JSON (text/csv)

    @property
    def action(self) -> str | None:
        """The access-table action the handler is guarded by."""
        return getattr(self.handler, "action", None)

    @property
    def openapi_path(self) -> str:
        return _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.path)


@dataclass
class RouteTable:
    """The routes one domain brings, and the objects its handlers find on the app."""

    tag: str
    routes: list[Route] = field(default_factory=list)
    state: list[tuple[web.AppKey[Any], Any]] = field(default_factory=list)

    def provide(self, key: web.AppKey[Any], value: object) -> None:
        self.state.append((key, value))

    def add(self, method: str, path: str, *, summary: str, body: type[BaseModel] | None = None,
            query: type[BaseModel] | None = None, response: type[BaseModel] | None = None, status: int = 200,
            public: bool = False, produces: str = "application/json", errors: tuple[int, ...] = (),
            consumes: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, path, handler, summary, body, query, response, status, public,
                                     produces, self.tag, errors, consumes))
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.add("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.add("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.add("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.add("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.add("DELETE", path, **kw)

    def install(self, app: web.Application) -> None:
        for key, value in self.state:
            app[key] = value
        for r in self.routes:
            app.router.add_route(r.method, r.path, r.handler)


_ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["id", "message"],
    "properties": {"id": {"type": "string"}, "message": {"type": "string"},
                   "fields": {"type": "array", "items": {"type": "object"}}}}}}
_ERROR = {"$ref": "#/components/responses/Error"}


class _Schemas:
    """Collects the models' JSON schemas under components/schemas."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Error": _ERROR_SCHEMA}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}",
                                         mode="validation" if mode == "validation" else "serialization")
        self.components.update(schema.pop("$defs", {}))
        self.components[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}


def _parameters(route: Route, schemas: _Schemas) -> list[dict[str, Any]]:
    params = [{"name": m.group(1), "in": "path", "required": True,
               "schema": {"type": "string", **({"pattern": f"^({m.group(2)})$"} if m.group(2) else {})}}
              for m in _PARAM.finditer(route.path)]
    if route.query is not None:
        schema = route.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return params


def _operation(route: Route, schemas: _Schemas) -> dict[str, Any]:
    if route.response is not None:
        content = {"application/json": {"schema": schemas.ref(route.response, "serialization")}}
    elif route.produces == "application/json":
        content = {"application/json": {"schema": {"type": "object"}}}
    else:
        content = {route.produces: {"schema": {"type": "string", "format": "binary"}}}
    op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag] if route.tag else [],
                          "responses": {str(route.status): {"description": route.summary, "content": content}}}
    if route.action:
        op["x-access-action"] = route.action
    if route.public:
        op["security"] = []
    else:
        op["responses"].update({"401": _ERROR, "403": _ERROR, "429": _ERROR})  # 429: an address throttled
    if params := _parameters(route, schemas):
        op["parameters"] = params
        op["responses"].update({"400": _ERROR, "404": _ERROR})  # a malformed id (bad_param), or no such thing
    if route.query is not None:
        op["responses"]["400"] = _ERROR
    if route.body is not None:
        content = {"application/json": {"schema": schemas.ref(route.body, "validation")}}
        content.update({kind: {"schema": {"type": "string"}} for kind in route.consumes})
        op["requestBody"] = {"required": True, "content": content}
        op["responses"].update({"400": _ERROR, "413": _ERROR, "422": _ERROR})
    op["responses"].update({str(status): _ERROR for status in route.errors})
    return op


def openapi_document(tables: Iterable[RouteTable], *, title: str, version: str) -> dict[str, Any]:
    """OpenAPI 3.1 from the route tables and their models."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for table in tables:
        for route in table.routes:
            paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           # people signed in (POST /api/session); unsafe methods also send
                                           # the session's X-CSRF-Token
                                           "session": {"type": "apiKey", "in": "cookie", "name": "hotline_session"}},
                       "responses": {"Error": {"description": "error", "content": {"application/json": {
                           "schema": {"$ref": "#/components/schemas/Error"}}}}},
                       "schemas": schemas.components},
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }
