#!/usr/bin/env python3
"""Kubernetes API stand-in for Longhorn ``Setting`` objects.

A real HTTPS server that answers like kube-apiserver for the one resource
longhorn-uninstall-guard reads (``settings.longhorn.io``), so the webhook can
be tested without a cluster.  Besides the Kubernetes routes it exposes a
control API under ``/_standin/`` that lets a test change the stored settings,
make the watch cache lag behind, inject faults and inspect every API request
the stand-in received.  See README.md next to this file.

Standard library only (Debian bookworm python3).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import email.utils
import http
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

GROUP = "longhorn.io"
RESOURCE = "settings"
INITIAL_RESOURCE_VERSION = 1000
# The identity named in injected 403 messages: the webhook's service account.
GUARD_USER = "system:serviceaccount:longhorn-uninstall-guard:longhorn-uninstall-guard"

HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/livez"})
CONTROL_PREFIX = "/_standin/"
LONGHORN_PREFIX = "/apis/longhorn.io"

# A client that connects and never completes the TLS handshake must not pin
# its worker thread for long; an idle keep-alive connection may stay longer.
HANDSHAKE_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 120.0
MAX_BODY_BYTES = 1 << 20
# Bound the request log so a long soak test cannot exhaust memory.
MAX_RECORDS = 100_000

SETTING_PATH = re.compile(
    r"^/apis/longhorn\.io/(?P<version>v1beta2|v1beta1)"
    r"/namespaces/(?P<namespace>[^/]+)/settings(?:/(?P<name>[^/]+))?/?$"
)
CONTROL_SETTING_PATH = re.compile(r"^/_standin/settings/(?P<namespace>[^/]+)/(?P<name>[^/]+)/?$")

VERSION_INFO = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-standin",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.22.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

FAULT_MODES = frozenset({"status", "delay", "drop", "truncate", "hang", "other_object"})
FAULT_READS = frozenset({"fresh", "cached", "any"})
FAULT_KEYS = frozenset({"match", "read", "mode", "status", "delay_ms", "count"})
REQUEST_KINDS = ("fresh", "cached", "list", "other")

# Reasons kube-apiserver uses for the codes a test is likely to inject.
REASON_BY_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
VERB_BY_METHOD = {"GET": "get", "HEAD": "get", "PUT": "update", "POST": "create",
                  "PATCH": "patch", "DELETE": "delete"}


def log(line: str) -> None:
    """One line to stderr; stdout is reserved for the single ready line."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def compact_json(obj: Any) -> bytes:
    # kube-apiserver writes compact JSON followed by a newline.
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def utc_timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --------------------------------------------------------------------------
# metav1.Status bodies, shaped exactly as kube-apiserver writes them.
# --------------------------------------------------------------------------

def kube_status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


@dataclasses.dataclass(frozen=True)
class SettingTarget:
    """The Longhorn setting (or setting collection) a request addresses."""
    version: str
    namespace: str
    name: str | None  # None for a LIST

    def details(self) -> dict:
        details = {"name": self.name} if self.name else {}
        details.update({"group": GROUP, "kind": RESOURCE})
        return details


def generic_not_found() -> dict:
    return kube_status(404, "NotFound", "the server could not find the requested resource", {})


def setting_not_found(target: SettingTarget) -> dict:
    return kube_status(404, "NotFound", f'settings.longhorn.io "{target.name}" not found',
                       target.details())


def unauthorized() -> dict:
    return kube_status(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> dict:
    return kube_status(405, "MethodNotAllowed",
                       "the server does not allow this method on the requested resource", {})


def forbidden(method: str, path: str, target: SettingTarget | None) -> dict:
    verb = VERB_BY_METHOD.get(method, method.lower())
    if target is None:
        return kube_status(403, "Forbidden",
                           f'forbidden: User "{GUARD_USER}" cannot {verb} path "{path}"', {})
    if target.name is None and verb == "get":
        verb = "list"
    subject = f'settings.longhorn.io "{target.name}"' if target.name else "settings.longhorn.io"
    message = (f'{subject} is forbidden: User "{GUARD_USER}" cannot {verb} resource "settings"'
               f' in API group "longhorn.io" in the namespace "{target.namespace}"')
    return kube_status(403, "Forbidden", message, target.details())


def too_large_resource_version(requested: int, current: int) -> dict:
    # storage.NewTooLargeResourceVersionError -> errors.NewTimeoutError.
    return kube_status(
        504, "Timeout",
        f"Timeout: Too large resource version: {requested}, current: {current}",
        {"causes": [{"reason": "ResourceVersionTooLarge",
                     "message": "Too large resource version"}],
         "retryAfterSeconds": 1})


def injected_status(code: int, method: str, path: str, target: SettingTarget | None) -> dict:
    """The Status body kube-apiserver would send with `code` for this request."""
    if code == 401:
        return unauthorized()
    if code == 403:
        return forbidden(method, path, target)
    if code == 404:
        return setting_not_found(target) if target and target.name else generic_not_found()
    if code == 405:
        return method_not_allowed()
    if code == 429:
        return kube_status(429, "TooManyRequests", "Too many requests, please try again later.",
                           {"retryAfterSeconds": 1})
    if code == 500:
        return kube_status(500, "InternalError", "Internal error occurred: injected fault",
                           {"causes": [{"message": "injected fault"}]})
    if code == 503:
        return kube_status(503, "ServiceUnavailable",
                           "the server is currently unable to handle the request")
    if code == 504:
        return kube_status(504, "Timeout", "Timeout: request did not complete within the allowed"
                           " duration", {"retryAfterSeconds": 1})
    reason = REASON_BY_CODE.get(code, "Unknown")
    message = (f"the server responded with the status code {code}"
               " but did not return more information")
    return kube_status(code, reason, message, target.details() if target else {})


class ApiError(Exception):
    """Raised inside request handling to answer with a Status body."""

    def __init__(self, body: dict):
        super().__init__(body["message"])
        self.body = body


class ControlError(Exception):
    """A control API request the stand-in refuses (answered as {"error": ...})."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------
# Stored objects, the watch cache and fault rules.
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SettingRecord:
    """One stored Setting.  Immutable, so the cache can share records with the store."""
    namespace: str
    name: str
    value: Any
    uid: str
    resource_version: int
    generation: int
    created: str

    def render(self, version: str = "v1beta2") -> dict:
        return {
            "apiVersion": f"{GROUP}/{version}",
            "kind": "Setting",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "uid": self.uid,
                "resourceVersion": str(self.resource_version),
                "generation": self.generation,
                "creationTimestamp": self.created,
            },
            "value": self.value,
            "status": {"applied": True},
        }


@dataclasses.dataclass(frozen=True)
class CacheEvent:
    """A store write on its way to the watch cache."""
    written_at: float  # time.monotonic() of the write
    resource_version: int
    key: tuple[str, str]
    record: SettingRecord | None  # None means the object was deleted


@dataclasses.dataclass
class FaultRule:
    id: int
    mode: str
    match: str | None
    read: str
    status: int | None
    delay_ms: float
    count: int  # -1 = unlimited
    remaining: int  # -1 = unlimited
    applied: int = 0

    def matches(self, target: str, source: str | None) -> bool:
        if self.match is not None and self.match not in target:
            return False
        if self.read == "fresh":
            return source == "store"
        if self.read == "cached":
            return source == "cache"
        return True

    def consume(self) -> None:
        self.applied += 1
        if self.remaining > 0:
            self.remaining -= 1

    @property
    def expired(self) -> bool:
        return self.remaining == 0

    def to_json(self) -> dict:
        return {"id": self.id, "match": self.match, "read": self.read, "mode": self.mode,
                "status": self.status, "delay_ms": self.delay_ms, "count": self.count,
                "remaining": self.remaining, "applied": self.applied}


@dataclasses.dataclass(frozen=True)
class FaultPlan:
    """What the faults say to do with one request: sleep, then maybe an action."""
    delay_s: float = 0.0
    action: str | None = None  # status | drop | truncate | hang
    status: int | None = None
    epoch: int = 0  # fault generation; a hang waits until it changes


def parse_fault_rule(body: dict, rule_id: int) -> FaultRule:
    unknown = set(body) - FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault keys: {sorted(unknown)}")
    mode = body.get("mode")
    if mode not in FAULT_MODES:
        raise ValueError(f"mode must be one of {sorted(FAULT_MODES)}")
    match = body.get("match")
    if match is not None and not isinstance(match, str):
        raise ValueError("match must be a string")
    read = body.get("read", "any")
    if read not in FAULT_READS:
        raise ValueError(f"read must be one of {sorted(FAULT_READS)}")
    status = body.get("status")
    if mode == "status":
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError("mode status needs an integer status between 400 and 599")
    delay_ms = body.get("delay_ms", 0)
    if not isinstance(delay_ms, (int, float)) or isinstance(delay_ms, bool) or delay_ms < 0:
        raise ValueError("delay_ms must be a number >= 0")
    if mode == "delay" and delay_ms <= 0:
        raise ValueError("mode delay needs delay_ms > 0")
    count = body.get("count", -1)
    if count is None:
        count = -1
    if not isinstance(count, int) or isinstance(count, bool) or (count < 1 and count != -1):
        raise ValueError("count must be a positive integer or -1 (unlimited)")
    return FaultRule(id=rule_id, mode=mode, match=match, read=read,
                     status=status if mode == "status" else None,
                     delay_ms=delay_ms, count=count, remaining=count)


class StandinState:
    """Everything mutable, guarded by one condition variable (one lock).

    The store behaves like etcd: one global resourceVersion counter, bumped by
    every write, each object carrying the version of its last write.  The watch
    cache is a second map that receives the store's writes in order once they
    are `lag` old.  Events are applied lazily whenever the cache is looked at,
    so no background thread is needed and the lag is exact.
    """

    def __init__(self, tokens: list[str], lag_ms: float):
        self._cond = threading.Condition(threading.Lock())
        self._rv = INITIAL_RESOURCE_VERSION
        self._store: dict[tuple[str, str], SettingRecord] = {}
        self._cache: dict[tuple[str, str], SettingRecord] = {}
        self._cache_rv = INITIAL_RESOURCE_VERSION
        self._pending: collections.deque[CacheEvent] = collections.deque()
        self._lag_s = lag_ms / 1000.0
        self._frozen = False
        self._crd_installed = True
        self._tokens = set(tokens)
        self._faults: list[FaultRule] = []
        self._next_fault_id = 1
        self._fault_epoch = 0
        self._records: collections.deque[dict] = collections.deque(maxlen=MAX_RECORDS)
        self._counts = self._zero_counts()
        self._next_seq = 1
        self._next_conn = 1
        self._closing = False

    @staticmethod
    def _zero_counts() -> dict:
        return {**{kind: 0 for kind in REQUEST_KINDS}, "unauthorized": 0}

    # -- connections and authentication ----------------------------------

    def next_connection_id(self) -> int:
        with self._cond:
            conn, self._next_conn = self._next_conn, self._next_conn + 1
            return conn

    def authenticate(self, authorization: str | None) -> bool:
        with self._cond:
            if not self._tokens:
                return True  # no token configured: auth not required
            tokens = set(self._tokens)
        scheme, _, token = (authorization or "").strip().partition(" ")
        # kube-apiserver compares the scheme case-insensitively.
        return scheme.lower() == "bearer" and token.strip() in tokens

    def set_tokens(self, tokens: list[str]) -> dict:
        with self._cond:
            self._tokens = set(tokens)
            return self._tokens_json_locked()

    def tokens_json(self) -> dict:
        with self._cond:
            return self._tokens_json_locked()

    def _tokens_json_locked(self) -> dict:
        return {"accept": sorted(self._tokens), "auth_required": bool(self._tokens)}

    # -- CRD ---------------------------------------------------------------

    @property
    def crd_installed(self) -> bool:
        with self._cond:
            return self._crd_installed

    def set_crd_installed(self, installed: bool) -> dict:
        with self._cond:
            self._crd_installed = installed
            return {"installed": installed}

    # -- store writes ------------------------------------------------------

    def put_setting(self, namespace: str, name: str, value: Any) -> SettingRecord:
        with self._cond:
            key = (namespace, name)
            old = self._store.get(key)
            self._rv += 1
            if old is None:
                record = SettingRecord(namespace, name, value, str(uuid.uuid4()), self._rv, 1,
                                       utc_timestamp())
            else:
                # Setting has a status subresource, so only a change outside
                # metadata/status (the value) bumps the generation.
                generation = old.generation + (1 if value != old.value else 0)
                record = dataclasses.replace(old, value=value, resource_version=self._rv,
                                             generation=generation)
            self._store[key] = record
            self._pending.append(CacheEvent(time.monotonic(), self._rv, key, record))
            return record

    def delete_setting(self, namespace: str, name: str) -> SettingRecord | None:
        with self._cond:
            key = (namespace, name)
            old = self._store.pop(key, None)
            if old is None:
                return None
            self._rv += 1
            self._pending.append(CacheEvent(time.monotonic(), self._rv, key, None))
            return dataclasses.replace(old, resource_version=self._rv)

    # -- watch cache -------------------------------------------------------

    def _advance_cache_locked(self) -> None:
        """Apply, in write order, every pending event that is at least `lag` old."""
        if self._frozen:
            return
        horizon = time.monotonic() - self._lag_s
        while self._pending and self._pending[0].written_at <= horizon:
            self._apply_event_locked(self._pending.popleft())

    def _apply_event_locked(self, event: CacheEvent) -> None:
        if event.record is None:
            self._cache.pop(event.key, None)
        else:
            self._cache[event.key] = event.record
        self._cache_rv = event.resource_version

    def configure_cache(self, lag_ms: float | None = None, frozen: bool | None = None,
                        sync: bool = False) -> dict:
        with self._cond:
            if lag_ms is not None:
                self._lag_s = lag_ms / 1000.0
            if frozen is not None:
                self._frozen = frozen
            if sync:
                # Copy the store now, even when frozen.
                self._cache = dict(self._store)
                self._cache_rv = self._rv
                self._pending.clear()
            return self._cache_json_locked()

    def cache_json(self) -> dict:
        with self._cond:
            return self._cache_json_locked()

    def _cache_json_locked(self) -> dict:
        self._advance_cache_locked()
        return {"resourceVersion": str(self._cache_rv), "lag_ms": self._lag_s * 1000.0,
                "frozen": self._frozen, "pending": len(self._pending),
                "objects": {f"{ns}/{name}": rec.render() for (ns, name), rec
                            in sorted(self._cache.items())}}

    # -- reads ---------------------------------------------------------------

    def read(self, source: str, namespace: str, name: str | None,
             min_rv: int | None) -> tuple[list[SettingRecord], int]:
        """Objects for a GET (name given) or LIST, and the version they are at.

        source "cache" reads the watch cache (resourceVersion=0); "store" is a
        quorum read, which must fail like kube-apiserver when the client asks
        for a version newer than the store has.
        """
        with self._cond:
            if source == "cache":
                self._advance_cache_locked()
                objects, current = self._cache, self._cache_rv
            else:
                if min_rv is not None and min_rv > self._rv:
                    raise ApiError(too_large_resource_version(min_rv, self._rv))
                objects, current = self._store, self._rv
            if name is not None:
                found = objects.get((namespace, name))
                return ([found] if found else []), current
            items = [rec for (ns, _), rec in sorted(objects.items()) if ns == namespace]
            return items, current

    # -- faults ------------------------------------------------------------

    def add_fault(self, body: dict) -> dict:
        with self._cond:
            rule = parse_fault_rule(body, self._next_fault_id)
            self._next_fault_id += 1
            self._faults.append(rule)
            return rule.to_json()

    def clear_faults(self) -> dict:
        with self._cond:
            cleared = len(self._faults)
            self._faults.clear()
            # A new epoch releases every hung request.
            self._fault_epoch += 1
            self._cond.notify_all()
            return {"cleared": cleared}

    def faults_json(self) -> list[dict]:
        with self._cond:
            return [rule.to_json() for rule in self._faults]

    def plan_faults(self, target: str, source: str | None) -> FaultPlan:
        """Consume the rules that apply to one request.

        Every matching delay rule adds its delay; the first matching
        status/drop/truncate/hang rule decides the outcome.  Later terminal
        rules are neither applied nor consumed.
        """
        with self._cond:
            delay_ms, action_rule = 0.0, None
            for rule in self._faults:
                if not rule.matches(target, source):
                    continue
                if rule.mode == "delay":
                    delay_ms += rule.delay_ms
                elif action_rule is None:
                    action_rule = rule
                    delay_ms += rule.delay_ms
                else:
                    continue
                rule.consume()
            self._faults = [rule for rule in self._faults if not rule.expired]
            if action_rule is None:
                return FaultPlan(delay_s=delay_ms / 1000.0, epoch=self._fault_epoch)
            return FaultPlan(delay_s=delay_ms / 1000.0, action=action_rule.mode,
                             status=action_rule.status, epoch=self._fault_epoch)

    def wait_for_release(self, epoch: int) -> None:
        """Block a hung request until faults are cleared or the stand-in exits."""
        with self._cond:
            while self._fault_epoch == epoch and not self._closing:
                self._cond.wait()

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    # -- request accounting ---------------------------------------------------

    def begin_request(self, **fields: Any) -> dict:
        """Record an API request as soon as it arrives (so hung ones are visible)."""
        with self._cond:
            record = {"seq": self._next_seq, **fields, "sent": None, "status": None,
                      "value": None, "resourceVersion": None, "fault": None, "delay_ms": 0.0,
                      "error": None}
            self._next_seq += 1
            self._records.append(record)
            self._counts[record["kind"]] += 1
            if not record["auth_ok"]:
                self._counts["unauthorized"] += 1
            return record

    def finish_request(self, record: dict, **fields: Any) -> None:
        with self._cond:
            record.update(fields)

    def reads_json(self) -> dict:
        with self._cond:
            return {"counts": dict(self._counts),
                    "requests": [dict(record) for record in self._records],
                    "now": time.monotonic()}

    def reset_reads(self) -> dict:
        with self._cond:
            self._records.clear()
            self._counts = self._zero_counts()
            return {"reset": True}

    # -- whole state -----------------------------------------------------------

    def state_json(self) -> dict:
        with self._cond:
            return {
                "resourceVersion": str(self._rv),
                "store": {f"{ns}/{name}": rec.render() for (ns, name), rec
                          in sorted(self._store.items())},
                "cache": self._cache_json_locked(),
                "settings": {"crd_installed": self._crd_installed,
                             "tokens": self._tokens_json_locked(),
                             "faults": [rule.to_json() for rule in self._faults]},
                "now": time.monotonic(),
            }


# --------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Response:
    code: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    # Filled for a successful object read, for the request log.
    value: Any = None
    resource_version: str | None = None


def json_response(code: int, obj: Any) -> Response:
    return Response(code, compact_json(obj))


def other_object(response: Response) -> Response:
    """A 200 carrying another Setting than the one asked for, saying "true" (what a
    misrouted request or a confused proxy could return). Other answers pass unchanged."""
    if response.code != 200:
        return response
    obj = json.loads(response.body)
    if obj.get("kind") != "Setting":
        return response
    obj["metadata"]["name"] = obj["metadata"]["name"] + "-other"
    obj["value"] = "true"
    changed = json_response(200, obj)
    changed.value, changed.resource_version = obj["value"], obj["metadata"].get("resourceVersion")
    return changed


def status_response(body: dict) -> Response:
    headers: tuple[tuple[str, str], ...] = ()
    retry_after = (body.get("details") or {}).get("retryAfterSeconds")
    # kube-apiserver adds Retry-After for 429 and 5xx Status bodies that carry it.
    if retry_after and (body["code"] == 429 or body["code"] >= 500):
        headers = (("Retry-After", str(retry_after)),)
    return Response(body["code"], compact_json(body), headers=headers)


@dataclasses.dataclass(frozen=True)
class ApiRequest:
    """What an API request is, decided from method, path and query alone."""
    method: str
    path: str
    query: str
    target: SettingTarget | None  # set for the settings object and list paths
    route: str  # "setting", "setting-list", "version" or "unknown"
    kind: str  # fresh | cached | list | other
    source: str | None  # "store", "cache" or None when not a settings read
    resource_version: str | None

    @property
    def full_target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def classify_request(method: str, path: str, query: str) -> ApiRequest:
    params = parse_qs(query, keep_blank_values=True)
    # resourceVersionMatch is accepted and ignored.
    rv = (params.get("resourceVersion") or [""])[-1] or None
    match = SETTING_PATH.match(path)
    target = route = None
    if match:
        target = SettingTarget(match["version"], match["namespace"], match["name"])
        route = "setting" if target.name else "setting-list"
    elif path == "/version":
        route = "version"
    else:
        route = "unknown"
    source = None
    if target is not None and method == "GET":
        source = "cache" if rv == "0" else "store"
    if route == "setting-list" and method == "GET":
        kind = "list"
    elif route == "setting" and method == "GET" and rv is None:
        kind = "fresh"
    elif route == "setting" and method == "GET" and rv == "0":
        kind = "cached"
    else:
        kind = "other"
    return ApiRequest(method, path, query, target, route, kind, source, rv)


def parse_min_resource_version(rv: str | None) -> int | None:
    """None for a plain quorum read, else the minimum version the client wants."""
    if rv is None or rv == "0":
        return None
    if not rv.isdigit():
        raise ApiError(kube_status(400, "BadRequest", f'invalid resource version "{rv}"', {}))
    return int(rv)


def api_response(state: StandinState, req: ApiRequest, auth_ok: bool) -> Response:
    """The answer kube-apiserver would give when no fault interferes."""
    try:
        if not auth_ok:
            return status_response(unauthorized())
        in_longhorn = req.path == LONGHORN_PREFIX or req.path.startswith(LONGHORN_PREFIX + "/")
        if req.route == "unknown" or (in_longhorn and not state.crd_installed):
            return status_response(generic_not_found())
        if req.method != "GET":
            return status_response(method_not_allowed())
        if req.route == "version":
            return json_response(200, VERSION_INFO)
        return settings_response(state, req)
    except ApiError as err:
        return status_response(err.body)


def settings_response(state: StandinState, req: ApiRequest) -> Response:
    target = req.target
    assert target is not None and req.source is not None
    min_rv = parse_min_resource_version(req.resource_version)
    records, current = state.read(req.source, target.namespace, target.name, min_rv)
    if target.name is not None:
        if not records:
            return status_response(setting_not_found(target))
        obj = records[0].render(target.version)
        response = json_response(200, obj)
        response.value = obj["value"]
        response.resource_version = obj["metadata"]["resourceVersion"]
        return response
    return json_response(200, {
        "apiVersion": f"{GROUP}/{target.version}",
        "kind": "SettingList",
        "metadata": {"resourceVersion": str(current)},
        "items": [rec.render(target.version) for rec in records],
    })


def parse_json_object(body: bytes) -> dict:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(400, f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ControlError(400, "expected a JSON object")
    return data


def only_keys(data: dict, allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ControlError(400, f"unknown keys: {sorted(unknown)}")


def expect_bool(data: dict, key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ControlError(400, f"{key} must be true or false")
    return value


class ControlApi:
    """The /_standin/ routes.  Each handler takes the parsed body, returns JSON."""

    def __init__(self, state: StandinState):
        self.state = state
        self.routes: dict[str, dict[str, Callable[[dict], Any]]] = {
            "/_standin/state": {"GET": lambda _: state.state_json()},
            "/_standin/cache": {"GET": lambda _: state.cache_json(), "PUT": self.put_cache},
            "/_standin/crd": {"GET": lambda _: {"installed": state.crd_installed},
                              "PUT": self.put_crd},
            "/_standin/tokens": {"GET": lambda _: state.tokens_json(), "PUT": self.put_tokens},
            "/_standin/faults": {"GET": lambda _: state.faults_json(), "POST": self.post_fault,
                                 "DELETE": lambda _: state.clear_faults()},
            "/_standin/reads": {"GET": lambda _: state.reads_json(),
                                "DELETE": lambda _: state.reset_reads()},
        }

    def handle(self, method: str, path: str, body: bytes) -> Response:
        try:
            return json_response(200, self.route(method, path.rstrip("/") or path, body))
        except ControlError as err:
            return json_response(err.code, {"error": err.message})

    def route(self, method: str, path: str, body: bytes) -> Any:
        match = CONTROL_SETTING_PATH.match(path)
        if match:
            return self.setting(method, match["namespace"], match["name"], body)
        methods = self.routes.get(path)
        if methods is None:
            raise ControlError(404, f"no control route {path}")
        handler = methods.get(method)
        if handler is None:
            raise ControlError(405, f"{method} not allowed on {path}; use {sorted(methods)}")
        return handler(parse_json_object(body))

    def setting(self, method: str, namespace: str, name: str, body: bytes) -> Any:
        if method == "PUT":
            data = parse_json_object(body)
            only_keys(data, {"value"})
            if "value" not in data:
                raise ControlError(400, 'body must be {"value": ...}')
            return self.state.put_setting(namespace, name, data["value"]).render()
        if method == "DELETE":
            deleted = self.state.delete_setting(namespace, name)
            if deleted is None:
                raise ControlError(404, f"setting {namespace}/{name} does not exist")
            return deleted.render()
        if method == "GET":
            records, _ = self.state.read("store", namespace, name, None)
            if not records:
                raise ControlError(404, f"setting {namespace}/{name} does not exist")
            return records[0].render()
        raise ControlError(405, f"{method} not allowed; use GET, PUT or DELETE")

    def put_cache(self, data: dict) -> Any:
        only_keys(data, {"lag_ms", "frozen", "sync"})
        lag_ms = data.get("lag_ms")
        if lag_ms is not None and (not isinstance(lag_ms, (int, float))
                                   or isinstance(lag_ms, bool) or lag_ms < 0):
            raise ControlError(400, "lag_ms must be a number >= 0")
        return self.state.configure_cache(lag_ms=lag_ms, frozen=expect_bool(data, "frozen"),
                                          sync=bool(expect_bool(data, "sync")))

    def put_crd(self, data: dict) -> Any:
        only_keys(data, {"installed"})
        installed = expect_bool(data, "installed")
        if installed is None:
            raise ControlError(400, 'body must be {"installed": true|false}')
        return self.state.set_crd_installed(installed)

    def put_tokens(self, data: dict) -> Any:
        only_keys(data, {"accept"})
        tokens = data.get("accept")
        if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
            raise ControlError(400, 'body must be {"accept": ["token", ...]}')
        return self.state.set_tokens(tokens)

    def post_fault(self, data: dict) -> Any:
        try:
            return self.state.add_fault(data)
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None


class EofTrackingReader:
    """Wraps the request stream to notice a request cut off by EOF.

    http.client.parse_headers treats EOF like the blank line that ends the
    headers, so a client that disconnects mid-headers would otherwise have its
    fragment served as a complete request.
    """

    def __init__(self, raw: Any):
        self._raw = raw
        self.cut_off = False

    def readline(self, size: int = -1) -> bytes:
        line = self._raw.readline(size)
        if not line.endswith(b"\n"):
            self.cut_off = True
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class StandinRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response has Content-Length
    server_version = "kube-api-standin"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    # Responses go out in one write, but keep small writes (truncate) prompt.
    disable_nagle_algorithm = True
    server: "StandinServer"

    # -- connection life cycle ----------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.rfile = EofTrackingReader(self.rfile)
        self.conn_id = self.server.state.next_connection_id()

    def handle(self) -> None:
        # The TLS handshake runs here, in this connection's worker thread, so a
        # client that stalls mid-handshake cannot block the accept loop.
        if not self._tls_handshake():
            return
        try:
            super().handle()
        except OSError as exc:  # includes ssl.SSLError, resets, broken pipes
            log(f"conn={self.conn_id} closed: {exc!r}")

    def _tls_handshake(self) -> bool:
        try:
            self.request.settimeout(HANDSHAKE_TIMEOUT_S)
            self.request.do_handshake()
            self.request.settimeout(self.timeout)
            return True
        except OSError as exc:
            log(f"conn={self.conn_id} TLS handshake failed: {exc!r}")
            return False

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        log(f"conn={self.conn_id} {format % args}")

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # Only reached through send_error (malformed requests); normal requests
        # are logged by _dispatch with their duration.
        log(f"conn={self.conn_id} {self.requestline!r} {code}")

    # -- dispatch -----------------------------------------------------------

    def _dispatch(self) -> None:
        received = time.monotonic()
        if self.rfile.cut_off:
            log(f"conn={self.conn_id} client disconnected mid-request: {self.requestline!r}")
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        note = ""
        if parts.path.startswith(CONTROL_PREFIX) or parts.path == CONTROL_PREFIX.rstrip("/"):
            status = self._send(self.server.control.handle(self.command, parts.path, body))
        elif parts.path in HEALTH_PATHS and self.command in ("GET", "HEAD"):
            status = self._send(Response(200, b"ok", content_type="text/plain; charset=utf-8"))
        else:
            status, note = self._serve_api(parts.path, parts.query, received)
        duration_ms = (time.monotonic() - received) * 1000.0
        log(f"conn={self.conn_id} {self.command} {self.path} {status if status else '-'}"
            f" {duration_ms:.1f}ms{note}")

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes | None:
        """Consume the request body so the next keep-alive request parses cleanly."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "chunked request bodies are not supported")
            self.close_connection = True
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.send_error(400, "bad Content-Length")
            self.close_connection = True
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client left before sending the whole body
            log(f"conn={self.conn_id} client disconnected mid-body: {self.requestline!r}")
            self.close_connection = True
            return None
        return body

    def _serve_api(self, path: str, query: str, received: float) -> tuple[int | None, str]:
        state = self.server.state
        req = classify_request(self.command, path, query)
        auth_ok = state.authenticate(self.headers.get("Authorization"))
        record = state.begin_request(connection=self.conn_id, method=self.command, path=path,
                                     query=query, kind=req.kind, source=req.source,
                                     auth_ok=auth_ok, received=received)
        plan = state.plan_faults(req.full_target, req.source)
        fault = plan.action or ("delay" if plan.delay_s else None)
        note = f" fault={fault}" if fault else ""
        state.finish_request(record, fault=fault, delay_ms=plan.delay_s * 1000.0)
        if plan.delay_s:
            time.sleep(plan.delay_s)

        if plan.action in ("drop", "hang"):
            if plan.action == "hang":
                state.wait_for_release(plan.epoch)
            # Close without a single response byte.
            self.close_connection = True
            return None, note

        if plan.action == "status":
            assert plan.status is not None
            response = status_response(injected_status(plan.status, self.command, path,
                                                       req.target))
        else:
            response = api_response(state, req, auth_ok)
            if plan.action == "other_object":
                response = other_object(response)
        truncate = plan.action == "truncate"
        try:
            self._send(response, truncate=truncate)
        except OSError as exc:
            state.finish_request(record, status=response.code, error=repr(exc))
            raise
        state.finish_request(record, status=response.code, sent=time.monotonic(),
                             value=response.value, resourceVersion=response.resource_version)
        return response.code, note

    def _send(self, response: Response, truncate: bool = False) -> int:
        """Write status line, headers and body in one go.

        With truncate, Content-Length still announces the full body but only
        half of it is written and the connection is closed afterwards.
        """
        try:
            phrase = http.HTTPStatus(response.code).phrase
        except ValueError:  # an injected code Python has no name for
            phrase = ""
        lines = [
            f"HTTP/1.1 {response.code} {phrase}",
            f"Date: {email.utils.formatdate(usegmt=True)}",
            "Cache-Control: no-cache, private",
            f"Audit-Id: {uuid.uuid4()}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        if truncate:
            self.close_connection = True
        elif self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if self.command == "HEAD" else response.body
        if truncate:
            body = body[: len(body) // 2]
        self.wfile.write(head + body)
        self.wfile.flush()
        return response.code


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    # Do not join idle keep-alive or hung connections at shutdown.
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: StandinState,
                 tls_context: ssl.SSLContext):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.state = state
        self.control = ControlApi(state)
        super().__init__(address, StandinRequestHandler)
        # Accepted sockets inherit do_handshake_on_connect=False; the
        # handshake happens in the worker thread (StandinRequestHandler.handle).
        self.socket = tls_context.wrap_socket(self.socket, server_side=True,
                                              do_handshake_on_connect=False)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup that can stall
        # for seconds on a machine without network; it only feeds server_name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            log(f"connection from {client_address} failed: {exc!r}")
        else:
            super().handle_error(request, client_address)  # traceback; server keeps going


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 127.0.0.1:0")
    return host.strip("[]"), int(port)


def parse_setting(value: str) -> tuple[str, str, str]:
    key, sep, setting_value = value.partition("=")
    namespace, slash, name = key.partition("/")
    if not sep or not slash or not namespace or not name or "/" in name:
        raise argparse.ArgumentTypeError("expected NAMESPACE/NAME=VALUE")
    return namespace, name, setting_value


def non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 0),
                        help="HOST:PORT to listen on; port 0 picks a free port")
    parser.add_argument("--tls-cert", required=True, help="PEM certificate (chain)")
    parser.add_argument("--tls-key", required=True, help="PEM private key")
    parser.add_argument("--token", action="append", default=[],
                        help="accepted bearer token (repeatable); none = no auth required")
    parser.add_argument("--ready-file", help="also write the ready JSON line to this file")
    parser.add_argument("--setting", action="append", type=parse_setting, default=[],
                        metavar="NAMESPACE/NAME=VALUE", help="initial Setting (repeatable)")
    parser.add_argument("--cache-lag-ms", type=non_negative_int, default=0,
                        help="how long writes take to reach the watch cache")
    return parser.parse_args(argv)


def build_tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    # Clients such as client-go offer h2 first; make them fall back to HTTP/1.1.
    context.set_alpn_protocols(["http/1.1"])
    return context


def announce(server: StandinServer, ready_file: str | None) -> None:
    host, port = server.server_address[:2]
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    line = json.dumps({"listening": address})
    if ready_file:
        # Write then rename, so a poller never reads a half-written file.
        tmp = f"{ready_file}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(line + "\n")
        os.replace(tmp, ready_file)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state = StandinState(tokens=args.token, lag_ms=args.cache_lag_ms)
    for namespace, name, value in args.setting:
        state.put_setting(namespace, name, value)
    state.configure_cache(sync=True)  # initial objects are already in the cache
    try:
        server = StandinServer(args.listen, state, build_tls_context(args.tls_cert, args.tls_key))
    except (OSError, ssl.SSLError) as exc:
        log(f"kube_api_standin: cannot start: {exc}")
        return 1
    signal.signal(signal.SIGTERM, _exit_on_signal)
    announce(server, args.ready_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.close()  # release hung requests
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
