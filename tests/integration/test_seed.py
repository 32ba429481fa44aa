# SPDX-License-Identifier: MIT
"""The original "Trying it out" of SQLedge, as its README tells it, against the scratch cluster."""

import os
import subprocess

import harness


def test_seed_try_it_out(pg, sqledge_factory):
    pg.execute("create database myappdatabase")
    pg.execute("create user sqledger with login superuser password 'secret'")
    sq = None
    try:
        seed = harness.Database(pg, "myappdatabase", slot="sqledge", publication="sqledge",
                                user="sqledger", password="secret")
        proxy_port = harness.free_port()
        # only what the original passes, plus where the scratch cluster and proxy port are
        sq = sqledge_factory(seed, minimal_env=True, env={
            "SQLEDGE_UPSTREAM_USER": "sqledger",
            "SQLEDGE_UPSTREAM_PASSWORD": "secret",
            "SQLEDGE_UPSTREAM_NAME": "myappdatabase",
            "SQLEDGE_UPSTREAM_ADDRESS": "127.0.0.1",
            "SQLEDGE_UPSTREAM_PORT": str(pg.port),
            "SQLEDGE_PROXY_PORT": str(proxy_port),
        })
        sq.start()
        sq.wait_caught_up(seed)
        # step 4: "psql -h localhost -p 5433", here with the example's user and database
        env = pg.client_env()
        env.update(PGPASSWORD="secret")
        step4 = subprocess.run(
            [os.path.join(harness.PG_BINDIR, "psql"), "-X", "-v", "ON_ERROR_STOP=1",
             "-h", "localhost", "-p", str(proxy_port), "-U", "sqledger", "myappdatabase"],
            input="CREATE TABLE my_table (id serial not null primary key, names text);\n"
                  "INSERT INTO my_table (names) VALUES ('Jane'), ('John');\n"
                  "SELECT * FROM my_table;\n",
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert step4.returncode == 0, step4.stdout
        assert "CREATE TABLE\nINSERT 0 2\n" in step4.stdout, step4.stdout
        assert " 1 | Jane\n  2 | John\n(2 rows)" in step4.stdout, step4.stdout
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
