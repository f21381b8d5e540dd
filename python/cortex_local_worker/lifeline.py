"""A worker and everything it starts die with the server, however the server dies.

- The frame pipes move to private descriptors (not inherited by programs the
  predictor runs), so nothing else holds them or writes into them.
- On Linux the kernel kills the worker when the server dies
  (prctl PR_SET_PDEATHSIG), even while the predictor holds the GIL.
- A watchdog process, forked before the predictor is imported and living in
  the worker's process group, waits for the server's end of the request pipe to
  close (the server died, or it closed the pipes of this worker after its death)
  and then kills the whole group: the worker and the processes the predictor
  started, whether they are busy, have non-daemon threads or were orphaned.
  Processes that leave the group (setsid, start_new_session=True) are beyond it.
"""
import os
import select
import signal
import sys

_PR_SET_PDEATHSIG = 1


def keep_private(fd):
    """A non-inheritable copy of `fd`, the original closed."""
    private = os.dup(fd)
    os.close(fd)
    return private


def die_with_server(server_pid):
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
    except ImportError:
        # An interpreter built without ctypes: the watchdog alone covers it.
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        sys.stderr.write("cortex-local: prctl(PR_SET_PDEATHSIG) failed: %s\n" % os.strerror(ctypes.get_errno()))
        return
    # The server may have died before prctl: the parent is someone else then.
    if server_pid is not None and os.getppid() != int(server_pid):
        os._exit(1)


def start_watchdog(fd_in):
    if os.fork() != 0:
        return
    try:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        keep = sorted({0, 1, 2, fd_in})
        for low, high in zip(keep, keep[1:] + [os.sysconf("SC_OPEN_MAX")]):
            os.closerange(low + 1, high)
        watch = select.poll()
        # No events asked for: poll() still reports the hang-up, and never
        # takes a frame meant for the worker.
        watch.register(fd_in, 0)
        while True:
            for _fd, events in watch.poll():
                if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(0)
