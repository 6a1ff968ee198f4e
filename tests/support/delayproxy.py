"""A delaying HTTP/1.1 proxy in front of the registry, for the invariant test.

It stands for what a load balancer's queue or a slow network does to a
request: some requests are held for a while before they are forwarded, and
a held request is forwarded even when the client gave up on it meanwhile,
so the request a daemon timed out on still lands, late. That is the case
the registry's fencing (Phonebind-Seq, DESIGN.md "Contract, second part")
exists for.

Each client connection is read request by request (request line, headers,
Content-Length body; the daemon uses keep-alive); every request goes
upstream on a fresh connection of its own (Connection: close), and its
answer goes back on the client's connection if the client is still there.
A request that cannot reach the registry is answered 503 (it certainly did
not arrive: "not done"); one that reached it and got no answer, 502.

Runs an asyncio loop in a thread of the calling process. Choices are drawn
from a seeded random generator, in the order requests arrive: the same seed
gives the same sequence of choices, not the same requests held.
"""
import asyncio
import random
import threading
import time

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024


class Request:
    def __init__(self, method, target, version, headers, body):
        self.method, self.target, self.version = method, target, version
        self.headers, self.body = headers, body

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def upstream_bytes(self):
        lines = [f"{self.method} {self.target} {self.version}"]
        lines += [f"{k}: {v}" for k, v in self.headers if k.lower() not in ("connection",
                                                                             "keep-alive")]
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class BadRequest(Exception):
    pass


async def read_request(reader):
    """The next request on a connection; None at a clean end of it."""
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3:
        raise BadRequest(f"request line {line!r}")
    headers, size = [], len(line)
    while True:
        line = await reader.readline()
        size += len(line)
        if not line or size > MAX_HEADER_BYTES:
            raise BadRequest("headers cut short or too large")
        if line in (b"\r\n", b"\n"):
            break
        key, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest(f"header line {line!r}")
        headers.append((key.strip(), value.strip()))
    request = Request(parts[0], parts[1], parts[2], headers, b"")
    if request.header("Transfer-Encoding"):
        raise BadRequest("chunked requests are not expected from the daemon")
    length = int(request.header("Content-Length") or 0)
    if length < 0 or length > MAX_BODY_BYTES:
        raise BadRequest(f"Content-Length {length}")
    request.body = await reader.readexactly(length) if length else b""
    return request


def split_response(raw):
    """(status, header lines, body) of an answer read up to EOF."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise BadRequest("answer without the end of its headers")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    return status, lines, body


def client_response(lines, body):
    """The answer as the client gets it: our upstream Connection: close
    is not the client's business; its own connection stays open."""
    kept = [lines[0]] + [h for h in lines[1:]
                         if h.partition(":")[0].strip().lower() not in ("connection", "keep-alive")]
    has_length = any(h.partition(":")[0].strip().lower() == "content-length" for h in kept[1:])
    status = int(lines[0].split(" ")[1])
    if not has_length and status not in (204, 304):
        kept.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1") + body


def plain_response(status, reason):
    body = ('{"error":"proxy","message":"%s"}' % reason).encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class DelayingProxy:
    """Holds some requests to upstream_port for a while (see module doc).

    hold: {method: (chance of a long hold, chance of a short hold)}; long
    holds last long_hold seconds (drawn uniformly), longer than the
    daemon's request timeout in the invariant test; short ones short_hold,
    within it. Every request is written to `records` (dicts, times from
    time.monotonic()).
    """

    DEFAULT_HOLD = {"PUT": (0.35, 0.15), "DELETE": (0.35, 0.15), "GET": (0.1, 0.1),
                    "POST": (0.1, 0.1)}

    def __init__(self, upstream_port, seed, hold=None, long_hold=(1.0, 2.5),
                 short_hold=(0.05, 0.5), upstream_host="127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.rng = random.Random(seed)
        self.hold = dict(self.DEFAULT_HOLD if hold is None else hold)
        self.long_hold, self.short_hold = long_hold, short_hold
        self.holding = True
        self.records = []
        self.lock = threading.Lock()
        self.in_flight = 0  # read from a client, not yet answered upstream (or failed)
        self.held_now = 0
        self.loop = None
        self.server = None
        self.port = None
        self.thread = None

    # --- control, from any thread -------------------------------------------------

    def start(self, port=0):
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", port))
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self._close())
            self.loop.close()
        self.thread = threading.Thread(target=run, name="delaying-proxy", daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the delaying proxy did not start")
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def set_holding(self, holding):
        with self.lock:
            self.holding = holding

    def drain(self, timeout=15.0):
        """Stops holding new requests and waits until every request read so
        far has been delivered upstream (or found the registry down).
        True when drained within timeout."""
        self.set_holding(False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.in_flight == 0:
                    return True
            time.sleep(0.02)
        return False

    def stats(self):
        with self.lock:
            held = [r for r in self.records if r["hold"] > 0]
            return {"requests": len(self.records), "held": len(held),
                    "held_late": sum(1 for r in held if r.get("client_gone")),
                    "held_now": self.held_now, "in_flight": self.in_flight}

    def snapshot(self):
        with self.lock:
            return [dict(r) for r in self.records]

    def stop(self):
        if self.loop and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)

    # --- the loop's side ----------------------------------------------------------

    async def _close(self):
        self.server.close()
        await self.server.wait_closed()
        tasks = [t for t in asyncio.all_tasks(self.loop) if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _choose_hold(self, method):
        long_chance, short_chance = self.hold.get(method, (0.0, 0.0))
        draw = self.rng.random()
        with self.lock:
            holding = self.holding
        if not holding:
            return 0.0
        if draw < long_chance:
            return self.rng.uniform(*self.long_hold)
        if draw < long_chance + short_chance:
            return self.rng.uniform(*self.short_hold)
        return 0.0

    async def _serve(self, reader, writer):
        try:
            while True:
                try:
                    request = await read_request(reader)
                except (BadRequest, ValueError, asyncio.IncompleteReadError, ConnectionError):
                    break
                if request is None:
                    break
                record = {"t_in": time.monotonic(), "method": request.method,
                          "path": request.target, "auth": request.header("Authorization") or "",
                          "seq": request.header("Phonebind-Seq"), "hold": 0.0}
                with self.lock:
                    self.records.append(record)
                    self.in_flight += 1
                # Delivered on its own: the client leaving does not stop it.
                delivery = asyncio.ensure_future(self._deliver(request, record))
                answer = await asyncio.shield(delivery)
                if reader.at_eof() or writer.is_closing():
                    record["client_gone"] = True
                    break
                try:
                    writer.write(answer)
                    await writer.drain()
                except ConnectionError:
                    record["client_gone"] = True
                    break
                if (request.header("Connection") or "").lower() == "close":
                    break
        finally:
            writer.close()

    async def _deliver(self, request, record):
        try:
            hold = self._choose_hold(request.method)
            if hold > 0:
                record["hold"] = round(hold, 3)
                with self.lock:
                    self.held_now += 1
                try:
                    await asyncio.sleep(hold)
                finally:
                    with self.lock:
                        self.held_now -= 1
            record["t_out"] = time.monotonic()
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(*self.upstream), 5)
            except (OSError, asyncio.TimeoutError):
                record["status"] = "refused"
                return plain_response(503, "Service Unavailable")
            try:
                up_writer.write(request.upstream_bytes())
                await up_writer.drain()
                raw = await asyncio.wait_for(up_reader.read(), 15)
                status, lines, body = split_response(raw)
            except (OSError, asyncio.TimeoutError, BadRequest, ValueError, IndexError):
                record["status"] = "no-answer"
                return plain_response(502, "Bad Gateway")
            finally:
                up_writer.close()
            record["status"] = status
            record["t_done"] = time.monotonic()
            return client_response(lines, body)
        finally:
            with self.lock:
                self.in_flight -= 1
