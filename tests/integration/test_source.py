# SPDX-License-Identifier: MIT
"""[replication] source_address: the copy streams from another server than the one writes go
to. With one WAL history (here: the same server reached another way) read-your-writes works as
usual; with another (a different cluster) neither positions nor table OIDs can be matched, the
difference is logged and every read goes upstream."""

import contextlib

import harness
from test_local import counters


def test_source_with_the_same_history_keeps_read_your_writes(db, sqledge_factory):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    sq = sqledge_factory(db, env={"SQLEDGE_REPLICATION_SOURCE_ADDRESS": db.cluster.host,
                                  "SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
    sq.wait_caught_up()
    assert sq.status()["replication"]["state"] == "streaming"
    with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM notes")
        before = counters(sq)
        for i in range(10):
            cur.execute("INSERT INTO notes VALUES (%s, 'n')", (i,))
            cur.execute("SELECT body FROM notes WHERE id = %s", (i,))
            assert cur.fetchall() == [("n",)]
        local, forwarded = (a - b for a, b in zip(counters(sq), before))
    assert local == 10 and forwarded == 10, (local, forwarded)
    assert "does not share the upstream's WAL history" not in sq.log()


def test_source_with_another_history_reads_upstream_after_a_write(db, sqledge_factory):
    other = harness.PgCluster(name="source-pg")
    try:
        other.init().start()
        other.create_database(db.name)
        for target in (db, harness.Database(other, db.name)):
            target.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        harness.Database(other, db.name).execute("INSERT INTO notes VALUES (1, 'source')")
        db.execute("INSERT INTO notes VALUES (1, 'upstream')")
        sq = sqledge_factory(db, env={"SQLEDGE_REPLICATION_SOURCE_ADDRESS": "127.0.0.1",
                                      "SQLEDGE_REPLICATION_SOURCE_PORT": str(other.port),
                                      "SQLEDGE_UPSTREAM_PASSWORD": other.password,
                                      "SQLEDGE_PROXY_LOCAL_READS": "true"}).start()
        sq.wait_caught_up(harness.Database(other, db.name))
        assert "does not share the upstream's WAL history" in sq.log()
        # the copy's tables are the source's, whose OIDs the upstream's privilege checks do
        # not know: every read is the upstream's, before and after a write
        with contextlib.closing(sq.proxy_connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT body FROM notes WHERE id = 1")
            assert cur.fetchall() == [("upstream",)]
            cur.execute("UPDATE notes SET body = 'written' WHERE id = 1")
            cur.execute("SELECT body FROM notes WHERE id = 1")
            assert cur.fetchall() == [("written",)]
    finally:
        other.destroy()
