"""The garbage collector around a request: paused while a payload is parsed
(it can free nothing there), as the predictor left it everywhere else."""
import gc
import json
import unittest

from cortex_local_worker import serialize, server

# 40,000 containers: with the default threshold (700) allocation alone sets off
# dozens of collections.
BIG = json.dumps([{"a": [i]} for i in range(20000)]).encode()


class CollectorTest(unittest.TestCase):
    def collections_during(self, parse):
        phases = []

        def record(phase, info):
            phases.append(phase)

        gc.collect()
        gc.callbacks.append(record)
        try:
            parse(BIG)
        finally:
            gc.callbacks.remove(record)
        return phases

    def test_no_collection_runs_while_a_payload_is_parsed(self):
        self.assertNotEqual(self.collections_during(json.loads), [], "the payload is big enough to set collections off")
        self.assertEqual(self.collections_during(serialize.parse_payload), [])
        self.assertTrue(gc.isenabled())

    def test_predict_runs_with_the_collector_on(self):
        seen = []

        class Predictor:
            def predict(self, payload):
                seen.append(gc.isenabled())
                return payload

        server.answer(Predictor(), 1, b'{"a": 1}')
        self.assertEqual(seen, [True])

    def test_a_collector_switched_off_by_the_predictor_stays_off(self):
        gc.disable()
        try:
            serialize.parse_payload(b"[1, 2]")
            with self.assertRaises(serialize.BadRequest):
                serialize.parse_payload(b"[1,")
            self.assertFalse(gc.isenabled())
        finally:
            gc.enable()


if __name__ == "__main__":
    unittest.main()
