"""Control and observation API under /_sim/ (JSON, no auth, loopback only); the same operations exist as methods.

GET  /_sim/counters              total, auth_failures, connections, logons, WS-Man request counts by operation
                                 ("Pull") and by operation and class ("Pull Msvm_ConcreteJob"); see hooks.Counters
POST /_sim/counters/reset        zero the counters
GET  /_sim/vms                   every VM: name, id, mode, state, power, health, failed_over_type, jobs, ...
POST /_sim/vms/<name-or-id>      JSON {mode, state, power, health, fail_jobs, job_result, ...} to set up a test
GET  /_sim/jobs                  every job: id, vm, type, state, percent
POST /_sim/clock/advance         JSON {"seconds": N}: move simulated time forward (jobs finish, contexts expire)
POST /_sim/faults                JSON rule, e.g. {"operation": "Pull", "fault": "TimedOut", "count": 1} (faultspec.py)
GET  /_sim/faults                the active rules, with id, count left and times fired
POST /_sim/faults/clear          remove every rule (the fleet file's too)
GET  /_sim/requests              the request log (requestlog.py), oldest first
POST /_sim/requests/clear        empty it
"""

import json
import urllib.parse
from typing import Any, Callable

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


def _reset_counters(sim: Any, _body: bytes) -> Any:
    sim.reset_counters()
    return sim.counters()


def _advance_clock(sim: Any, body: bytes) -> Any:
    sim.advance_clock(float(_json(body).get("seconds", 0)))
    return {"advanced": True}


def _add_fault(sim: Any, body: bytes) -> Any:
    return {"injected": True, "rule": sim.add_fault(**_json(body))}


def _clear_faults(sim: Any, _body: bytes) -> Any:
    return {"cleared": sim.clear_faults()}


def _clear_requests(sim: Any, _body: bytes) -> Any:
    sim.clear_requests()
    return {"cleared": True}


_ACTIONS: dict[str, Callable[[Any, bytes], Any]] = {
    "counters/reset": _reset_counters, "clock/advance": _advance_clock, "faults": _add_fault,
    "faults/clear": _clear_faults, "requests/clear": _clear_requests,
}


def _route(sim: Any, method: str, route: str, body: bytes) -> tuple[int, Any]:
    if method == "GET":
        getters = {"counters": sim.counters, "vms": sim.vms, "jobs": sim.jobs, "faults": sim.faults,
                   "requests": sim.requests, "destroyed": sim.destroyed}
        if route in getters:
            return 200, getters[route]()
        raise KeyError(f"no such resource: {route}")
    if route.startswith("vms/"):
        name = urllib.parse.unquote(route[len("vms/"):])
        return 200, sim.set_vm(name, **_json(body))
    if route in _ACTIONS:
        return 200, _ACTIONS[route](sim, body)
    raise KeyError(f"no such action: {route}")
