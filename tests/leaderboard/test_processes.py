from leaderboard.processes import Pace


class CpuWait:
    """A thread's CPU-wait counter, as Linux's schedstat keeps it, that grows by a second
    during each batch marked busy (``Pace`` reads it before and after every batch)."""

    def __init__(self, *busy: bool) -> None:
        self.busy = iter(busy)
        self.reads = 0
        self.total = 0.0

    def __call__(self) -> float:
        if self.reads % 2 and next(self.busy):
            self.total += 1.0
        self.reads += 1
        return self.total


def rested_before_each(pace: Pace, batches: int) -> list[float]:
    return [pace.rested for _ in pace.over(range(batches))]


def test_a_job_alone_with_a_batch_that_waited_now_and_then_never_rests():
    pace = Pace(cpu_wait=CpuWait(False, True, False, True, False, False))
    assert rested_before_each(pace, 6) == [0.0] * 6


def test_a_job_on_a_busy_machine_rests_from_its_second_batch_that_waited_in_a_row():
    pace = Pace(cpu_wait=CpuWait(True, True, True, False, False))
    rested = rested_before_each(pace, 5)
    assert rested[:2] == [0.0, 0.0]
    assert 0 < rested[2] < rested[3]  # after the second busy batch, and after the third
    assert rested[4] == rested[3]  # the machine is quiet again
