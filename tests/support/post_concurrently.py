"""Posts one fixture on many TLS connections at once: guard_lib.sh's post_concurrently.

    post_concurrently.py OUT_FILE COUNT PATH FIXTURE [READY_FILE]

Opens COUNT connections to the guard first, then sends the request on all of them together
(each review with its own uid) and waits for every answer. Writes to OUT_FILE
{"all_sent": T, "requests": [{i, uid, send, recv, status, allowed, code, message, error}]},
times on CLOCK_MONOTONIC (send taken just before the request's first byte goes out); with
READY_FILE, writes it (the time, atomically) as soon as every request has been sent.

Run through lib.sh's guard_py, which gives it the guard (support.guard_client).
"""

import json
import os
import sys
import threading
import time

from support.guard_client import connect, read_response, request_bytes, review_body

out_file, count, path, fixture = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ready_file = sys.argv[5] if len(sys.argv) > 5 else None
template = json.loads(review_body(fixture))
results = [{"i": i, "error": None} for i in range(count)]
sockets = []
for i in range(count):
    try:
        sockets.append(connect(timeout=60))
    except Exception as e:
        sockets.append(None)
        results[i]["error"] = f"connect: {e!r}"
go = threading.Event()
sent = threading.Semaphore(0)


def one(i, sock):
    review = dict(template)
    review["request"] = dict(template["request"], uid=f"{template['request']['uid'][:-4]}{i:04d}")
    body = json.dumps(review).encode()
    record = results[i]
    record["uid"] = review["request"]["uid"]
    go.wait()
    try:
        record["send"] = time.monotonic()
        sock.sendall(request_bytes("POST", path, body, {"Content-Type": "application/json"}))
    except Exception as e:
        record["error"] = f"send: {e!r}"
        return
    finally:
        sent.release()
    try:
        answer = read_response(sock)
        record["recv"] = time.monotonic()
        if answer is None:
            record["error"] = "connection closed without an answer"
            return
        status, _, data = answer
        record["status"] = status
        response = json.loads(data)["response"]
        record["allowed"] = response["allowed"]
        record["code"] = response.get("status", {}).get("code")
        record["message"] = response.get("status", {}).get("message")
    except Exception as e:
        record["error"] = f"answer: {e!r}"
    finally:
        sock.close()


threads = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(sockets) if s is not None]
for t in threads:
    t.start()
go.set()
for _ in threads:
    sent.acquire()
all_sent = time.monotonic()
if ready_file:
    with open(ready_file + ".tmp", "w") as f:
        f.write(f"{all_sent:.6f}\n")
    os.rename(ready_file + ".tmp", ready_file)
for t in threads:
    t.join()
with open(out_file, "w") as f:
    json.dump({"all_sent": all_sent, "requests": results}, f)
