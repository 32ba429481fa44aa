# SPDX-License-Identifier: MIT
"""TLS for clients: a certificate made by the test's own CA, psql and psycopg2 with
sslmode=require and verify-full, a server without a certificate, tls_require, unencrypted bytes
after an SSLRequest, and a renewed certificate picked up by a reload without dropping
sessions."""

import contextlib
import os
import socket
import struct
import subprocess

import psycopg2
import pytest

import harness
from test_local import counters, start
from test_proxy import _outbound_address, psql


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(directory, name):
    """A CA (name.crt, name.key) of its own."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
            "-subj", "/CN=sqledge test " + name, cwd=directory)
    return os.path.join(directory, name + ".crt")


def make_server_cert(directory, ca, name):
    """A certificate for localhost and 127.0.0.1 signed by ca (name.crt, name.key)."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=localhost",
            cwd=directory)
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", ext,
            cwd=directory)
    return os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")


@pytest.fixture
def pki(tmp_path):
    d = str(tmp_path)
    os.chmod(d, 0o755)
    make_ca(d, "ca1")
    make_ca(d, "ca2")
    cert, key = make_server_cert(d, "ca1", "server")
    return {"dir": d, "ca1": os.path.join(d, "ca1.crt"), "ca2": os.path.join(d, "ca2.crt"),
            "cert": cert, "key": key}


def tls_env(pki, **more):
    env = {"SQLEDGE_PROXY_TLS_CERT_FILE": pki["cert"], "SQLEDGE_PROXY_TLS_KEY_FILE": pki["key"]}
    env.update(more)
    return env


@pytest.fixture
def notes(db):
    db.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    db.execute("INSERT INTO notes VALUES (1, 'one'), (2, 'two')")


def test_clients_connect_with_sslmode_require_and_verify_full(db, sqledge_factory, pki,
                                                              notes):
    sq = start(sqledge_factory, db, **tls_env(pki))
    out = psql(db, sq.proxy_port, "-d", "sslmode=require dbname=%s" % db.name, "-c",
               "SELECT body FROM notes WHERE id = 1").stdout
    assert "one" in out, out
    for host in ("localhost", "127.0.0.1"):  # the certificate names both
        with contextlib.closing(sq.proxy_connect(host=host, sslmode="verify-full",
                                                 sslrootcert=pki["ca1"])) as conn:
            assert conn.info.ssl_in_use
            assert conn.info.ssl_attribute("protocol") in ("TLSv1.2", "TLSv1.3")
            with conn.cursor() as cur:
                local, _ = counters(sq)
                cur.execute("SELECT id, body FROM notes ORDER BY id")
                assert cur.fetchall() == [(1, "one"), (2, "two")]
                assert counters(sq)[0] == local + 1  # answered locally, through TLS
                cur.execute("INSERT INTO notes VALUES (3, 'three') RETURNING id")
                assert cur.fetchone() == (3,)
                cur.execute("DELETE FROM notes WHERE id = 3")
    # a server certificate of another CA is refused by the client
    with pytest.raises(psycopg2.OperationalError) as err:
        sq.proxy_connect(host="localhost", sslmode="verify-full", sslrootcert=pki["ca2"])
    assert "certificate verify failed" in str(err.value)


def test_a_client_that_requires_tls_from_a_server_without_a_certificate(db, sqledge_factory,
                                                                         notes):
    sq = start(sqledge_factory, db)
    res = psql(db, sq.proxy_port, "-d", "sslmode=require dbname=%s" % db.name, "-c",
               "SELECT 1", check=False)
    assert res.returncode != 0
    assert "server does not support SSL, but SSL was required" in res.stdout, res.stdout
    # sslmode=prefer (libpq's default) falls back to a plain connection
    with contextlib.closing(sq.proxy_connect(sslmode="prefer")) as conn:
        assert not conn.info.ssl_in_use
        with conn.cursor() as cur:
            cur.execute("SELECT body FROM notes WHERE id = 2")
            assert cur.fetchone() == ("two",)


def test_tls_require(db, sqledge_factory, pki, notes, tmp_path):
    sock_dir = str(tmp_path / "sock")
    os.mkdir(sock_dir)
    os.chmod(sock_dir, 0o755)
    sq = start(sqledge_factory, db, **tls_env(pki, SQLEDGE_PROXY_TLS_REQUIRE="all",
                                             SQLEDGE_PROXY_UNIX_SOCKET_DIR=sock_dir))
    with pytest.raises(psycopg2.OperationalError) as err:
        sq.proxy_connect(sslmode="disable")
    assert "sqledge requires TLS for connections from 127.0.0.1" in str(err.value)
    with contextlib.closing(sq.proxy_connect(sslmode="require")) as conn:
        assert conn.info.ssl_in_use
    # the Unix socket needs none
    out = psql(db, sq.proxy_port, "-c", "SELECT body FROM notes WHERE id = 1",
               host=sock_dir).stdout
    assert "one" in out


def test_tls_require_on_lets_loopback_clients_go_without(db, sqledge_factory, pki, notes):
    sq = start(sqledge_factory, db, **tls_env(pki, SQLEDGE_PROXY_TLS_REQUIRE="on"))
    with contextlib.closing(sq.proxy_connect(sslmode="disable")) as conn:
        assert not conn.info.ssl_in_use
        with conn.cursor() as cur:
            cur.execute("SELECT body FROM notes WHERE id = 1")
            assert cur.fetchone() == ("one",)


def test_unencrypted_bytes_after_an_sslrequest_are_refused(db, sqledge_factory, pki):
    sq = start(sqledge_factory, db, **tls_env(pki))
    startup = b"user\0" + db.user.encode() + b"\0database\0" + db.name.encode() + b"\0\0"
    startup = struct.pack("!ii", 8 + len(startup), 196608) + startup
    with socket.create_connection(("127.0.0.1", sq.proxy_port), timeout=10) as s:
        # the StartupMessage in the same segment as the SSLRequest, before the 'S'
        s.sendall(struct.pack("!ii", 8, 80877103) + startup)
        answer = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer[:1] == b"E", answer
    assert b"received unencrypted data after SSL request" in answer
    assert b"08P01" in answer


def test_a_renewed_certificate_is_used_after_a_reload(db, sqledge_factory, pki, notes):
    sq = start(sqledge_factory, db, **tls_env(pki))
    old = sq.proxy_connect(host="localhost", sslmode="verify-full", sslrootcert=pki["ca1"])
    try:
        # renewed in place: a certificate of the second CA under the same file names
        cert, key = make_server_cert(pki["dir"], "ca2", "renewed")
        os.replace(cert, pki["cert"])
        os.replace(key, pki["key"])
        out = harness.sqledgectl(sq, "reload").stdout
        assert "warning" not in out, out
        harness.wait_for(lambda: _connects(sq, pki["ca2"]), 30,
                         "a connection that sees the renewed certificate", alive=sq)
        with pytest.raises(psycopg2.OperationalError):
            sq.proxy_connect(host="localhost", sslmode="verify-full", sslrootcert=pki["ca1"])
        # the session that started before goes on with its own
        with old.cursor() as cur:
            cur.execute("SELECT body FROM notes WHERE id = 2")
            assert cur.fetchone() == ("two",)
        # a broken file keeps the certificate that works
        with open(pki["key"], "w") as f:
            f.write("not a key\n")
        out = harness.sqledgectl(sq, "reload").stdout
        assert "tls_key_file" in out, out
        assert _connects(sq, pki["ca2"])
    finally:
        old.close()


def _connects(sq, ca):
    try:
        with contextlib.closing(sq.proxy_connect(host="localhost", sslmode="verify-full",
                                                 sslrootcert=ca)):
            return True
    except psycopg2.OperationalError:
        return False


def test_a_certificate_that_cannot_be_used_stops_sqledge_at_start(db, sqledge_factory, pki):
    sq = sqledge_factory(db, env={"SQLEDGE_PROXY_TLS_CERT_FILE": pki["cert"],
                                  "SQLEDGE_PROXY_TLS_KEY_FILE": pki["ca1"]})  # not its key
    sq.start()
    assert sq.proc.wait(timeout=30) != 0
    assert "cannot load [proxy] tls_key_file" in sq.log(), sq.log()


def test_tls_require_on_refuses_clients_beyond_loopback_in_clear(db, sqledge_factory, pki):
    addr = _outbound_address()  # an address of this host's own that is not loopback
    assert not addr.startswith("127."), "no non-loopback address on this host: %s" % addr
    sq = start(sqledge_factory, db, **tls_env(pki, SQLEDGE_PROXY_TLS_REQUIRE="on",
                                             SQLEDGE_PROXY_ADDRESS="127.0.0.1," + addr))
    with pytest.raises(psycopg2.OperationalError) as err:
        sq.proxy_connect(host=addr, sslmode="disable")
    assert "sqledge requires TLS for connections from %s" % addr in str(err.value)
    # over TLS the same client logs in with its password
    with contextlib.closing(sq.proxy_connect(host=addr, sslmode="require")) as conn:
        assert conn.info.ssl_in_use
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    # loopback may still go in clear
    with contextlib.closing(sq.proxy_connect(sslmode="disable")) as conn:
        assert not conn.info.ssl_in_use
