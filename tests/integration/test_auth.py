# SPDX-License-Identifier: MIT
"""Who may log in how: [proxy] hba_file's address rules (by user, database, transport and
TLS, first match decides, reloaded live), PostgreSQL's error text and SQLSTATE for a client
they refuse, and trust refused for addresses beyond loopback unless asked for."""

import contextlib
import hashlib
import os

import psycopg2
import pytest

import harness
from test_proxy import psql
from test_tls import make_ca, make_server_cert


def start(sqledge_factory, db, **env):
    settings = {"SQLEDGE_PROXY_WORKERS": "1"}
    settings.update(env)
    sq = sqledge_factory(db, env=settings).start()
    sq.wait_caught_up()
    return sq


@pytest.fixture
def roles(db):
    app = db.create_role("app_" + harness.unique_suffix(), password="apppw")
    other = db.create_role("other_" + harness.unique_suffix(), password="otherpw")
    return app, other


def write_rules(path, text):
    with open(path, "w") as f:
        f.write(text)


def refused(sq, **kw):
    with pytest.raises(psycopg2.OperationalError) as err:
        sq.proxy_connect(**kw)
    return str(err.value)


def test_address_rules(db, sqledge_factory, roles, tmp_path):
    app, other = roles
    d = str(tmp_path)
    os.chmod(d, 0o755)
    make_ca(d, "ca")
    cert, key = make_server_cert(d, "ca", "server")
    sock_dir = os.path.join(d, "sock")
    os.mkdir(sock_dir)
    os.chmod(sock_dir, 0o755)
    rules = os.path.join(d, "hba")
    write_rules(rules, "# the edge node\n"
                "local     all            all                password\n"
                "hostssl   all            %s      127.0.0.1/32 password\n"
                "hostnossl all            %s      all          reject\n"
                "host      %s             %s      127.0.0.0/8  password\n"
                "host      all            all     all          reject\n"
                % (other, other, db.name, app))
    sq = start(sqledge_factory, db, SQLEDGE_PROXY_HBA_FILE=rules,
               SQLEDGE_PROXY_UNIX_SOCKET_DIR=sock_dir, SQLEDGE_PROXY_TLS_CERT_FILE=cert,
               SQLEDGE_PROXY_TLS_KEY_FILE=key)
    # app may reach the database with its password, over TLS or not
    for sslmode in ("disable", "require"):
        with contextlib.closing(sq.proxy_connect(user=app, password="apppw",
                                                 sslmode=sslmode)) as conn:
            assert conn.info.ssl_in_use == (sslmode == "require")
    assert "password authentication failed" in refused(sq, user=app, password="wrong",
                                                       sslmode="disable")
    # other: over TLS only
    with contextlib.closing(sq.proxy_connect(user=other, password="otherpw",
                                             sslmode="require")):
        pass
    msg = refused(sq, user=other, password="otherpw", sslmode="disable")
    assert ('sqledge hba_file rejects connection for host "127.0.0.1", user "%s", database '
            '"%s", no encryption' % (other, db.name)) in msg, msg
    # no line for app in another database
    msg = refused(sq, user=app, password="apppw", dbname="postgres", sslmode="disable")
    assert ('no sqledge hba_file entry for host "127.0.0.1", user "%s", database "postgres", '
            'no encryption' % app) not in msg  # the catch-all reject line matches first
    assert "sqledge hba_file rejects connection" in msg, msg
    # the Unix socket: its own line (a password, in clear: it never leaves the host)
    out = psql(db, sq.proxy_port, "-c", "SELECT current_user", host=sock_dir).stdout
    assert db.user in out
    res = psql(db, sq.proxy_port, "-c", "SELECT 1", host=sock_dir, password="wrong",
               check=False)
    assert "password authentication failed" in res.stdout, res.stdout

    # a reload takes new rules without dropping sessions; a line that is not there refuses
    with contextlib.closing(sq.proxy_connect(user=app, password="apppw",
                                             sslmode="disable")) as kept:
        write_rules(rules, "host %s %s 127.0.0.1 password\n" % (db.name, other))
        out = harness.sqledgectl(sq, "reload").stdout
        assert "warning" not in out, out
        harness.wait_for(lambda: "no sqledge hba_file entry" in refused(
            sq, user=app, password="apppw", sslmode="disable"), 30, "the new rules")
        msg = refused(sq, user=app, password="apppw", sslmode="disable")
        assert ('no sqledge hba_file entry for host "127.0.0.1", user "%s", database "%s", '
                'no encryption' % (app, db.name)) in msg, msg
        with contextlib.closing(sq.proxy_connect(user=other, password="otherpw",
                                                 sslmode="disable")):
            pass
        with kept.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
        # rules that cannot be read keep the ones that work
        write_rules(rules, "host all all all ident\n")
        out = harness.sqledgectl(sq, "reload").stdout
        assert "the method must be password, scram-sha-256, md5, trust or reject" in out, out
        with contextlib.closing(sq.proxy_connect(user=other, password="otherpw",
                                                 sslmode="disable")):
            pass


def test_rules_that_cannot_be_read_stop_sqledge_at_start(db, sqledge_factory, tmp_path):
    rules = str(tmp_path / "hba")
    write_rules(rules, "host all all 10.0.0.0/99 password\n")
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_HBA_FILE": rules})
    sq.start()
    assert sq.proc.wait(timeout=30) != 0
    assert "hba:1: the address must be all" in sq.log(), sq.log()


def test_trust_beyond_loopback_needs_trust_remote(db, sqledge_factory, tmp_path):
    # refused before anything listens: nothing is bound to the address
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_AUTH": "trust",
                                  "SQLEDGE_PROXY_ADDRESS": "0.0.0.0"})
    sq.start()
    assert sq.proc.wait(timeout=30) != 0
    assert "[proxy] auth = trust lets clients from other hosts in" in sq.log(), sq.log()
    rules = str(tmp_path / "hba")
    write_rules(rules, "host all all 192.0.2.0/24 trust\n")
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_HBA_FILE": rules,
                                  "SQLEDGE_PROXY_ADDRESS": "0.0.0.0"})
    sq.start()
    assert sq.proc.wait(timeout=30) != 0
    assert "a trust line of [proxy] hba_file" in sq.log(), sq.log()
    # on loopback, trust is fine (the cluster trusts logins over its Unix socket)
    sq = start(sqledge_factory, db, SQLEDGE_PROXY_AUTH="trust",
               SQLEDGE_UPSTREAM_ADDRESS=db.cluster.host)
    with contextlib.closing(sq.proxy_connect(password="")) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone() == (db.user,)


def test_scram_auth_file(db, sqledge_factory, tmp_path):
    """auth = scram: the users of an auth file log in with SCRAM-SHA-256 (with channel binding
    over TLS) or md5, never asking the upstream; a verifier's user runs upstream as [upstream]
    user, a password's user as itself."""
    d = str(tmp_path)
    os.chmod(d, 0o755)
    make_ca(d, "ca")
    cert, key = make_server_cert(d, "ca", "server")
    app = db.create_role("app_" + harness.unique_suffix(), password="apppw")
    plain = db.create_role("plain_" + harness.unique_suffix(), password="plainpw")
    verifier = db.cluster.query("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                                (app,))[0][0]
    assert verifier.startswith("SCRAM-SHA-256$")
    md5 = "md5" + hashlib.md5(b"md5pw" + b"legacy").hexdigest()
    users = os.path.join(d, "userlist.txt")
    with open(users, "w") as f:
        f.write('; the edge users\n"%s" "%s"\n"%s" "plainpw"\n"legacy" "%s"\n'
                % (app, verifier, plain, md5))
    sq = start(sqledge_factory, db, SQLEDGE_PROXY_AUTH="scram",
               SQLEDGE_PROXY_AUTH_FILE=users, SQLEDGE_PROXY_TLS_CERT_FILE=cert,
               SQLEDGE_PROXY_TLS_KEY_FILE=key)
    for sslmode, binding in (("disable", "disable"), ("require", "require")):
        with contextlib.closing(sq.proxy_connect(user=app, password="apppw", sslmode=sslmode,
                                                 channel_binding=binding)) as conn:
            assert conn.info.ssl_in_use == (sslmode == "require")
            with conn.cursor() as cur:
                cur.execute("SELECT session_user")
                assert cur.fetchone() == (db.user,)  # [upstream] user, as documented
    assert "password authentication failed for user \"%s\"" % app in refused(
        sq, user=app, password="wrong", sslmode="disable")
    # an unknown user fails the same way, at the end of the exchange
    assert "password authentication failed for user \"nobody\"" in refused(
        sq, user="nobody", password="x", sslmode="disable")
    # channel binding cannot be had without TLS: libpq itself refuses
    assert "channel binding" in refused(sq, user=app, password="apppw", sslmode="disable",
                                        channel_binding="require")
    # a password in the file: the user's own session upstream
    with contextlib.closing(sq.proxy_connect(user=plain, password="plainpw",
                                             sslmode="disable")) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT session_user")
            assert cur.fetchone() == (plain,)
    # an md5 secret: the md5 challenge
    with contextlib.closing(sq.proxy_connect(user="legacy", password="md5pw",
                                             sslmode="disable")) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    assert "password authentication failed" in refused(sq, user="legacy", password="nope",
                                                       sslmode="disable")
