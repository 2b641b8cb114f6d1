"""The connection to a Redis Cluster or a standalone Redis server: the target URL, one-line errors, pipelines routed per node, reads retried across a failover.

redis-py's cluster client (`redis.RedisCluster`) already groups a pipeline's commands per node (one round trip
per node), follows MOVED/ASK and refreshes its slot map after connection errors. Its own retries of a command
after a connection error or timeout are switched off, on both clients: they resend a command whose reply was
lost, which may have run. A failover takes a few seconds (the cluster node timeout plus an election): `Link.read`
retries a whole read for up to REDIS_FAILOVER_SECONDS, refreshing the slot map between tries, then names the nodes
that did not answer. Writes are never retried (an APPEND sent twice would store a pair twice): a write that fails
ends the command with an error, and what it left half-done is invisible to scans and cleaned by the next writer.

EVAL calls are routed to their node by the caller (`target_nodes`): redis-py would otherwise ask a server
which keys an EVAL touches (`COMMAND GETKEYS`), one round trip per script call.
"""

from __future__ import annotations

import dataclasses
import re
import time
from urllib.parse import unquote, urlsplit

from detector.errors import DatabaseError, StoreUnavailable
from detector.paths import shown_target
from detector.settings import REDIS_FAILOVER_SECONDS

NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclasses.dataclass(frozen=True)
class Target:
    """What `redis://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]/NAME` (or rediss:// for TLS) says: entry nodes, corpus name."""

    entries: tuple  # (host, port) of each entry node given: the first that answers introduces the cluster
    name: str
    username: str | None
    password: str | None
    tls: bool

    @property
    def location(self) -> str:
        """The target for messages, without the password."""
        scheme = "rediss" if self.tls else "redis"
        secret = f"{self.username or ''}:***@" if self.password else ""
        return f"{scheme}://{secret}{','.join(f'{h}:{p}' for h, p in self.entries)}/{self.name}"


def parse_target(url: str) -> Target:
    """The parts of a redis:// URL; a missing or odd corpus NAME is a one-line error."""
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    entries = []
    for item in filter(None, hosts.split(",")):
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "6379")
        if not port.isdigit():
            raise DatabaseError(f"{_redacted(url)}: the port of {item} is not a number; write redis://HOST:PORT/NAME")
        entries.append((host.strip("[]") or "127.0.0.1", int(port)))
    name = parts.path.strip("/")
    if not NAME_PATTERN.fullmatch(name):
        raise DatabaseError(f"{_redacted(url)}: name the corpus after the address, e.g. redis://HOST:PORT/archive "
                            "(letters, digits, . _ -: several corpora can share one cluster)")
    return Target(tuple(entries) or (("127.0.0.1", 6379),), name, unquote(username) or None,
                  unquote(password) or None, parts.scheme == "rediss")


def _redacted(url: str) -> str:
    return shown_target(url)


class Link:
    """One client (cluster or standalone) for a target, with routed pipelines and retried reads."""

    def __init__(self, target: Target):
        import redis

        self.redis = redis
        self.target = target
        self.location = target.location
        self.client, self.cluster = self._connect()

    def _options(self) -> dict:
        return {"username": self.target.username, "password": self.target.password, "ssl": self.target.tls,
                "socket_timeout": 10, "socket_connect_timeout": 5}

    @staticmethod
    def _no_retries():
        """No retries of redis-py's own: it resends a command whose reply was lost (a dropped connection, a timeout),
        which may have run — an APPEND of postings would be stored again. Reads are retried by `read`, writes never."""
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return Retry(NoBackoff(), 0)

    def _connect(self):
        """A client through the first entry node that answers: a cluster client if it is a cluster node."""
        first_error = None
        for host, port in self.target.entries:
            probe = self.redis.Redis(host=host, port=port, retry=self._no_retries(), **self._options())
            try:
                cluster = bool(probe.info("cluster").get("cluster_enabled"))
                break
            except self.redis.ConnectionError as err:  # that node is down: try the next entry
                probe.close()
                first_error = first_error or (err, host, port)
            except Exception as err:  # noqa: BLE001 - every other failure to talk to the server becomes one line
                probe.close()
                raise self._opening_error(err, host, port) from None
        else:
            raise self._opening_error(*first_error) from None
        if not cluster:
            return probe, False
        probe.close()
        from redis.backoff import ExponentialBackoff
        from redis.cluster import ClusterNode
        from redis.retry import Retry

        nodes = [ClusterNode(h, p) for h, p in [(host, port)] + [e for e in self.target.entries if e != (host, port)]]
        try:  # opening reads the cluster's layout and commands: retried past a node that dies meanwhile
            client = self.redis.RedisCluster(startup_nodes=nodes, retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 3),
                                             **self._options())
        except Exception as err:  # noqa: BLE001
            raise self._opening_error(err, host, port) from None
        client.set_retry(self._no_retries())  # from here on (its node connections never retry; MOVED/ASK still followed)
        return client, True

    def _opening_error(self, err: Exception, host: str, port: int) -> DatabaseError:
        where = f"{host}:{port}"
        text = _one_line(err)
        asked = isinstance(err, self.redis.AuthenticationError) or any(s in text for s in ("NOAUTH", "WRONGPASS", "authenticated"))
        if asked and self.target.password is None:
            return DatabaseError(f"{self.location}: the Redis server at {where} needs a password (none was given); "
                                 "give it as redis://:PASSWORD@HOST:PORT/NAME")
        if asked:
            return DatabaseError(f"{self.location}: the Redis server at {where} refused the password ({text}); "
                                 "give it as redis://:PASSWORD@HOST:PORT/NAME")
        if isinstance(err, self.redis.ConnectionError) and "protocol" not in text.lower():
            return DatabaseError(f"{self.location}: cannot connect to a Redis server at {where} ({text}); "
                                 "check the address and that the server runs")
        return DatabaseError(f"{self.location}: {where} does not answer as a Redis server ({text}); check the address")

    # --- pipelines ---
    def run(self, commands) -> list:
        """Send (args, routing key or None) commands in one pipeline (one round trip per node); their replies."""
        pipe = self.client.pipeline(transaction=False)
        for args, route in commands:
            if self.cluster and route is not None:
                pipe.execute_command(*args, target_nodes=self._node_of(route))
            else:
                pipe.execute_command(*args)
        return pipe.execute()

    def _node_of(self, key):
        from redis.crc import key_slot

        return self.client.nodes_manager.get_node_from_slot(key_slot(self.client.encoder.encode(key)))

    # --- faults ---
    def transient(self) -> tuple:
        """Errors a failover causes: the read is tried again."""
        e = self.redis.exceptions
        return (e.ConnectionError, e.TimeoutError, e.ClusterDownError, e.TryAgainError, e.ClusterError,
                e.SlotNotCoveredError, e.MasterDownError, e.MovedError, e.AskError, e.BusyLoadingError,
                e.ReadOnlyError)

    def read(self, function, *args, **kwargs):
        """function(*args, **kwargs), tried again while the cluster fails over, up to REDIS_FAILOVER_SECONDS."""
        deadline = time.monotonic() + REDIS_FAILOVER_SECONDS
        pause = 0.1
        while True:
            try:
                return function(*args, **kwargs)
            except self.transient() as err:
                if time.monotonic() > deadline:
                    raise self.unreachable(err) from None
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
                self._refresh()
            except self.redis.RedisError as err:
                raise DatabaseError(f"{self.location}: the Redis server refused a read ({_one_line(err)})") from None

    def idempotent(self, function, *args, **kwargs):
        """A write that does no harm sent twice (HSET of the same value; an INCR that skips a number), retried like a read."""
        return self.read(function, *args, **kwargs)

    def write(self, function, *args, **kwargs):
        """function(*args, **kwargs); a failure is a one-line error (the command is not sent again)."""
        try:
            return function(*args, **kwargs)
        except self.redis.RedisError as err:
            raise DatabaseError(f"{self.location}: writing stopped, {self._failed_nodes(err)} ({_one_line(err)}); "
                                "nothing half-written is visible to scans: run the command again") from None

    def unreachable(self, err: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"{self.location}: {self._failed_nodes(err)} for {REDIS_FAILOVER_SECONDS} s "
                             f"({_one_line(err)}); {self._remedy()}")

    def _remedy(self) -> str:
        """What to do when the servers stay unreachable: a standalone server to start, a cluster's nodes to check."""
        if self.cluster:
            return ("the cluster is down or could not fail over: check its nodes (redis-cli --cluster check HOST:PORT), "
                    "then run the command again")
        host, port = self._server()
        return f"check that the Redis server runs (redis-cli -h {host} -p {port} ping), then run the command again"

    def _server(self) -> tuple:
        """(host, port) of a standalone server."""
        kwargs = self.client.connection_pool.connection_kwargs
        return kwargs.get("host"), kwargs.get("port")

    def _failed_nodes(self, err: Exception) -> str:
        down = self.nodes_down()
        if down:
            return "the Redis node" + ("s " if len(down) > 1 else " ") + ", ".join(down) + " did not answer"
        return "the Redis cluster did not serve every slot"

    def nodes_down(self) -> list[str]:
        """host:port of the known nodes that do not answer a PING now."""
        if not self.cluster:
            return [] if self._pings(self.client) else ["%s:%s" % self._server()]
        down = []
        for node in self.client.get_nodes():
            if not self._pings(self.redis.Redis(host=node.host, port=node.port, retry=self._no_retries(),
                                                **{**self._options(), "socket_timeout": 1, "socket_connect_timeout": 1})):
                down.append(node.name)
        return down

    def evicting_nodes(self) -> list[str]:
        """'host:port (policy)' of the servers that drop keys when full: a maxmemory and a policy other than noeviction."""
        return [f"{name} ({policy})" for name, policy, evicts, _ in self.eviction() if evicts]

    def eviction(self) -> list[tuple]:
        """(host:port, maxmemory-policy, whether it drops keys when full, keys it has evicted since it started) per server."""
        facts = []
        for name, client in self._servers():
            memory = self.read(client.info, "memory")
            policy = memory.get("maxmemory_policy", "noeviction")
            evicted = int(self.read(client.info, "stats").get("evicted_keys", 0))
            facts.append((name, policy, bool(int(memory.get("maxmemory", 0))) and policy != "noeviction", evicted))
        return facts

    def _servers(self) -> list[tuple]:
        """(host:port, client) of each server: a standalone one, or every node of the cluster."""
        if self.cluster:
            return [(node.name, self.client.get_redis_connection(node)) for node in self.client.get_nodes()]
        return [("%s:%s" % self._server(), self.client)]

    def _pings(self, client) -> bool:
        try:
            return bool(client.ping())
        except Exception:  # noqa: BLE001
            return False

    def _refresh(self) -> None:
        if self.cluster:
            try:
                self.client.nodes_manager.initialize()
            except Exception:  # noqa: BLE001 - no node answers yet: try again after the next pause
                pass

    def keys_with_prefix(self, prefix: bytes) -> list:
        """Keys starting with `prefix`, which holds a hash tag: they all live in that tag's slot.

        On a cluster the slot's keys are listed by its node (CLUSTER GETKEYSINSLOT), not the whole keyspace."""
        if not self.cluster:
            return [k for k in self.client.scan_iter(match=prefix + b"*", count=5000)]
        from redis.crc import key_slot

        slot = key_slot(prefix)
        node = self.client.get_redis_connection(self.client.nodes_manager.get_node_from_slot(slot))
        count = node.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot)
        keys = node.execute_command("CLUSTER", "GETKEYSINSLOT", slot, count) if count else []
        return [k for k in keys if k.startswith(prefix)]

    def unlink(self, keys) -> int:
        """Delete keys, many per command where they share a slot; returns how many existed."""
        from redis.crc import key_slot

        by_slot: dict = {}
        for key in keys:
            by_slot.setdefault(key_slot(self.client.encoder.encode(key)) if self.cluster else 0, []).append(key)
        commands = [(("UNLINK", *group[i:i + 1000]), group[i]) for group in by_slot.values()
                    for i in range(0, len(group), 1000)]
        return sum(sum(self.run(commands[i:i + 500])) for i in range(0, len(commands), 500))

    def memory(self) -> int:
        """Bytes the masters hold (all their data, not only this corpus's)."""
        if not self.cluster:
            return self.client.info("memory")["used_memory"]
        return sum(self.client.get_redis_connection(n).info("memory")["used_memory"] for n in self.client.get_primaries())

    def close(self) -> None:
        self.client.close()


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__
