"""Era platform: /rest/v1/service/integration_points (Era docs, integration_points). No auth."""

from __future__ import annotations

from aiohttp import web

from mockhub.web.endpoint import Call
from mockhub.web.rendering import json_response


def create_point(call: Call) -> web.Response:
    return json_response(call.store.points.create(call.body))


def list_points(call: Call) -> web.Response:
    q = call.query
    return json_response(call.store.points.query(q["offset"], q["limit"], q["mask"], q["flat"], q["order"],
                                                 q["filter"]))


def get_point(call: Call) -> web.Response:
    return json_response(call.store.points.read(call.path["id"], call.query["mask"], call.query["flat"]))


def patch_point(call: Call) -> web.Response:
    return json_response(call.store.points.update(call.path["id"], call.body))


def delete_point(call: Call) -> web.Response:
    call.store.points.delete(call.path["id"])
    return web.Response(status=204)  # Era docs, integration_points DELETE: 204 No Content, no body


def lookup_points(call: Call) -> web.Response:
    return json_response(call.store.points.lookup(call.body))
