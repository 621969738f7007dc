"""A private Postfix instance for integration tests (the home box, or a
remote MX). Never the system's Postfix: its own config directory, queue,
data directory and Maildir under a temp dir, listening on one loopback
address:port given in master.cf.

    with PrivatePostfix("127.0.5.2", 2526, domains=["example.test"],
                        tls_cert=cert, tls_key=key) as pf:
        ... deliver to it ...
        pf.wait_messages(1)   # Maildir files of delivered messages

Needs root (Postfix's master runs as root and drops to mail_owner). Lessons
learnt setting it up here, kept so nobody has to rediscover them:
  * Postfix logs its fatal errors to syslog, which does not exist in these
    sandboxes: maillog_file is set, and maillog_file_prefixes must allow it.
  * inet_interfaces must name interface addresses; 127.x.y.z other than
    127.0.0.1 are not interface addresses, so it is "all" and the address
    goes into the master.cf service name.
  * data_directory must be owned by the mail_owner.
  * `postfix -c DIR` wants a default main.cf to exist; Debian's "No
    configuration" install has none, so a minimal one naming the test
    directories in alternate_config_directories is written if absent.
"""

import glob
import os
import pwd
import socket
import shutil
import subprocess
import tempfile
import time

from .harness import skip, wait_port

MASTER_CF = """\
{address}:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class PrivatePostfix:
    def __init__(self, address, port, domains, tls_cert=None, tls_key=None, tls_level="may",
                 hostname="home.example.test", extra_main=""):
        if os.geteuid() != 0:
            skip("a private Postfix instance needs root")
        if not shutil.which("postfix"):
            skip("postfix is not installed (contrib/install-deps.sh installs it)")
        self.address, self.port = address, port
        self.dir = tempfile.mkdtemp(prefix="postfix-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.mail = os.path.join(self.dir, "mail")
        self.log = os.path.join(self.dir, "maillog")
        for d in ("etc", "spool", "data", "mail"):
            os.makedirs(os.path.join(self.dir, d))
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.dir, "data"), pw.pw_uid, pw.pw_gid)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        tls = ""
        if tls_cert:
            tls = (f"smtpd_tls_security_level = {tls_level}\n"
                   f"smtpd_tls_cert_file = {tls_cert}\nsmtpd_tls_key_file = {tls_key}\n"
                   # so tests can see TLS in the maillog and in Received:
                   "smtpd_tls_loglevel = 1\nsmtpd_tls_received_header = yes\n")
        main = f"""\
compatibility_level = 3.6
queue_directory = {self.dir}/spool
data_directory = {self.dir}/data
mail_owner = postfix
setgid_group = postdrop
inet_protocols = ipv4
inet_interfaces = all
myhostname = {hostname}
mydestination =
virtual_mailbox_domains = {", ".join(domains)}
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = {self.log}
maillog_file_prefixes = /tmp, /var, /dev/stdout
smtputf8_enable = yes
biff = no
{tls}{extra_main}
"""
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(main)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(address=address, port=port))
        if not os.path.exists("/etc/postfix/main.cf"):
            os.makedirs("/etc/postfix", exist_ok=True)
            with open("/etc/postfix/main.cf", "w") as f:
                f.write("# written by mxgate's tests: private instances live in /tmp\n"
                        "compatibility_level = 3.6\nalternate_config_directories = /tmp\n")

    def _postfix(self, *args):
        # `script` gives Postfix a terminal, the only place it prints errors here.
        cmd = " ".join(["postfix", "-c", self.etc, *args])
        return subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, timeout=60)

    def start(self):
        r = self._postfix("start")
        if r.returncode != 0:
            raise RuntimeError(f"postfix start failed: {r.stdout} {r.stderr} {self.maillog()[-2000:]}")
        wait_port(self.address, self.port, timeout=15)
        return self

    def stop(self):
        self._postfix("stop")
        # master exits asynchronously; wait until the port is closed
        for _ in range(100):
            try:
                socket.create_connection((self.address, self.port), timeout=0.2).close()
            except OSError:
                break
            time.sleep(0.1)

    def maillog(self):
        try:
            return open(self.log, errors="replace").read()
        except OSError:
            return ""

    def messages(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.mail, "inbox", "new", "*"))):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, n, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.messages()) >= n:
                return self.messages()
            time.sleep(0.1)
        raise AssertionError(f"postfix home box has {len(self.messages())} messages, wanted {n}\n{self.maillog()[-3000:]}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
