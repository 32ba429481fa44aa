# SPDX-License-Identifier: MIT
"""The original "Trying it out" of SQLedge, as its README tells it, against the scratch cluster."""

import contextlib

import psycopg2

import harness


def test_seed_try_it_out(pg, sqledge_factory):
    pg.execute("create database myappdatabase")
    pg.execute("create user sqledger with login superuser password 'secret'")
    sq = None
    try:
        seed = harness.Database(pg, "myappdatabase", slot="sqledge", publication="sqledge",
                                user="sqledger", password="secret")
        # only what the original passes, plus where the scratch cluster and proxy port are
        sq = sqledge_factory(seed, minimal_env=True, env={
            "SQLEDGE_UPSTREAM_USER": "sqledger",
            "SQLEDGE_UPSTREAM_PASSWORD": "secret",
            "SQLEDGE_UPSTREAM_NAME": "myappdatabase",
            "SQLEDGE_UPSTREAM_ADDRESS": "127.0.0.1",
            "SQLEDGE_UPSTREAM_PORT": str(pg.port),
            "SQLEDGE_PROXY_PORT": str(harness.free_port()),
        })
        sq.start()
        sq.wait_caught_up(seed)
        conn = psycopg2.connect(host="127.0.0.1", port=pg.port, user="sqledger",
                                password="secret", dbname="myappdatabase", connect_timeout=10)
        conn.autocommit = True
        with contextlib.closing(conn), conn.cursor() as cur:
            cur.execute("CREATE TABLE my_table (id serial not null primary key, names text)")
            cur.execute("INSERT INTO my_table (names) VALUES ('Jane'), ('John')")
        sq.wait_caught_up(seed)

        res = sq.run_sqlite3("./sqledge.db", ".schema")
        assert res.returncode == 0, res.stdout
        assert "my_table" in res.stdout, res.stdout
        res = sq.run_sqlite3("./sqledge.db", "select * from my_table")
        assert res.stdout.split() == ["1|Jane", "2|John"], res.stdout
        pos = sq.position()
        assert pos["slot_name"] == "sqledge"
        assert pos["publication"] == "sqledge"
        assert harness.parse_lsn(pos["lsn"]) > 0
        assert seed.slot_info()["temporary"] is False
        harness.assert_all_tables_equal(seed, sq)
    finally:
        if sq is not None:
            sq.cleanup()
        pg.drop_database("myappdatabase")  # with the "sqledge" slot; the publication goes too
        pg.execute("drop user if exists sqledger")
