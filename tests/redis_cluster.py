"""Throw-away Redis servers for the tests: a standalone server and a 3-master, 3-replica cluster on loopback ports.

Debian's `redis-server` and `redis-cli` are run from a temporary folder; every node listens on 127.0.0.1 on a
port the OS said was free (its cluster bus on another such port). The nodes run with
`--cluster-replica-validity-factor 0` (a freshly created cluster's replica otherwise refuses to take over a
killed master: "data older than allowed") and `--cluster-node-timeout 2000` (a failover in ~4 s).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

NODE_TIMEOUT_MS = 2000


def redis_available() -> str | None:
    """Why the Redis tests cannot run here, or None when they can."""
    for program in ("redis-server", "redis-cli"):
        if shutil.which(program) is None:
            return f"{program} is not installed (Debian package redis-server; .ci/run installs it)"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis Python package is not installed (pip install redis)"
    return None


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (held open together so the OS gives distinct ones)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


class RedisNode:
    """One redis-server process in its own folder; stop() ends it, kill() ends it with SIGKILL."""

    def __init__(self, folder: Path, port: int, *options: str):
        self.folder, self.port, self.options = folder, port, options
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "RedisNode":
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                   "--save", "", "--appendonly", "no", "--logfile", "redis.log", *self.options]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_until(lambda: self.ping(), f"{self.address} did not start (see {self.folder}/redis.log)")
        return self

    def client(self, **options):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, **options)

    def ping(self) -> bool:
        try:
            with self.client(socket_connect_timeout=0.5) as conn:
                return bool(conn.ping())
        except Exception as err:  # noqa: BLE001 - a password-protected node answers NOAUTH: it is up
            return "auth" in str(err).lower()

    def info(self, section: str) -> dict:
        with self.client() as conn:
            return conn.info(section)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled cable would end it."""
        if self.alive():
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    @staticmethod
    def wait_until(condition, failure: str, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(failure)
            time.sleep(0.1)


class RedisCluster:
    """Six nodes (3 masters with 1 replica each) created with `redis-cli --cluster create`; start(), stop()."""

    def __init__(self, folder: Path, masters: int = 3, replicas: int = 1):
        self.folder = Path(folder)
        ports = free_ports(2 * masters * (1 + replicas))
        count = masters * (1 + replicas)
        self.replicas = replicas
        self.nodes = [self._node(port, bus) for port, bus in zip(ports[:count], ports[count:])]

    def _node(self, port: int, bus_port: int) -> RedisNode:
        return RedisNode(self.folder / str(port), port, "--cluster-enabled", "yes", "--cluster-port", str(bus_port),
                         "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                         "--cluster-replica-validity-factor", "0")

    def url(self, namespace: str, every_node: bool = False) -> str:
        """redis://HOST:PORT/NAME through the first node, or through all of them (any that answers is the entry)."""
        nodes = self.nodes if every_node else self.nodes[:1]
        return f"redis://{','.join(node.address for node in nodes)}/{namespace}"

    def start(self) -> "RedisCluster":
        for node in self.nodes:
            node.start()
        addresses = [node.address for node in self.nodes]
        subprocess.run(["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas),
                        "--cluster-yes"], check=True, capture_output=True, timeout=60)
        self.wait_healthy()
        return self

    def wait_healthy(self, seconds: float = 60.0) -> None:
        """Until every live node says cluster_state:ok and every master has its replicas attached and in sync."""
        RedisNode.wait_until(self.healthy, f"the test cluster in {self.folder} did not become healthy", seconds)

    def healthy(self) -> bool:
        try:
            live = [node for node in self.nodes if node.alive()]
            if any(_cluster_state(node) != "ok" for node in live):
                return False
            roles = [node.info("replication") for node in live]
            masters = [r for r in roles if r["role"] == "master"]
            attached = all(r.get("master_link_status") == "up" for r in roles if r["role"] == "slave")
            return attached and all(r["connected_slaves"] >= self.replicas for r in masters)
        except Exception:  # noqa: BLE001 - a node still starting or failing over: not healthy yet
            return False

    def masters(self) -> list[RedisNode]:
        return [node for node in self.nodes if node.alive() and node.info("replication")["role"] == "master"]

    def master_of(self, key: str) -> RedisNode:
        """The node that serves `key`'s slot now."""
        with self.nodes_alive()[0].client() as conn:
            slot = conn.execute_command("CLUSTER", "KEYSLOT", key)
            ranges = conn.execute_command("CLUSTER", "SLOTS")
        port = next(master[1] for start, end, master, *_ in ranges if start <= slot <= end)
        return next(node for node in self.nodes if node.port == port)

    def nodes_alive(self) -> list[RedisNode]:
        return [node for node in self.nodes if node.alive()]

    def wait_failover(self, killed: RedisNode, seconds: float = 30.0) -> None:
        """Until the cluster serves every slot again without `killed` (its replica promoted)."""
        def recovered() -> bool:
            try:
                return all(_cluster_state(node) == "ok" for node in self.nodes_alive()) and len(self.masters()) >= 3
            except Exception:  # noqa: BLE001
                return False

        RedisNode.wait_until(recovered, f"no failover after {killed.address} was killed", seconds)

    def heal(self, node: RedisNode) -> None:
        """Restart a killed node (it rejoins as a replica of its promoted replica) and wait for a healthy cluster."""
        node.start()
        self.wait_healthy()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _cluster_state(node: RedisNode) -> str:
    with node.client() as conn:
        return conn.execute_command("CLUSTER", "INFO").decode().split("cluster_state:")[1].split()[0]

