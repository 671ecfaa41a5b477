"""clickhouse-connect, ClickHouse's official Python client, against the processor's ClickHouse HTTP
interface: connects (its version, settings and protocol probes), reads with server-side
parameters in its default Native format, and is refused a write and a wrong password.
Usage: python clickhouse_connect_probe.py HOST PORT PASSWORD EVENT_PREFIX; prints one JSON object."""

import json
import sys

import clickhouse_connect
from clickhouse_connect.driver.exceptions import DatabaseError

host, port, password, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def refusal(run):
    try:
        run()
        return "ran"
    except DatabaseError as e:
        return {"code": e.code, "name": e.name}


client = clickhouse_connect.get_client(host=host, port=port, username="default", password=password)
# LowCardinality and DateTime64 columns: the Native decoder meets the engine's own encoding.
events = client.query(
    "SELECT event_id, user_id, event_type, event_time FROM raw_events FINAL"
    " WHERE event_id LIKE {p:String} AND user_id = {u:String} ORDER BY event_id",
    parameters={"p": prefix + "%", "u": "u-ch"},
)
strings = client.query(
    "SELECT {s:String} AS s, {a:Array(String)} AS a", parameters={"s": "it's\t\\", "a": ["it's", "b\\"]}
)
print(
    json.dumps(
        {
            "server_version": client.server_version,
            "ping": client.ping(),
            "events": [[i, u, t, time.isoformat()] for i, u, t, time in events.result_rows],
            "strings": [strings.result_rows[0][0], list(strings.result_rows[0][1])],
            "drop": refusal(lambda: client.command("DROP TABLE raw_events")),
            "insert": refusal(lambda: client.command("INSERT INTO raw_events (event_id) VALUES ('x')")),
            "wrong_password": refusal(
                lambda: clickhouse_connect.get_client(host=host, port=port, username="default", password="wrong")
            ),
        }
    )
)
