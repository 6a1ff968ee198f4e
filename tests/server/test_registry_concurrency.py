#!/usr/bin/python3
"""Racing claims: of 40 clients claiming one terminal at the same moment,
exactly one gets 201 and 39 get 409 — with one HTTP thread and with two,
whose writes meet in the one SQLite writer, or in PostgreSQL's row and
advisory locks (each thread with connections of its own): both backends."""
import threading
import unittest

import pbtest
import regsupport

RACERS = 40


class RegistryConcurrencyCases:
    def race(self, threads):
        tmp = pbtest.TempDir()
        registry = self.backend.registry(tmp, extra_args=["--threads", str(threads)]).start()
        try:
            tokens = [registry.new_account()[1] for _ in range(RACERS)]
            barrier = threading.Barrier(RACERS)
            results = [None] * RACERS

            def claim(i):
                http = registry.http()
                barrier.wait()
                results[i] = http.request("PUT", "/v1/terminals/usb:18d1:RACE42/binding",
                                          token=tokens[i])[0]
            workers = [threading.Thread(target=claim, args=(i,)) for i in range(RACERS)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            self.assertEqual(results.count(201), 1, results)
            self.assertEqual(results.count(409), RACERS - 1, results)
            winner = tokens[results.index(201)]
            self.assertEqual(registry.http().request("GET", "/v1/terminals/usb:18d1:RACE42",
                                                     token=winner)[1]["status"], "bound-to-you")
        finally:
            self.assertEqual(registry.stop(), 0)
            tmp.cleanup()

    def test_one_thread(self):
        self.race(1)

    def test_two_threads(self):
        self.race(2)


regsupport.for_each_backend(RegistryConcurrencyCases, globals())

if __name__ == "__main__":
    unittest.main()
