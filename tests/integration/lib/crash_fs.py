"""Power-cut simulation for the crash test: ext4 on a loop-mounted image file.

The spool lives on an ext4 file system mounted from an image file through a
loop device. `cut()` copies the image file while the file system is still
mounted and *without* any sync: the copy holds exactly the blocks the file
system has already written to its block device (everything an fsync waited
for, and whatever the kernel happened to write back or commit to the
journal), and none of the data still dirty in the mounted file system's page
cache. Mounting the copy (ext4 replays its journal) is what a machine finds
after a power cut at that moment. A plain SIGKILL cannot show this: after it
the kernel still holds the dirty pages and writes them out later.

Requires root (mount, losetup). Every mount made here is undone by
`cleanup()`, which the caller runs in a `finally` block.
"""

import os
import shutil
import subprocess
import tempfile


class LoopUnavailable(Exception):
    """Not root, or the loop mount does not work here: the test skips."""


def _run(*cmd, check=True, timeout=60):
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


class LoopFs:
    """A sequence of ext4 images; at any time at most one is mounted."""

    def __init__(self, size="256M", commit_interval=60, base=None):
        if os.geteuid() != 0:
            raise LoopUnavailable("the crash test needs root (loop mounts)")
        for tool in ("mount", "umount", "losetup", "mkfs.ext4", "cp"):
            if not shutil.which(tool):
                raise LoopUnavailable(f"{tool} is not installed")
        if base is None and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            # Images in RAM: the loop device's flushes (each fsync inside)
            # then cost nothing on the host disk. Only the image file's
            # contents matter for the model, not whether the host keeps it.
            base = "/dev/shm"
        self.base = tempfile.mkdtemp(prefix="mxgate-crash-", dir=base)
        self.size = size
        self.options = f"loop,commit={commit_interval}"
        self.generation = 0
        self.image = None       # backing file of the mounted file system
        self.mountpoint = None  # where it is mounted (None: nothing mounted)
        self._mounts = []       # every mount point we made, for cleanup

    def create(self):
        self.image = os.path.join(self.base, "img0")
        try:
            _run("truncate", "-s", self.size, self.image)
            _run("mkfs.ext4", "-q", "-F", self.image)
        except RuntimeError as e:
            raise LoopUnavailable(f"cannot make an ext4 image: {e}")
        try:
            self.mount()
        except RuntimeError as e:
            raise LoopUnavailable(f"loop mount does not work here: {e}")
        return self.mountpoint

    def mount(self):
        mnt = os.path.join(self.base, f"mnt{self.generation}")
        os.makedirs(mnt, exist_ok=True)
        self._mounts.append(mnt)
        _run("mount", "-t", "ext4", "-o", self.options, self.image, mnt)
        self.mountpoint = mnt
        return mnt

    def cut(self):
        """The power cut: copy the backing file as the block device holds it
        now (no sync), then unmount the old file system and mount the copy
        (ext4 replays its journal). Returns the new mount point."""
        self.generation += 1
        new_image = os.path.join(self.base, f"img{self.generation}")
        # Immediately, before anything could write back the dirty pages.
        _run("cp", "--sparse=always", self.image, new_image)
        self.unmount()
        os.unlink(self.image)
        self.image = new_image
        return self.mount()

    def unmount(self):
        if self.mountpoint is None:
            return
        mnt, self.mountpoint = self.mountpoint, None
        r = _run("umount", mnt, check=False)
        if r.returncode != 0:
            _run("umount", "-l", mnt, check=False)
        self._detach(self.image)

    def _detach(self, image):
        # mount -o loop sets autoclear, so umount normally detaches the loop
        # device; after a lazy umount or a failure it may still be there.
        if not image:
            return
        r = _run("losetup", "-j", image, check=False)
        for line in r.stdout.splitlines():
            dev = line.split(":", 1)[0]
            if dev.startswith("/dev/loop"):
                _run("losetup", "-d", dev, check=False)

    def cleanup(self):
        try:
            for mnt in reversed(self._mounts):
                if os.path.ismount(mnt):
                    _run("umount", "-l", mnt, check=False)
            for fn in os.listdir(self.base):
                if fn.startswith("img"):
                    self._detach(os.path.join(self.base, fn))
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
