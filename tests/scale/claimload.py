"""What the scale tests share: registries on one PostgreSQL database and
one key, and a load of claims whose every answer is recorded, so that
afterwards each claim answered 201 can be checked against the database
through the API."""
import http.client
import json
import threading
import time

import pbtest

# A request that takes longer than this is a hang: the registry must
# answer (201, or 503 when it cannot reach the database) well before.
REQUEST_TIMEOUT = 10.0 * pbtest.slowdown()


class Answer:
    __slots__ = ("terminal", "token", "target", "status", "retry_after", "error", "sent",
                 "took")

    def __init__(self, terminal, token, target):
        self.terminal, self.token, self.target = terminal, token, target
        self.status = self.retry_after = self.error = None
        self.sent = self.took = 0.0

    def __repr__(self):
        return (f"<{self.target} {self.terminal} {self.status or self.error} "
                f"at {self.sent:.3f}+{self.took:.3f}s>")


def registries_on(tmp, database, count, extra_args=()):
    """count registries on one database URI and one key file, started one
    after the other (the first makes the key, the others read it)."""
    key = tmp.join("terminal-id.key")
    started = []
    try:
        for _ in range(count):
            started.append(pbtest.Registry(tmp, database=database,
                                           # a load, not a test of rate-requests
                                           extra_args=["--key-file", key, "--log-level", "info",
                                                       "--rate-requests", "0"]
                                           + list(extra_args)).start(timeout=30))
    except BaseException:
        for registry in started:
            registry.stop()
        raise
    return started


def claim(port, path_id, token, target, origin):
    """One PUT …/binding on a fresh connection; the answer recorded, a
    connection error or timeout included."""
    answer = Answer(path_id, token, target)
    answer.sent = time.monotonic() - origin
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("PUT", f"/v1/terminals/{path_id}/binding",
                     headers={"Authorization": f"Bearer {token}", "Content-Length": "0"})
        response = conn.getresponse()
        body = response.read()
        answer.status = response.status
        answer.retry_after = response.getheader("Retry-After")
        if answer.status >= 400 and body:
            try:
                answer.error = json.loads(body).get("error")
            except ValueError:
                answer.error = body[:80]
    except (OSError, http.client.HTTPException) as error:
        answer.error = type(error).__name__
    finally:
        conn.close()
    answer.took = time.monotonic() - origin - answer.sent
    return answer


class ClaimLoad:
    """Worker threads claiming terminals until stopped. targets: a list of
    (name, port) the workers take turns over; terminals(worker, n) names
    the n-th terminal a worker claims, or None when it has no more."""

    def __init__(self, targets, tokens, terminals):
        self.targets, self.tokens, self.terminals = list(targets), list(tokens), terminals
        self.answers = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.origin = time.monotonic()
        self.threads = [threading.Thread(target=self._work, args=(w,), daemon=True)
                        for w in range(len(self.tokens))]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def _work(self, worker):
        n = 0
        while not self.stopping.is_set():
            terminal = self.terminals(worker, n)
            if terminal is None:
                return
            name, port = self.targets[(worker + n) % len(self.targets)]
            answer = claim(port, terminal, self.tokens[worker], name, self.origin)
            with self.lock:
                self.answers.append(answer)
            if answer.status is None or answer.status >= 500:
                time.sleep(0.01)  # a dead target or database fails at once: no busy loop
            n += 1

    def now(self):
        return time.monotonic() - self.origin

    def wait_for(self, predicate, timeout, what):
        """Until predicate(list of answers so far) holds."""
        def check():
            with self.lock:
                return predicate(list(self.answers))
        return pbtest.wait_until(check, timeout, interval=0.02, what=what)

    def finish(self, timeout):
        """Until every worker has claimed all its terminals; the answers."""
        for thread in self.threads:
            thread.join(timeout)
            assert not thread.is_alive(), "the load did not finish in time"
        return list(self.answers)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT + 5)
            assert not thread.is_alive(), "a claim hung past the request timeout"
        return list(self.answers)


def status_of(registry_http, path_id, token):
    status, body, _ = registry_http.request("GET", f"/v1/terminals/{path_id}", token=token)
    assert status == 200, (status, body)
    return body["status"]


def summary(answers):
    """Counts by answer, for the test's log: {"201": n, "503": n, …}."""
    counts = {}
    for a in answers:
        key = str(a.status) if a.status else a.error
        counts[key] = counts.get(key, 0) + 1
    return counts
