"""Control and observation API under /_sim/ (JSON, no auth, loopback only); the same operations exist as methods.

GET  /_sim/counters              WS-Man request counts by operation, plus total and auth_failures
POST /_sim/counters/reset        zero the counters
GET  /_sim/vms                   every VM: name, id, mode, state, power, health, failed_over_type, jobs, ...
POST /_sim/vms/<name-or-id>      JSON {mode, state, power, health, fail_jobs, last_replication} to set up a test
GET  /_sim/jobs                  every job: id, vm, type, state, percent
POST /_sim/clock/advance         JSON {"seconds": N}: move simulated time forward (jobs finish, contexts expire)
POST /_sim/faults                JSON {"operation": "Pull", "fault": "TimedOut", "count": 1}: inject faults
"""

import json
import urllib.parse
from typing import Any

PREFIX = "/_sim/"


def _json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    value = json.loads(body.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("the request body must be a JSON object")
    return value


def handle(sim: Any, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """(HTTP status, JSON payload) for a control request."""
    route = path[len(PREFIX):].strip("/")
    try:
        return _route(sim, method, route, body)
    except KeyError as exc:
        return 404, {"error": str(exc.args[0]) if exc.args else "not found"}
    except ValueError as exc:
        return 400, {"error": str(exc)}


def _route(sim: Any, method: str, route: str, body: bytes) -> tuple[int, Any]:
    if method == "GET":
        getters = {"counters": sim.counters, "vms": sim.vms, "jobs": sim.jobs}
        if route in getters:
            return 200, getters[route]()
        raise KeyError(f"no such resource: {route}")
    if route == "counters/reset":
        sim.reset_counters()
        return 200, sim.counters()
    if route.startswith("vms/"):
        name = urllib.parse.unquote(route[len("vms/"):])
        return 200, sim.set_vm(name, **_json(body))
    if route == "clock/advance":
        sim.advance_clock(float(_json(body).get("seconds", 0)))
        return 200, {"advanced": True}
    if route == "faults":
        spec = _json(body)
        sim.inject_fault(str(spec.get("operation", "*")), str(spec.get("fault", "")), int(spec.get("count", 1)))
        return 200, {"injected": True}
    raise KeyError(f"no such action: {route}")
