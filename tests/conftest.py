"""Shared fixtures: the sample corpus, corpora built from it, and a planted submission."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detector import api  # noqa: E402
from planting import BASE, SAMPLE, SOURCE, planted_submission  # noqa: E402

SEEDS = sorted(SAMPLE.glob("*.txt"))


@pytest.fixture(scope="session")
def seeds():
    return SEEDS


@pytest.fixture(scope="session")
def planted():
    """(text, truth spans) of seed 004 with three passages of seed 003 planted."""
    return planted_submission()


@pytest.fixture(scope="session")
def corpus_without_base(tmp_path_factory):
    """A corpus of the sample seeds except the planted submission's base document."""
    path = tmp_path_factory.mktemp("db") / "corpus.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_paths(corpus, [p for p in SEEDS if p != BASE])
    return path


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory):
    """A corpus of all five seeds."""
    path = tmp_path_factory.mktemp("db") / "seeds.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_paths(corpus, SEEDS)
    return path


@pytest.fixture
def source_path():
    return SOURCE


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """A 3-master, 3-replica Redis Cluster on loopback ports for the whole session (tests/redis_cluster.py)."""
    from redis_cluster import RedisCluster, redis_available

    if reason := redis_available():
        pytest.skip(reason)
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A standalone (non-cluster) Redis server on a loopback port for the whole session."""
    from redis_cluster import RedisNode, free_ports, redis_available

    if reason := redis_available():
        pytest.skip(reason)
    node = RedisNode(tmp_path_factory.mktemp("redis-server"), free_ports(1)[0])
    try:
        yield node.start()
    finally:
        node.stop()
