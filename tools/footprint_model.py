#!/usr/bin/env python3
"""footprint_model.py - a model of the small workload's RAM over live data
under segregated size classes, to see which span policies could reach a
footprint target before building them in the core.

The model replays the benchmarks' small workload (tests/bench/workloads.c:
1024 slots, sizes 8..256 B uniform, a warm-up pass, then 50,000 steps that
free a random slot and refill it) against size classes cut into spans of a
fixed size, and reports the peak of (spans * span size + metadata) over the
peak of live bytes as requested, the ratio docs/BENCHMARKS.md reports.  The
core's own policy is 'fifo': a span that gets a free slot joins the tail of
its class's partial list, a malloc takes the head, an empty span is given
back unless it is the class's only partial span.  Compare the model's fifo
row with 4 KB spans against the footprint docs/BENCHMARKS.md measures on the
32-bit boards: where the two agree, the other rows say what a policy change
could buy.

Usage: tools/footprint_model.py [--meta BYTES] (default 20480, the
metadata the 32-bit boards hold at the peak).  The random stream is
Python's, not the benchmark's: the figures are the model's, not a
measurement.
"""
import argparse
import random

DEFAULT_CLASSES = [8, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256]
COARSE_CLASSES = [16, 32, 48, 64, 96, 128, 192, 256]


def class_of(classes, n):
    for c in classes:
        if n <= c:
            return c
    raise ValueError(n)


def run(classes, span_bytes, policy, seed=0x1234567, slots=1024, steps=50000):
    """Peak live bytes and peak span count for one policy:
    fifo     the core's: newly partial spans go to the tail, take the head;
    fullest  take the partial span with the fewest free slots."""
    rng = random.Random(seed)
    spans = {}  # id -> [class, free slot set, slots per span]
    partial = {c: [] for c in classes}
    state = {"next": 0, "spans": 0, "peak_spans": 0}

    def new_span(c):
        state["next"] += 1
        sid = state["next"]
        spans[sid] = [c, set(range(span_bytes // c)), span_bytes // c]
        state["spans"] += 1
        state["peak_spans"] = max(state["peak_spans"], state["spans"])
        return sid

    def take(c):
        lst = partial[c]
        if not lst:
            lst.append(new_span(c))
        sid = lst[0] if policy == "fifo" else min(lst, key=lambda s: len(spans[s][1]))
        free = spans[sid][1]
        slot = min(free)
        free.remove(slot)
        if not free:
            lst.remove(sid)
        return sid, slot

    def give(block):
        sid, slot = block
        c, free, nslots = spans[sid]
        if not free:
            partial[c].append(sid)
        free.add(slot)
        if len(free) == nslots and len(partial[c]) > 1:
            partial[c].remove(sid)
            del spans[sid]
            state["spans"] -= 1

    live = peak_live = 0
    blocks, sizes = [None] * slots, [0] * slots
    for i in range(slots):
        sizes[i] = 8 + rng.randrange(249)
        blocks[i] = take(class_of(classes, sizes[i]))
        live += sizes[i]
    for _ in range(steps):
        i = rng.randrange(slots)
        give(blocks[i])
        live -= sizes[i]
        sizes[i] = 8 + rng.randrange(249)
        blocks[i] = take(class_of(classes, sizes[i]))
        live += sizes[i]
        peak_live = max(peak_live, live)
    return peak_live, state["peak_spans"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--meta", type=int, default=20480)
    args = ap.parse_args()
    print("| classes | span | policy | peak spans | RAM over live |")
    print("|---|---:|---|---:|---:|")
    for name, classes in (("17 (the core's, to 256 B)", DEFAULT_CLASSES), ("8 coarse", COARSE_CLASSES)):
        for span in (4096, 2048, 1024):
            for policy in ("fifo", "fullest"):
                peak_live, peak_spans = run(classes, span, policy)
                ratio = (peak_spans * span + args.meta) / peak_live
                print(f"| {name} | {span} | {policy} | {peak_spans} | {ratio:.2f} x |")


if __name__ == "__main__":
    main()
