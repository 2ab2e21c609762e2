#!/usr/bin/env python3
"""Turn the probe log of tests/bench/icount_plugin.c for the masked-stretch
image (tests/bench/mask_target.c built with -DBENCH_PROBES, Cortex-M) into
the MASK and MASKMAX lines that the counter boards print themselves.

usage: mask_probes.py EVENTS CONSOLE_LOG [--bound N]

EVENTS: "<probe> <count>" per probe; "mask_take <longest>" carries the
plugin's longest masked stretch since the last reset.  Calibration first:
16 pairs (start, cal), whose least difference is subtracted from each call,
and 16 empty stretches (mask_take), whose least value is subtracted from
each stretch.  Then per workload (RUN lines on the console, "run" probes
around it): per call start, <op>, mask_take, and "grew" when the heap grew.
With --bound, prints PASS/FAIL and a SUITE line for make test and exits 1
when a stretch is longer.
"""
import sys

OPS = ("malloc", "free", "realloc", "trim")


def main():
    args = sys.argv[1:]
    bound = None
    if "--bound" in args:
        i = args.index("--bound")
        bound = int(args[i + 1])
        del args[i:i + 2]
    events_path, log_path = args
    runs, board = [], None
    for line in open(log_path):
        t = line.split()
        if t and t[0] == "RUN":
            board = t[1]
            runs.append(t[3])
    cal, cal_mask = [], []
    start = None
    run_idx, in_run = -1, False
    ovh = movh = None
    stats = {}
    calls = 0
    worst = 0
    out = []

    def flush():
        for op in OPS:
            m = stats.get(op, {})
            out.append(f"MASK {board} {runs[run_idx]} {op} steady_max={m.get('steady', 0)} "
                       f"steady_at={m.get('steady_at', 0)} growth_max={m.get('growth', 0)} "
                       f"growth_at={m.get('growth_at', 0)} calls_max={m.get('calls', 0)} "
                       f"growth_calls_max={m.get('gcalls', 0)}")
        stats.clear()

    pending = None  # (op, cost, call): the call whose mask_take comes next
    done = None     # (op, masked, cost, call): measured, growth not known yet

    def commit(grew):
        nonlocal done, worst
        op, masked, cost, at = done
        m = stats.setdefault(op, {})
        k, kc, ka = ("growth", "gcalls", "growth_at") if grew else ("steady", "calls", "steady_at")
        if masked > m.get(k, 0):
            m[k], m[ka] = masked, at
        m[kc] = max(m.get(kc, 0), cost)
        worst = max(worst, masked)
        done = None

    for line in open(events_path):
        name, _, count = line.partition(" ")
        if name == "total":
            continue
        count = int(count)
        if done is not None:
            commit(name == "grew" and done[0] != "trim")
            if name == "grew":
                continue
        if name == "start":
            start = count
        elif name == "cal":
            cal.append(count - start)
        elif name == "mask_take" and run_idx < 0:
            cal_mask.append(count)
        elif name == "run":
            if ovh is None:
                ovh = min(cal) if cal else 0
                movh = min(cal_mask) if cal_mask else 0
            if in_run:
                flush()
                in_run = False
            else:
                run_idx += 1
                in_run = True
                calls = 0
        elif name in OPS and in_run:
            pending = (name, max(count - start - ovh, 0), calls)
            calls += 1
        elif name == "mask_take" and in_run and pending:
            done = (pending[0], max(count - movh, 0), pending[1], pending[2])
            pending = None
    if run_idx + 1 != len(runs) or in_run:
        sys.exit(f"mask_probes.py: {len(runs)} RUN lines but {run_idx + 1} runs in {events_path}")
    print("\n".join(out))
    print(f"MASKMAX {board} {worst}")
    if bound is not None:
        ok = worst <= bound
        print(f"{'PASS' if ok else 'FAIL'} longest masked stretch {worst} <= bound {bound}")
        print(f"SUITE mask-bound: {int(ok)} passed, {int(not ok)} failed")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
