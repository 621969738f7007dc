"""DKIM helpers shared by the integration tests: import python3-dkim
(re-executing under Debian's python3 when ctest's interpreter lacks it),
make an RSA key pair, and write long TXT records for dnsserver.py."""
import base64
import os
import subprocess
import sys

from .harness import skip


def import_dkim():
    """Returns the python3-dkim module, or skips the test (exit 77)."""
    try:
        import dkim  # python3-dkim
        return dkim
    except ImportError:
        # ctest may run a python3 other than Debian's (pyenv): Debian's
        # python3-dkim lives in /usr/lib/python3/dist-packages.
        if os.path.exists("/usr/bin/python3") and not os.environ.get("MXGATE_REEXEC"):
            os.environ["MXGATE_REEXEC"] = "1"
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        skip("python3-dkim is not installed (contrib/install-deps.sh installs it)")


def make_key(workdir):
    """A 2048-bit RSA key in workdir: (private PEM bytes, base64 DER public key for p=)."""
    key = os.path.join(workdir, "dkim.key")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    with open(key, "rb") as f:
        return f.read(), base64.b64encode(der).decode()


def txt(name, text):
    """A TXT record line for dnsserver.py, split into 255-octet strings."""
    parts = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
    return "%s. TXT %s" % (name, " ".join('"%s"' % p for p in parts))
