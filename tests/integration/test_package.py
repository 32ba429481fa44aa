# SPDX-License-Identifier: MIT
"""The Debian package: built from packaging/debian with dpkg-buildpackage, installed with dpkg
on this machine, the unit's ExecStart run as the package's sqledge user against the test
upstream, then purged. Installing needs root, or sudo without a password."""

import glob
import json
import os
import shlex
import shutil
import subprocess

import pytest

import harness

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT = "/lib/systemd/system/sqledge.service"


def as_root(*cmd, **kw):
    """Runs cmd as root: directly when we are, else through sudo -n."""
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(prefix + list(cmd), stdin=subprocess.DEVNULL, **kw)


def root_problem():
    if os.geteuid() == 0:
        return None
    if shutil.which("sudo") is None:
        return "not root and no sudo"
    if subprocess.run(["sudo", "-n", "true"], stdin=subprocess.DEVNULL,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        return "not root, and sudo asks for a password"
    return None


def source_tree(dest):
    """The repository's files (tracked, and new ones not ignored) copied to dest."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           stdout=subprocess.PIPE, check=True).stdout.split(b"\0")
    for name in files:
        if not name:
            continue
        name = name.decode()
        src = os.path.join(REPO, name)
        if not os.path.isfile(src):
            continue
        os.makedirs(os.path.join(dest, os.path.dirname(name)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, name))
    shutil.copytree(os.path.join(dest, "packaging", "debian"), os.path.join(dest, "debian"))


def test_debian_package_installs_and_runs(db, tmp_path):
    problem = root_problem()
    if problem:
        pytest.fail("the package test needs root: %s (run it as root or with password-less "
                    "sudo)" % problem, pytrace=False)
    for tool in ("dpkg-buildpackage", "dh"):
        if shutil.which(tool) is None:
            pytest.fail("%s is missing: scripts/install-deps.sh installs it (debhelper, "
                        "dpkg-dev)" % tool, pytrace=False)
    db.execute("CREATE TABLE pkg (id int PRIMARY KEY, v text);"
               "INSERT INTO pkg SELECT g, 'v' || g FROM generate_series(1, 100) g")
    src = str(tmp_path / "src")
    source_tree(src)
    build = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-4000:]
    debs = glob.glob(str(tmp_path / "sqledge_*.deb"))
    assert len(debs) == 1, os.listdir(tmp_path)
    contents = subprocess.run(["dpkg-deb", "-c", debs[0]], stdout=subprocess.PIPE, text=True,
                              check=True).stdout
    scripts = subprocess.run(["dpkg-deb", "-I", debs[0], "prerm"], stdout=subprocess.PIPE,
                             text=True).stdout
    assert "deb-systemd-invoke stop" in scripts, scripts  # removal stops the service
    for path in ("./usr/bin/sqledge", "./usr/bin/sqledgectl", "./etc/sqledge.ini",
                 "./lib/systemd/system/sqledge.service", "./usr/share/man/man8/sqledge.8",
                 "./usr/share/man/man8/sqledgectl.8", "./usr/share/man/man5/sqledge.ini.5"):
        assert path in contents, (path, contents)

    proc = None
    try:
        out = as_root("dpkg", "-i", debs[0])
        assert out.returncode == 0, out.stdout
        assert subprocess.run(["getent", "passwd", "sqledge"], stdout=subprocess.PIPE,
                              text=True).stdout.startswith("sqledge:")
        st = os.stat("/etc/sqledge.ini")
        assert st.st_mode & 0o777 == 0o640
        if shutil.which("systemd-analyze"):
            verify = subprocess.run(["systemd-analyze", "verify", UNIT], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=60)
            # only complaints about this unit count (a container may lack others)
            mine = [line for line in verify.stdout.splitlines() if "sqledge.service" in line]
            assert not mine, verify.stdout

        # the unit's ExecStart, as its user, in its directories (which systemd would make)
        with open(UNIT) as f:
            execstart = [line.split("=", 1)[1] for line in f.read().splitlines()
                         if line.startswith("ExecStart=")]
        assert execstart == ["/usr/bin/sqledge -c /etc/sqledge.ini"], execstart
        for d in ("/var/lib/sqledge", "/run/sqledge"):
            out = as_root("install", "-d", "-o", "sqledge", "-g", "sqledge", "-m", "0750", d)
            assert out.returncode == 0, out.stdout
        env = ["SQLEDGE_UPSTREAM_ADDRESS=127.0.0.1",
               "SQLEDGE_UPSTREAM_PORT=%d" % db.cluster.port,
               "SQLEDGE_UPSTREAM_USER=%s" % db.user, "SQLEDGE_UPSTREAM_PASSWORD=%s" % db.password,
               "SQLEDGE_UPSTREAM_NAME=%s" % db.name,
               "SQLEDGE_REPLICATION_SLOT_NAME=%s" % db.slot,
               "SQLEDGE_REPLICATION_PUBLICATION=%s" % db.publication,
               "SQLEDGE_PROXY_PORT=%d" % harness.free_port()]
        # a clean environment, as systemd gives the service
        cmd = ["runuser", "-u", "sqledge", "--", "env", "-i", "PATH=/usr/bin:/bin", *env,
               *shlex.split(execstart[0])]
        prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
        log = open(str(tmp_path / "sqledge.log"), "w")
        proc = subprocess.Popen(prefix + cmd, cwd="/", stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
        target = db.insert_lsn()

        def caught_up():
            out = as_root("runuser", "-u", "sqledge", "--", "sqledgectl", "-c",
                          "/etc/sqledge.ini", "status", "--json", timeout=30,
                          stderr=subprocess.PIPE)
            assert proc.poll() is None, open(log.name).read()
            if out.returncode != 0:
                raise AssertionError("sqledgectl: %s %s" % (out.stdout, out.stderr))
            status = json.loads(out.stdout)
            rep = status["replication"]
            caught_up.master = status["pid"]
            return rep["state"] == "streaming" and \
                harness.parse_lsn(rep["applied_lsn"]) >= target

        harness.wait_for(caught_up, 120, "the packaged sqledge to catch up")
        out = as_root("sqlite3", "/var/lib/sqledge/sqledge.db", "SELECT count(*) FROM pkg")
        assert out.stdout.strip() == "100", out.stdout
        out = as_root("stat", "-c", "%U %a", "/var/lib/sqledge/sqledge.db.1")
        assert out.stdout.split()[0] == "sqledge", out.stdout
        # systemd's KillMode=mixed: SIGTERM to the master alone
        as_root("kill", "-TERM", str(caught_up.master))
        assert proc.wait(timeout=60) == 0, open(log.name).read()
        proc = None
        assert "sqledge stopped" in open(log.name).read()
    finally:
        if proc is not None:
            as_root("pkill", "-KILL", "-u", "sqledge")
            proc.wait(timeout=30)
        as_root("dpkg", "--purge", "sqledge")
        as_root("rm", "-rf", "/run/sqledge", "/var/lib/sqledge")
    assert not os.path.exists("/usr/bin/sqledge")
