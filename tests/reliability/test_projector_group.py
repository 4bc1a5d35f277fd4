"""Three projector processes in one consumer group on a 12-partition events topic, on the real local broker.

- They split the partitions with no overlap, and each applies only the trusts on its own partitions.
- One stopped with SIGTERM under write load leaves the group: the others take its partitions at once; started
  again it takes a share back. Nothing is lost or applied twice: every trust's read models equal a rebuild, and
  the events each projector says it applied add up to exactly the events written.
- One killed with SIGKILL under write load: on the local noida-db broker its partitions stay with the dead static
  member (the broker never expires it), so the survivors' catch-up sweep brings its trusts up to date from the
  event store; restarted under the same member id it takes its own partitions straight back. The accounting is
  the same: exactly the events written, each once, read models equal to a rebuild.
- One killed with SIGKILL and then removed from the group (``fathom remove-projector``, the admin call Kafka
  provides for static members): its partitions move to the survivors, whose consumers apply its trusts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fathom_infra.local_servers import wait_until
from fathom_infra.processes import python_module
from fathom_projector.metrics import CONSUMER, SWEEP
from fathom_projector.rebuild import rebuild_trust
from fathom_shared.config import Settings
from tests.projector_group_support import (
    ProjectorGroup,
    Writer,
    all_projected,
    positions,
    seed_rosters,
    split_without_overlap,
    trusts_on_every_partition,
)
from tests.rebuild_support import snapshot

CAUGHT_UP_WITHIN_S = 120.0
"""Deadline for the read models to reach the store's head (the sweep's grace is 15 s; the machine is shared)."""
SPLIT_WITHIN_S = 180.0
"""Deadline for a rebalance to settle. On noida-db a member joining waits out the 30 s rebalance timeout and
the static members rejoin a few rounds (new member ids each time) before the group is stable."""


@pytest.fixture
def group(settings: Settings, tmp_path: Path) -> Iterator[ProjectorGroup]:
    started = ProjectorGroup(settings, tmp_path)
    try:
        yield started.start()
    finally:
        started.stop()
        for path in sorted(tmp_path.glob("*.log")):
            print(f"--- {path.name}\n{membership_story(path)}")


def membership_story(log: Path, lines: int = 60) -> str:
    """A process log's last ``lines`` about the group (joins, assignments, revocations), each cut short unless it
    carries a traceback: what a failed rebalance needs, without the client's connection chatter around it."""
    story = [line if '"exception"' in line else line[:400] for line in log.read_text(errors="replace").splitlines()
             if '"logger":"kafka.coordinator' in line or '"logger":"fathom_projector"' in line]
    return "\n".join(story[-lines:])


@pytest.fixture
def trusts(owner_engine) -> dict[str, int]:
    """Trust → partition: two trusts on each of the twelve partitions."""
    return trusts_on_every_partition(owner_engine, "group")


def wait_for_split(group: ProjectorGroup, *which: int) -> dict[int, set[int]]:
    found: list[dict[int, set[int]]] = []

    def split() -> bool:
        found.append(group.split(*which))
        return split_without_overlap(found[-1])

    wait_until(split, SPLIT_WITHIN_S, interval=0.5, what=f"projectors {which or 'all'} sharing the 12 partitions")
    return found[-1]


def assert_equal_to_rebuild(app_engine, trust_ids: list[str]) -> None:
    for trust_id in trust_ids:
        projected = snapshot(app_engine, trust_id)
        rebuild_trust(app_engine, trust_id)
        assert snapshot(app_engine, trust_id) == projected, trust_id


def wait_all_projected(app_engine, trust_ids: list[str]) -> None:
    wait_until(lambda: all_projected(app_engine, trust_ids), CAUGHT_UP_WITHIN_S, interval=0.5,
               what="every trust's read models at its head")


def test_three_projectors_split_the_partitions_and_each_applies_only_its_trusts(
        group: ProjectorGroup, trusts: dict[str, int], app_engine) -> None:
    split = wait_for_split(group)  # before any event of these trusts exists: no trust is applied mid-rebalance
    trust_ids = list(trusts)
    seed_rosters(app_engine, trust_ids)
    writer = Writer(app_engine, trust_ids)
    writer.start()
    wait_until(lambda: writer.rounds >= 10, 60, what="ten rounds of writes")
    writer.finish()
    wait_all_projected(app_engine, trust_ids)

    scrapes = group.scrapes()
    assert {s.instance_id for s in scrapes.values()} == {f"projector-{i}-{group.suffix}" for i in (1, 2, 3)}
    assert {i: s.partitions for i, s in scrapes.items()} == split, "the split held while they worked"
    for i, found in scrapes.items():
        own = {trust for trust, partition in trusts.items() if partition in split[i]}
        assert found.trusts(CONSUMER) & set(trusts) == own, f"projector-{i} applied exactly its partitions' trusts"
    heads = positions(app_engine, trust_ids)
    for trust_id, (head, _) in heads.items():
        assert sum(s.count(trust_id) for s in scrapes.values()) == head, f"{trust_id}: each event applied once"
    assert_equal_to_rebuild(app_engine, trust_ids)


def start_writing(group: ProjectorGroup, trusts: dict[str, int], app_engine) -> tuple[dict[int, set[int]], list[str],
                                                                                     Writer]:
    """Once the three hold their split: the trusts' rosters, then writes to every trust, five rounds under way.
    Returns the split, the trusts and the running writer."""
    before = wait_for_split(group)
    trust_ids = list(trusts)
    seed_rosters(app_engine, trust_ids)
    writer = Writer(app_engine, trust_ids)
    writer.start()
    wait_until(lambda: writer.rounds >= 5, 60, what="five rounds of writes")
    return before, trust_ids, writer


def test_a_stopped_projector_hands_its_partitions_over_and_takes_a_share_back_when_started_again(
        group: ProjectorGroup, trusts: dict[str, int], app_engine) -> None:
    before, trust_ids, writer = start_writing(group, trusts, app_engine)

    stopped_at = group.scrapes(3)[3]
    group.projectors[2].stop()  # SIGTERM, as a scale-down or deploy does
    after = wait_for_split(group, 1, 2)  # LeaveGroup: the survivors hold all twelve between them
    moved = before[3]
    assert moved <= after[1] | after[2]
    moved_trusts = [trust for trust, partition in trusts.items() if partition in moved]
    rounds = writer.rounds
    wait_until(lambda: writer.rounds >= rounds + 5, 60, what="five more rounds after the stop")
    wait_until(lambda: all(sum(s.count(t, CONSUMER) for s in group.scrapes(1, 2).values()) > 0
                           for t in moved_trusts), 60, interval=0.5,
               what="the survivors applying the stopped projector's trusts from its partitions")

    group.projectors[2].start()  # the same member id: it joins and takes a share back
    back = wait_for_split(group)
    assert back[3], "the restarted projector holds partitions again"
    returned = [trust for trust, partition in trusts.items() if partition in back[3]]
    rounds = writer.rounds
    wait_until(lambda: writer.rounds >= rounds + 5, 60, what="five more rounds after the restart")
    writer.finish()
    wait_all_projected(app_engine, trust_ids)

    restarted = group.scrapes(3)[3]
    assert restarted.trusts(CONSUMER) & set(trusts) == set(returned), "it applies its new partitions' trusts"
    survivors = group.scrapes(1, 2)
    for trust_id, (head, _) in positions(app_engine, trust_ids).items():
        applied = (stopped_at.count(trust_id) + restarted.count(trust_id)
                   + sum(s.count(trust_id) for s in survivors.values()))
        # What the stopped one applied between its last scrape and its exit is in no scrape: at most that is missing.
        assert applied <= head, f"{trust_id}: an event applied twice"
    assert_equal_to_rebuild(app_engine, trust_ids)


def test_a_killed_projector_s_trusts_are_brought_up_to_date_and_its_restart_takes_its_partitions_back(
        group: ProjectorGroup, trusts: dict[str, int], app_engine) -> None:
    before, trust_ids, writer = start_writing(group, trusts, app_engine)

    group.projectors[2].kill()  # SIGKILL: no LeaveGroup, no last commit
    orphaned = [trust for trust, partition in trusts.items() if partition in before[3]]
    at_kill = {trust: applied for trust, (_, applied) in positions(app_engine, orphaned).items()}
    survivors_at_kill = group.scrapes(1, 2)
    rounds = writer.rounds
    wait_until(lambda: writer.rounds >= rounds + 10, 60, what="ten more rounds after the kill")
    writer.finish()
    wait_all_projected(app_engine, trust_ids)

    survivors = group.scrapes(1, 2)
    heads = positions(app_engine, orphaned)
    by_path = {CONSUMER: 0.0, SWEEP: 0.0}
    for trust_id in orphaned:
        for path in by_path:
            by_path[path] += sum(survivors[i].count(trust_id, path) - survivors_at_kill[i].count(trust_id, path)
                                 for i in (1, 2))
        applied_since_kill = sum(survivors[i].count(trust_id) - survivors_at_kill[i].count(trust_id) for i in (1, 2))
        assert applied_since_kill == heads[trust_id][0] - at_kill[trust_id], f"{trust_id}: each event once"
    print(f"the killed projector's trusts were applied by the survivors: {by_path} "
          f"(partitions then held by the survivors: {group.split(1, 2)})")

    group.projectors[2].start()  # the same static member id, as the supervisor restarts it
    back = wait_for_split(group)
    assert back[3] == before[3], "the restarted projector takes its own partitions straight back"
    writer = Writer(app_engine, trust_ids)
    writer.start()
    # Written until the restarted member's consumer has applied each of its trusts, not for a fixed number of
    # rounds: the split above can be a passing one. A commit the member made for the generation it rejoined
    # with can be refused once the group has moved on, and the member then rejoins under a new id, a few more
    # rounds (17 s in one full-suite run, in which five rounds ended first and the sweep applied them all).
    wait_until(lambda: set(orphaned) <= group.scrapes(3)[3].trusts(CONSUMER), SPLIT_WITHIN_S, interval=0.5,
               what="the restarted projector's consumer applying its own trusts")
    writer.finish()
    wait_all_projected(app_engine, trust_ids)
    assert group.scrapes(3)[3].trusts(CONSUMER) & set(trusts) == set(orphaned)
    assert_equal_to_rebuild(app_engine, trust_ids)


def test_a_killed_projector_removed_from_the_group_has_its_partitions_moved_to_the_others(
        group: ProjectorGroup, trusts: dict[str, int], app_engine) -> None:
    before, trust_ids, writer = start_writing(group, trusts, app_engine)

    group.projectors[2].kill()
    orphaned = [trust for trust, partition in trusts.items() if partition in before[3]]
    at_kill = {trust: applied for trust, (_, applied) in positions(app_engine, orphaned).items()}
    survivors_at_kill = group.scrapes(1, 2)
    removed = subprocess.run(python_module("fathom_infra.cli", "remove-projector", f"projector-3-{group.suffix}"),
                             env=group.env, capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0, removed.stderr
    after = wait_for_split(group, 1, 2)
    assert before[3] <= after[1] | after[2]
    wait_until(lambda: all(sum(s.count(t, CONSUMER) - survivors_at_kill[i].count(t, CONSUMER)
                               for i, s in group.scrapes(1, 2).items()) > 0 for t in orphaned), 60, interval=0.5,
               what="the survivors' consumers applying the killed projector's trusts")
    writer.finish()
    wait_all_projected(app_engine, trust_ids)

    survivors = group.scrapes(1, 2)
    for trust_id, (head, _) in positions(app_engine, orphaned).items():
        applied_since_kill = sum(survivors[i].count(trust_id) - survivors_at_kill[i].count(trust_id) for i in (1, 2))
        assert applied_since_kill == head - at_kill[trust_id], f"{trust_id}: each event once"
    assert_equal_to_rebuild(app_engine, trust_ids)
