#!/usr/bin/env python3
"""A user-space netem for kernels without sch_netem: joins two network namespaces by a pair of
TUN devices (one in each) and forwards IP packets between them with, in each direction, a fixed
one-way delay, a rate limit (serialisation at `rate`, FIFO queue of `limit` packets, as netem's
`rate`) and independent random loss. Real TCP runs on top, so retransmissions, slow start and
congestion control are the kernel's own.

  link_emulator.py --ns-a NS --dev-a NAME --ns-b NS --dev-b NAME --delay-ms 25 --rate-mbit 20 --loss-pct 1

Prints 'ready' once both devices exist (the caller then assigns addresses and brings them up).
The devices are not persistent: they vanish when this process exits, which it does on SIGTERM or
when its stdin closes (the parent is gone)."""
import argparse
import collections
import ctypes
import fcntl
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(name):
    fd = os.open(f'/var/run/netns/{name}', os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f'setns({name}): {os.strerror(err)}')
    finally:
        os.close(fd)


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


class Direction:
    def __init__(self, src, dst, delay_s, rate_bps, loss, limit, rng):
        self.src, self.dst = src, dst
        self.delay_s, self.rate_bps, self.loss, self.limit, self.rng = delay_s, rate_bps, loss, limit, rng
        self.queue = collections.deque()  # (deliver_at, packet), deliver_at non-decreasing
        self.free_at = 0.0  # when the emulated transmitter finishes its current backlog
        self.stats = {'packets': 0, 'dropped_loss': 0, 'dropped_queue': 0, 'bytes': 0}

    def receive(self, now):
        while True:
            try:
                pkt = os.read(self.src, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            self.stats['packets'] += 1
            if self.rng.random() < self.loss:
                self.stats['dropped_loss'] += 1
                continue
            if len(self.queue) >= self.limit:
                self.stats['dropped_queue'] += 1
                continue
            start = max(now, self.free_at)
            self.free_at = start + (len(pkt) * 8 / self.rate_bps if self.rate_bps > 0 else 0.0)
            self.queue.append((self.free_at + self.delay_s, pkt))
            self.stats['bytes'] += len(pkt)

    def deliver(self, now):
        while self.queue and self.queue[0][0] <= now:
            _, pkt = self.queue.popleft()
            try:
                os.write(self.dst, pkt)
            except OSError:
                pass  # device down or full: the packet is lost, as on a real link

    def next_due(self):
        return self.queue[0][0] if self.queue else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ns-a', required=True)
    p.add_argument('--dev-a', required=True)
    p.add_argument('--ns-b', required=True)
    p.add_argument('--dev-b', required=True)
    p.add_argument('--delay-ms', type=float, default=0.0)
    p.add_argument('--rate-mbit', type=float, default=0.0)
    p.add_argument('--loss-pct', type=float, default=0.0)
    p.add_argument('--limit', type=int, default=1000)
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    enter_netns(a.ns_a)
    fa = open_tun(a.dev_a)
    enter_netns(a.ns_b)
    fb = open_tun(a.dev_b)
    rng = random.Random(a.seed)
    delay, rate, loss = a.delay_ms / 1000.0, a.rate_mbit * 1e6, a.loss_pct / 100.0
    dirs = {fa: Direction(fa, fb, delay, rate, loss, a.limit, rng), fb: Direction(fb, fa, delay, rate, loss, a.limit, rng)}
    stdin = sys.stdin.fileno()
    print('ready', flush=True)

    while True:
        now = time.monotonic()
        due = [d.next_due() for d in dirs.values() if d.next_due() is not None]
        timeout = max(0.0, min(due) - now) if due else 1.0
        ready, _, _ = select.select([fa, fb, stdin], [], [], timeout)
        now = time.monotonic()
        if stdin in ready and not os.read(stdin, 4096):
            break  # the parent closed our stdin (or died)
        for fd in ready:
            if fd in dirs:
                dirs[fd].receive(now)
        for d in dirs.values():
            d.deliver(time.monotonic())
    print(' '.join(f'{k}={v}' for k, v in dirs[fa].stats.items()), '|', ' '.join(f'{k}={v}' for k, v in dirs[fb].stats.items()), file=sys.stderr)


if __name__ == '__main__':
    main()
