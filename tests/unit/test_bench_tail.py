"""The benchmark says where a read measure's tail came from: its slowest requests, their clients and starts."""

from tests.bench.workloads import Latencies, Tail


def test_the_slowest_hundredth_names_its_clients_and_how_close_their_starts_were() -> None:
    result = Latencies(seconds=[0.010] * 196 + [0.090, 0.080, 0.012, 0.070],
                       started=[(n * 0.005, n % 4) for n in range(196)] + [(2.001, 0), (2.004, 1), (3.0, 2),
                                                                            (2.010, 3)])
    tail = Tail.of(result)
    assert (tail.count, tail.total, tail.clients) == (2, 200, 2)
    assert round(tail.window_seconds, 6) == 0.003
    assert tail.line() == ("its 2 slowest requests of 200 (the p99 and above) came from 2 clients and started "
                           "within 3 ms of one another")


def test_a_short_measure_still_names_its_slowest_request() -> None:
    tail = Tail.of(Latencies(seconds=[0.01, 0.05], started=[(0.0, 0), (0.02, 0)]))
    assert (tail.count, tail.clients, tail.window_seconds) == (1, 1, 0.0)
    assert tail.line() == "the slowest of its 2 requests is one request"
