#!/usr/bin/env python3
"""Turn the probe log of tests/bench/icount_plugin.c into BENCH and QUANT
lines, for boards whose instructions are counted by the QEMU plugin
(Cortex-M, tests/bench/bench_target.c built with -DBENCH_PROBES).

Usage: bench_probes.py EVENTS CONSOLE_LOG > board.txt

EVENTS has a line "<probe> <instruction count>" per probe entered.  The
guest calibrates with 16 back-to-back pairs (start, cal): the least
difference is the probe overhead, subtracted from every call.  A run is
delimited by two "run" probes, in the order of the RUN lines on the console.
Each call is "start", then "malloc" / "free" / "realloc"; a following
"grew" moves it to the growth bucket, a "drop" discards it (warm-up).
The statistics are computed exactly as bench_target.c computes them.
"""
import sys

OPS = ("malloc", "free", "realloc")


def stats_lines(board, alloc, wl, op, samples, growth):
    """samples: (instructions, call number) of the steady-state calls."""
    max_at = min((c for v, c in samples if v == max(samples)[0]), default=0)
    samples = [v for v, _ in samples]
    n = len(samples)
    g_n, g_sum, g_max = len(growth), sum(growth), max(growth) if growth else 0
    if n == 0 and g_n == 0:
        return []
    s = sorted(samples)
    q = lambda num, den: s[(n - 1) * num // den]  # noqa: E731
    mean10 = (sum(s) * 10 + n // 2) // n if n else 0
    out = [f"BENCH {board} {alloc} {wl} {op} n={n} mean={mean10 // 10}.{mean10 % 10} "
           f"p50={q(1, 2) if n else 0} p90={q(9, 10) if n else 0} p99={q(99, 100) if n else 0} "
           f"max={s[-1] if n else 0} growth_n={g_n} growth_mean={g_sum // g_n if g_n else 0} "
           f"growth_max={g_max} dropped=0 max_at={max_at}"]
    if n:
        out.append(f"QUANT {board} {alloc} {wl} {op} " + ",".join(str(q(i, 200)) for i in range(201)))
    return out


def main():
    events_path, log_path = sys.argv[1], sys.argv[2]
    runs, passthrough = [], []
    with open(log_path) as f:
        for line in f:
            t = line.split()
            if t and t[0] == "RUN":
                runs.append(t[1:4])
            elif t and t[0] in ("META", "FOOT", "SERIES", "DONE"):
                passthrough.append(line.rstrip("\n"))
    cal, start = [], None
    run_idx, in_run = -1, False
    samples = {op: [] for op in OPS}
    growth = {op: [] for op in OPS}
    last = None  # the op of the last call
    call = -1  # its call number in the run, warm-up included
    out = []
    overhead = None

    def flush():
        board, alloc, wl = runs[run_idx]
        for op in OPS:
            out.extend(stats_lines(board, alloc, wl, op, samples[op], growth[op]))
            samples[op].clear()
            growth[op].clear()

    with open(events_path) as f:
        for line in f:
            name, _, count = line.partition(" ")
            count = int(count)
            if name == "start":
                start = count
                call += 1
            elif name == "cal":
                cal.append(count - start)
            elif name == "run":
                if overhead is None:
                    overhead = min(cal) if cal else 0
                if in_run:
                    flush()
                    in_run = False
                else:
                    run_idx += 1
                    in_run = True
                last = None
                call = -1
            elif name in OPS and in_run:
                v = max(count - start - overhead, 0)
                samples[name].append((v, call))
                last = name
            elif name == "grew" and last:
                growth[last].append(samples[last].pop()[0])
                last = None
            elif name == "drop" and last:
                samples[last].pop()
                last = None
    if run_idx + 1 != len(runs) or in_run:
        sys.exit(f"bench_probes.py: {len(runs)} RUN lines but {run_idx + 1} runs in {events_path}")
    for line in passthrough:
        if line.startswith("META "):
            line = line.replace("overhead=0", f"overhead={overhead}", 1)
        print(line)
    print("\n".join(out))


if __name__ == "__main__":
    main()
