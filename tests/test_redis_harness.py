"""The test harness itself: the throw-away cluster serves every slot with a replica per master, and fails over."""

import redis


def test_the_cluster_serves_keys_from_any_node_with_a_replica_per_master(redis_cluster):
    masters = redis_cluster.masters()
    assert len(masters) == 3
    assert all(node.info("replication")["connected_slaves"] == 1 for node in masters)
    client = redis.RedisCluster(host="127.0.0.1", port=redis_cluster.nodes[-1].port)
    try:
        for key in ("{a}x", "{b}x", "{c}x"):
            client.set(key, key)
        assert [client.get(k) for k in ("{a}x", "{b}x", "{c}x")] == [b"{a}x", b"{b}x", b"{c}x"]
    finally:
        client.close()


def test_the_standalone_server_is_not_a_cluster(redis_server):
    assert redis_server.info("cluster")["cluster_enabled"] == 0
