#!/usr/bin/env python3
"""Peak memory (VmHWM) of mxgate while N clients send big messages at once
to the mx listener with the inbound checks on (issue 4: DATA streamed into
the spool file instead of held in memory). Not a test: a measurement for
docs/inbound-checks.md.

Three runs, each on a fresh daemon:
  refused   every message has no From: header, so the checks refuse it at
            end of data (550 5.7.1): only the DATA phase is measured
  queued    a From: header, DKIM verification on (the message is read back
            from the spool for libopendkim), committed; the home box is
            down, so this is receiving + checks + commit without delivery
  accepted  the same, delivered to smtp-sink (delivery reads each body
            into memory while sending it)

usage: data_memory_bench.py MXGATE_BIN [--clients 20] [--mib 20]
Addresses: 127.0.23.40-41 (the streaming-DATA range).
"""

import argparse
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

MX = ("127.0.23.40", 2525)
SINK = ("127.0.23.41", 2526)

CONFIG = """
hostname: mx.membench.test
spool: {dir}/spool
log: {{ format: json, file: {dir}/mxgate.log }}
listeners:
  - {{ name: mx, role: mx, address: "127.0.23.40:2525", tls: none }}
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: {{ address: "127.0.23.41:2526", tls: none }}
limits: {{ message_size: 64M, connections: 200, connections_per_ip: 200 }}
policy: {{ spf: {{ enabled: false }}, dkim: {{ verify: true }}, dmarc: {{ enforce: ENFORCE }} }}
queue: {{ retry: [1h], max_lifetime: 1h, delay_warning: 1h }}
"""


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def wait_port(addr, timeout=20):
    import socket
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(addr, timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{addr} not listening")


def message(mib, with_from):
    line = b"x" * 76 + b"\r\n"
    body = line * (mib * 1024 * 1024 // len(line))
    head = (b"From: sender@elsewhere.test\r\n" if with_from else b"") + b"Subject: big\r\n\r\n"
    return head + body


def run(binary, clients, mib, mode):
    d = tempfile.mkdtemp(prefix="membench-")
    sink_dir = os.path.join(d, "sink")
    os.makedirs(sink_dir)
    os.chmod(sink_dir, 0o777)
    with open(os.path.join(d, "mxgate.yaml"), "w") as f:
        # refused: dmarc.enforce on (the From: rules refuse a message without From:)
        f.write(CONFIG.format(dir=d).replace("ENFORCE", "true" if mode == "refused" else "false"))
    sink = None if mode == "queued" else subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", f"{SINK[0]}:{SINK[1]}", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mx = subprocess.Popen([binary, "serve", "-c", os.path.join(d, "mxgate.yaml")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(MX)
        if sink:
            wait_port(SINK)
        idle = vm(mx.pid, "VmRSS")
        data = message(mib, mode != "refused")
        codes = []
        lock = threading.Lock()
        barrier = threading.Barrier(clients)

        def client():
            s = smtplib.SMTP(*MX, timeout=300)
            s.ehlo("client.elsewhere.test")
            s.mail("sender@elsewhere.test")
            s.rcpt("user@example.test")
            barrier.wait()  # every session in DATA at the same time
            try:
                code, _ = s.data(data)
            except smtplib.SMTPResponseException as e:
                code = e.smtp_code
            with lock:
                codes.append(code)
            s.quit()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        start = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.time() - start
        if mode == "accepted":  # let the deliveries run too
            time.sleep(3)
        hwm = vm(mx.pid, "VmHWM")
        return {"mode": mode, "clients": clients, "mib": mib, "idle_rss_kib": idle, "vmhwm_kib": hwm,
                "codes": sorted(set(codes)), "seconds": round(took, 1)}
    finally:
        mx.terminate()
        mx.wait(20)
        if sink:
            sink.terminate()
            sink.wait(5)
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--mib", type=int, default=20)
    a = ap.parse_args()
    for mode in ("refused", "queued", "accepted"):
        r = run(a.binary, a.clients, a.mib, mode)
        print(f"{r['mode']:9} {r['clients']} x {r['mib']} MiB: VmHWM {r['vmhwm_kib'] / 1024:.1f} MiB "
              f"(idle RSS {r['idle_rss_kib'] / 1024:.1f} MiB), replies {r['codes']}, {r['seconds']} s")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
