#!/usr/bin/env python3
"""Turn the raw benchmark lines of `make bench` into docs/BENCHMARKS.md and
the plots in docs/bench/.

Usage: bench_report.py RAW_DIR DOCS_DIR

RAW_DIR (build/bench) holds
  <board>.txt  BENCH / QUANT / FOOT / SERIES / META lines of
               tests/bench/bench_target.c, one image per workload
  host.txt     HOST lines of tests/bench/bench_host.c (tools/bench_host.sh)
  size.txt     SIZE lines of tools/bench_size.sh
Every number in the report comes from these files: nothing is typed in.
"""
import os
import re
import statistics
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

WORKLOADS = ["small", "loguni", "uniform", "fifo", "realloc", "frag"]
BOARD_ORDER = ["qemu-virt-aarch64", "qemu-virt-riscv64", "qemu-virt-riscv32", "mps2-an385", "mps2-an505"]
# Boards counted by the QEMU plugin (tests/bench/icount_plugin.c), not by a guest counter.
PROBE_BOARDS = ["mps2-an385", "mps2-an505"]
CHECK_FIELDS = ["n", "mean", "p50", "p90", "p99", "max", "growth_n", "growth_max"]
ALLOCS = ["sheap", "picolibc"]
HOST_ALLOCS = ["sheap", "glibc", "mimalloc", "jemalloc"]
# Targets per call on the QEMU boards (steady state, instructions) and for footprint.
T_MALLOC_MEAN, T_MALLOC_MAX = 40, 120
T_FREE_MEAN, T_FREE_MAX = 30, 100
T_FOOT = 1.25
T_FOOT_MIN_LIVE = 1 << 20
COLORS = {"sheap": "tab:blue", "picolibc": "tab:orange", "glibc": "tab:gray",
          "mimalloc": "tab:green", "jemalloc": "tab:red"}


def kv(tokens):
    out = {}
    for t in tokens:
        if "=" in t:
            k, v = t.split("=", 1)
            out[k] = v
    return out


def num(v):
    return float(v) if "." in v else int(v)


def parse_board(path):
    d = {"bench": {}, "quant": {}, "foot": {}, "series": {}, "meta": {}, "done": set(), "flags": {}}
    with open(path) as f:
        for line in f:
            t = line.split()
            if not t:
                continue
            if t[0] == "BENCH":
                _, board, alloc, wl, op = t[:5]
                d["bench"][(alloc, wl, op)] = {k: num(v) for k, v in kv(t[5:]).items()}
            elif t[0] == "QUANT":
                _, board, alloc, wl, op, vals = t[:6]
                d["quant"][(alloc, wl, op)] = [int(x) for x in vals.split(",")]
            elif t[0] == "FOOT":
                _, board, alloc, wl = t[:4]
                d["foot"][(alloc, wl)] = {k: num(v) for k, v in kv(t[4:]).items()}
            elif t[0] == "SERIES":
                _, board, alloc, wl = t[:4]
                s = kv(t[4:])
                d["series"][(alloc, wl)] = {k: [int(x) for x in v.split(",") if x] for k, v in s.items()}
            elif t[0] == "META":
                m = kv(t[2:])
                d["meta"][m.get("workload")] = m
                d["meta"]["overhead"] = m.get("overhead")
            elif t[0] == "DONE":
                d["done"].add(t[2])
            elif t[0] == "PICO":
                d["flags"]["picolibc"] = " ".join(x for x in t[2:] if x.startswith(("-O", "-m")))
                d["flags"]["picolibc_cc"] = " ".join(t[2:5])
            elif t[0] == "SHEAPFLAGS":
                d["flags"]["sheap"] = " ".join(t[3:])
                d["flags"]["sheap_cc"] = t[2]
    return d


def parse_host(path):
    runs, info = {}, ""
    if not os.path.exists(path):
        return runs, info
    with open(path) as f:
        for line in f:
            t = line.split()
            if t and t[0] == "HOST":
                m = kv(t[3:])
                runs.setdefault((t[1], t[2]), []).append(int(m["calls"]) / (int(m["ns"]) * 1e-9))
            elif t and t[0] == "HOSTINFO":
                info = line.strip()[len("HOSTINFO "):]
    return runs, info


def parse_size(path):
    rows, info = [], ""
    if not os.path.exists(path):
        return rows, info
    with open(path) as f:
        for line in f:
            t = line.split()
            if t and t[0] == "SIZE":
                rows.append((t[1], t[2], t[3] if len(t) > 3 and "=" not in t[3] else "",
                             {k: int(v) for k, v in kv(t[3:]).items()}))
            elif t and t[0] == "SIZEINFO":
                info = line.strip()[len("SIZEINFO "):]
    return rows, info


def fmt_int(v):
    return f"{int(v):,}".replace(",", " ")


def fmt_bytes(v):
    if v >= 1 << 20:
        return f"{v / (1 << 20):.2f} MB"
    return f"{v / 1024:.0f} KB"


def git_rev():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "core", "include", "port"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" (core/include/port with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


# ---- plots ---------------------------------------------------------------------------

def board_workloads(d):
    return [wl for wl in WORKLOADS if any(k[1] == wl for k in d["bench"])]


def plot_cdf(board, d, path):
    wls = board_workloads(d)
    fig, axes = plt.subplots(2, len(wls), figsize=(max(3.2 * len(wls), 6.4), 6.4), squeeze=False)
    for col, wl in enumerate(wls):
        for row, ops in enumerate([("realloc", "malloc") if wl == "realloc" else ("malloc",), ("free",)]):
            ax = axes[row][col]
            op = next((o for o in ops if ("sheap", wl, o) in d["quant"]), ops[0])
            for alloc in ALLOCS:
                q = d["quant"].get((alloc, wl, op))
                if not q:
                    continue
                ys = [i / (len(q) - 1) for i in range(len(q))]
                ax.step([max(v, 1) for v in q], ys, where="post", color=COLORS[alloc], label=alloc)
            ax.set_xscale("log")
            ax.set_ylim(0, 1.01)
            ax.grid(True, which="both", alpha=0.3)
            ax.set_title(f"{wl}: {op}", fontsize=10)
            if col == 0:
                ax.set_ylabel("fraction of calls (CDF)")
            if row == 1:
                ax.set_xlabel("instructions per call")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"{board}: instructions per call, steady state (growth calls excluded)\n"
                 f"reproduce: make bench\n(or make BOARD={board} bench-board; "
                 f"/usr/bin/python3 tools/bench_report.py build/bench docs)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_footprint(board, d, path):
    wls = board_workloads(d)
    cols = min(3, len(wls))
    rows = (len(wls) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(max(4.7 * cols, 7), 3.75 * rows + 0.5), squeeze=False)
    for i, wl in enumerate(wls):
        ax = axes[i // cols][i % cols]
        live_done = False
        for alloc in ALLOCS:
            s = d["series"].get((alloc, wl))
            if not s or not s.get("calls"):
                continue
            mb = 1.0 / (1 << 20)
            ax.plot(s["calls"], [v * mb for v in s["foot"]], color=COLORS[alloc],
                    label=f"{alloc} footprint")
            if not live_done:
                ax.plot(s["calls"], [v * mb for v in s["live"]], color="black", linestyle="--",
                        linewidth=1, label="live (bytes asked; highest per interval)")
                live_done = True
        ax.set_title(wl, fontsize=10)
        ax.set_xlabel("calls")
        ax.set_ylabel("MB")
        ax.grid(True, alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8)
    fig.suptitle(f"{board}: footprint over the workload (sheap: Ready + metadata bytes; "
                 f"picolibc: sbrk extent)\nreproduce: make bench", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_host(ratios, path):
    fig, ax = plt.subplots(figsize=(10, 4.5))
    others = [a for a in HOST_ALLOCS if a != "sheap"]
    width = 0.8 / len(others)
    for j, other in enumerate(others):
        xs = [i + (j - (len(others) - 1) / 2) * width for i in range(len(WORKLOADS))]
        ys = [ratios.get((wl, other), 0) for wl in WORKLOADS]
        ax.bar(xs, ys, width, label=f"sheap / {other}", color=COLORS[other])
    ax.axhline(1.0, color="black", linewidth=1)
    ax.set_xticks(range(len(WORKLOADS)))
    ax.set_xticklabels(WORKLOADS)
    ax.set_ylabel("throughput ratio (> 1: sheap faster)")
    ax.set_title("host: sheap's throughput relative to each allocator (median of rounds)\n"
                 "reproduce: make bench   (or make BOARD=host bench-host)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# ---- markdown ---------------------------------------------------------------------------

def at(x):
    """Where the worst call was: its call number in the workload (counted from 0, warm-up included)."""
    return f" (call #{x['max_at']})" if "max_at" in x else ""


def verdict(ok):
    return "**met**" if ok else "**not met**"


# Targets for small parts (Cortex-M3 -Os, static port).
T_CODE = 6144
T_SMALL_RAM = 1024
T_RAM_OVER_LIVE = 1.35


def size_ram_table(sizes, boards):
    """The size and RAM table for small parts (docs/BENCHMARKS.md and README.md):
    code and static RAM of malloc + calloc + realloc + free linked on
    Cortex-M3, and RAM over live data on the small workload per board."""
    by = {(who, kind): v for who, kind, name, v in sizes if name == ""}
    L = []
    w = L.append
    nat, small, pico = by.get(("sheap", "port-native")), by.get(("sheap", "port-small")), by.get(("picolibc", "port"))
    if not (nat and small and pico):
        return L
    w("| allocator (Cortex-M3, -Os, malloc + calloc + realloc + free linked) | code + read-only data | static RAM |")
    w("|---|---:|---:|")
    w(f"| sheap: core, static port, ARMv7-M guard (mps2-an385, 16 MB heap) | {fmt_int(nat['text'] + nat['data'])} | "
      f"{fmt_int(nat['bss'] + nat['data'])} |")
    w(f"| sheap: the same, 256 KB part (mps2-an385 FLAVOR=small, 192 KB heap) | "
      f"{fmt_int(small['text'] + small['data'])} | {fmt_int(small['bss'] + small['data'])} |")
    w(f"| picolibc nano-malloc + sbrk | {fmt_int(pico['text'] + pico['data'])} | {fmt_int(pico['bss'] + pico['data'])} |")
    w("")
    w(f"Targets for small parts: code ≤ {fmt_int(T_CODE)} B: "
      f"{verdict(nat['text'] + nat['data'] <= T_CODE)}; static RAM ≤ {fmt_int(T_SMALL_RAM)} B on the 256 KB part: "
      f"{verdict(small['bss'] + small['data'] <= T_SMALL_RAM)}. make test checks the bounds of "
      "tests/bench/bounds.txt (tools/check_code_size.sh).")
    rows = [(b, d["foot"].get(("sheap", "small")), d["foot"].get(("picolibc", "small"))) for b, d in boards.items()]
    rows = [r for r in rows if r[1] and r[2]]
    if rows:
        w("")
        w("| board | small workload peak live | sheap RAM over live (Ready + metadata) | picolibc RAM over live |")
        w("|---|---:|---:|---:|")
        for b, s_, p_ in rows:
            w(f"| {b} | {fmt_bytes(s_['peak_live'])} | {s_['peak_foot'] / s_['peak_live']:.2f} × | "
              f"{p_['peak_foot'] / p_['peak_live']:.2f} × |")
        w("")
        ok = all(s_["peak_foot"] / s_["peak_live"] <= T_RAM_OVER_LIVE for _, s_, _ in rows)
        w(f"Target for small parts: sheap ≤ {T_RAM_OVER_LIVE} × on every board: {verdict(ok)}.")
    return L


def splice_readme(path, lines):
    """Replace the text between the size-table markers of README.md."""
    begin, end = "<!-- size-table: generated by make bench (tools/bench_report.py) -->", "<!-- /size-table -->"
    if not os.path.exists(path) or not lines:
        return
    with open(path) as f:
        text = f.read()
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        return
    text = text[:i + len(begin)] + "\n" + "\n".join(lines) + "\n" + text[j:]
    with open(path, "w") as f:
        f.write(text)


def main():
    raw, docs = sys.argv[1], sys.argv[2]
    outdir = os.path.join(docs, "bench")
    os.makedirs(outdir, exist_ok=True)
    boards = {}
    for b in BOARD_ORDER + sorted(os.listdir(raw)):
        name = b[:-4] if b.endswith(".txt") else b
        p = os.path.join(raw, name + ".txt")
        # <board>-mask.txt (make mask-bench), levels.txt and threads.txt
        # (bench-levels, bench-threads), written after this report, are not
        # boards: a second make bench would find them.
        if name in boards or name in ("host", "size", "levels", "threads") or name.endswith("-mask") \
                or not os.path.exists(p):
            continue
        boards[name] = parse_board(p)
    # Plugin cross-checks: <board>.probecheck, the same image counted by the plugin.
    checks = {}
    for b in boards:
        p = os.path.join(raw, b + ".probecheck")
        if os.path.exists(p):
            pc = parse_board(p)["bench"]
            same = [k for k in pc if k in boards[b]["bench"] and
                    all(pc[k][f] == boards[b]["bench"][k][f] for f in CHECK_FIELDS)]
            checks[b] = (len(same), len(pc), sorted(set(pc) - set(same)))
    host, hostinfo = parse_host(os.path.join(raw, "host.txt"))
    sizes, sizeinfo = parse_size(os.path.join(raw, "size.txt"))

    # Host ratios: median throughput of each allocator, sheap's over the other's.
    med = {k: statistics.median(v) for k, v in host.items()}
    ratios = {}
    for wl in WORKLOADS:
        for other in HOST_ALLOCS[1:]:
            if ("sheap", wl) in med and (other, wl) in med:
                ratios[(wl, other)] = med[("sheap", wl)] / med[(other, wl)]

    L = []
    w = L.append
    w("# sheap benchmarks")
    w("")
    w("Generated by `make bench` (tools/bench_report.py from the raw lines in "
      "`build/bench/`); do not edit by hand: rerun `make bench`.")
    w(f"Tree: `{git_rev()}`.")
    w("")
    w("Contents: [Targets](#targets) · [Method](#method) · "
      + " · ".join(f"[{b}](#{b})" for b in boards)
      + " · [Host throughput](#host-throughput) · [Code size (Cortex-M3)](#code-size-cortex-m3) · "
        "[Not measured](#not-measured)")
    w("")

    # ---- targets
    w("## Targets")
    w("")
    w("Where sheap stands against its targets per call and for footprint (steady state: calls that grew the heap are "
      "left out, see [Method](#method)). A maximum names its call: the call number in the workload, from 0, "
      "warm-up included (the same on every run). Reproduce: `make bench`.")
    w("")
    w("| target | board | measured | status |")
    w("|---|---|---|---|")
    for b, d in boards.items():
        m = d["bench"].get(("sheap", "small", "malloc"))
        f = d["bench"].get(("sheap", "small", "free"))
        if m:
            w(f"| small workload malloc mean ≤ {T_MALLOC_MEAN} instructions | {b} | {m['mean']} | "
              f"{verdict(m['mean'] <= T_MALLOC_MEAN)} |")
            w(f"| small workload malloc max ≤ {T_MALLOC_MAX} | {b} | {m['max']}{at(m)} | "
              f"{verdict(m['max'] <= T_MALLOC_MAX)} |")
        if f:
            w(f"| small workload free mean ≤ {T_FREE_MEAN} | {b} | {f['mean']} | {verdict(f['mean'] <= T_FREE_MEAN)} |")
            w(f"| small workload free max ≤ {T_FREE_MAX} | {b} | {f['max']}{at(f)} | {verdict(f['max'] <= T_FREE_MAX)} |")
    for b, d in boards.items():
        for wl in WORKLOADS:
            ft = d["foot"].get(("sheap", wl))
            if not ft or ft["peak_live"] < T_FOOT_MIN_LIVE:
                continue
            r = ft["peak_foot"] / ft["peak_live"]
            w(f"| footprint ≤ {T_FOOT} × peak live ({wl}, peak live {fmt_bytes(ft['peak_live'])}) | {b} | "
              f"{r:.2f} × | {verdict(r <= T_FOOT)} |")
    for wl in WORKLOADS:
        r = ratios.get((wl, "glibc"))
        if r is not None:
            w(f"| host throughput ≥ glibc ({wl}) | host | {r:.2f} × glibc | {verdict(r >= 1.0)} |")
    w("")

    # ---- method
    w("## Method")
    w("")
    w("- **Workloads** (`tests/bench/workloads.c`, one source for target and host, fixed seed, "
      "the same call sequence for every allocator):")
    w("")
    w("  | workload | what it does |")
    w("  |---|---|")
    descs = {"small": "small churn, 8–256 B: 1024 live slots; a warm-up pass fills them (not counted), then "
                      "50 000 steps each free a random slot and allocate a random size into it",
             "loguni": "log-uniform sizes 8 B–128 KB, 256 live slots, 10 000 free+malloc steps",
             "uniform": "uniform sizes 8 B–64 KB, 128 live slots, 10 000 steps",
             "fifo": "producer/consumer queue of 768–1280 blocks of 16 B–8 KB (log-uniform): "
                     "allocate at the head, free at the tail, 40 000 steps",
             "realloc": "32 buffers grown step by step by realloc (+1/8 and up to 63 B) from 16 B to "
                        "256 KB, then freed and restarted; 20 000 steps",
             "frag": "fragmentation adversary: 16 384 blocks of 48 or 64 B, every other one freed, then "
                     "48 blocks of 32 KB; all freed; 4 rounds"}
    for wl in WORKLOADS:
        w(f"  | `{wl}` | {descs[wl]} |")
    w("")
    ovh = next((d["meta"].get("overhead") for d in boards.values() if d["meta"].get("overhead")), "?")
    w("- **Instructions per call** (QEMU boards, `tests/bench/bench_target.c`): each call is bracketed by "
      "`sheap_board_icount()` (PMCCNTR on aarch64, `rdinstret` on riscv64 and riscv32; exact and repeatable under "
      "`-icount shift=0`, which the board QEMU commands pass). The back-to-back cost of two counter reads "
      f"(measured at start-up, {ovh} on aarch64) is subtracted, so a count is the call itself, including "
      "its call, indirect branch and return. Both allocators are called through the same function pointers.")
    probe_boards = [b for b in boards if b in PROBE_BOARDS]
    if probe_boards:
        txt = ("- **Cortex-M** (" + ", ".join(probe_boards) + "; small workload only): QEMU models no instruction "
               "counter there, so a TCG plugin counts (`tests/bench/icount_plugin.c`, built by `make bench` with the "
               "host gcc against QEMU 7.2's plugin API): every translated block adds its length to a counter, and "
               "the guest calls empty `bench_probe_*` functions around each call (`-DBENCH_PROBES`); "
               "`tools/bench_probes.py` turns the plugin's log into the same statistics, with the back-to-back "
               "probe cost subtracted.")
        for b, (same, total, diff) in checks.items():
            if same == total:
                txt += (f" Cross-check: the same small-workload image on {b}, counted by the plugin, gives exactly "
                        f"the {', '.join(CHECK_FIELDS)} of the guest counter for all {total} allocator/op pairs.")
            else:
                txt += (f" Cross-check on {b}: only {same} of {total} allocator/op pairs agree with the guest "
                        f"counter (differ: {diff}); treat the Cortex-M counts with care.")
        w(txt)
    w("- **Same image, same workload**: one image per workload holds sheap (`sheap_malloc` …, the board's "
      "release `libsheap.a`) and picolibc's own allocator (nano-malloc from the board's picolibc "
      "`libc.a`, as Debian built it), renamed `pico_malloc` … by `tools/bench_pico_malloc.sh` "
      "(`objcopy --redefine-sym`, code unchanged). The image runs the workload on sheap, then on "
      "picolibc; each heap starts empty. On the QEMU virt boards the bench image uses "
      "`tests/bench/bench-<board>.ld`: the board's memory map with 48 MB of image RAM, so that picolibc's "
      "sbrk heap has about 46 MB; sheap keeps a 78 MB frame pool. The other boards keep their own "
      "linker scripts (qemu-virt-riscv32: 16 MB heap region for sheap, about 13 MB of image RAM for "
      "picolibc's heap).")
    if any(d["flags"] for d in boards.values()):
        w("- **Compiler flags** (optimisation and machine flags only): sheap is built by the board's flags; "
          "picolibc's allocator is Debian's binary, its flags read from its debug info (`DW_AT_producer`). "
          "Where the columns differ, the two were not compiled alike:")
        w("")
        w("  | board | sheap (`libsheap.a`) | picolibc nano-malloc |")
        w("  |---|---|---|")
        for b, d in boards.items():
            if d["flags"]:
                w(f"  | {b} | `{d['flags'].get('sheap', '?')}` | `{d['flags'].get('picolibc', '?')}` "
                  f"({d['flags'].get('picolibc_cc', '')}) |")
        w("")
    w("- **Growth calls** are counted apart from the steady state: a call after which the allocator held "
      "more memory (sheap: Ready, metadata or reserved bytes, arena count or translation-table frames "
      "changed; picolibc: the sbrk break moved). The tables give their number and their maximum; the "
      "mean, p50, p99 and max columns are steady-state calls only.")
    w("- **Footprint**: sheap's Ready bytes + metadata bytes (`sheap_stats`), picolibc's sbrk extent "
      "(break − `__heap_start`), both at their highest over the workload, over the peak of live bytes "
      "*as asked for* (sum of request sizes, the same for both). \"frames\" adds what an MMU board also "
      "pays: every physical frame the port uses, translation tables included.")
    w("- **Host throughput** (`tests/bench/bench_host.c`, `gcc -O2`, hosted port): each workload with its "
      "step counts × the scale below, one fresh process per (allocator, workload, round); calls per second, "
      "median over the rounds, as ratios sheap / other (> 1: sheap is faster). glibc is the C library's "
      "malloc; mimalloc is dlopened (`mi_malloc`, `mi_free`, `mi_realloc`); jemalloc is preloaded "
      "(`LD_PRELOAD`, `mallocx`, `dallocx`, `rallocx`) since it cannot be dlopened. Time is the process's "
      "CPU time (user + system, page faults included), which other load on the machine disturbs less than "
      "wall-clock time; only the ratios mean anything, and the spread column says how much the rounds varied. "
      "sheap keeps freed pages Ready (`SHEAP_RETAIN_BYTES` is unlimited by default and nothing calls "
      "`sheap_trim` here), while glibc (heap-top trimming) and jemalloc (timed purging of dirty pages) may "
      "hand free memory back to the kernel and pay page faults to get it again: on the larger workloads part "
      "of a ratio may be that policy rather than speed (not separated here).")
    w("")

    # ---- per board
    for b, d in boards.items():
        w(f"## {b}")
        w("")
        how = ("counted by the QEMU plugin (see [Method](#method))" if b in PROBE_BOARDS
               else "counted by the guest's instruction counter")
        w(f"Instructions per call, steady state, {how}. Reproduce: `make bench` (this board alone: "
          f"`make BOARD={b} bench-board`, then `/usr/bin/python3 tools/bench_report.py build/bench docs`).")
        w("")
        w("| workload | op | sheap mean | p50 | p99 | max | picolibc mean | p50 | p99 | max | "
          "growth calls sheap (max) | growth calls picolibc (max) |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for wl in WORKLOADS:
            for op in ("malloc", "free", "realloc"):
                s = d["bench"].get(("sheap", wl, op))
                p = d["bench"].get(("picolibc", wl, op))
                if not s and not p:
                    continue

                def cols(x):
                    if not x:
                        return "– | – | – | –"
                    return f"{x['mean']} | {fmt_int(x['p50'])} | {fmt_int(x['p99'])} | {fmt_int(x['max'])}"

                def growth(x):
                    if not x:
                        return "–"
                    return f"{x['growth_n']} ({fmt_int(x['growth_max'])})" if x["growth_n"] else "0"

                w(f"| {wl} | {op} | {cols(s)} | {cols(p)} | {growth(s)} | {growth(p)} |")
        w("")
        cdf = f"cdf-{b}.png"
        plot_cdf(b, d, os.path.join(outdir, cdf))
        w(f"![instructions per call, {b}](bench/{cdf})")
        w("")
        w(f"Footprint at the peak. Reproduce: `make bench`.")
        w("")
        w("| workload | peak live | sheap Ready + metadata | ratio | sheap frames (MMU: with tables) | ratio | "
          "picolibc sbrk extent | ratio |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|")
        for wl in WORKLOADS:
            s = d["foot"].get(("sheap", wl))
            p = d["foot"].get(("picolibc", wl))
            if not s or not p:
                continue
            live = s["peak_live"]
            w(f"| {wl} | {fmt_bytes(live)} | {fmt_bytes(s['peak_foot'])} | {s['peak_foot'] / live:.2f} | "
              f"{fmt_bytes(s['peak_frames'])} | {s['peak_frames'] / live:.2f} | {fmt_bytes(p['peak_foot'])} | "
              f"{p['peak_foot'] / p['peak_live']:.2f} |")
        w("")
        fp = f"footprint-{b}.png"
        plot_footprint(b, d, os.path.join(outdir, fp))
        w(f"![footprint over time, {b}](bench/{fp})")
        w("")

    # ---- host
    w("## Host throughput")
    w("")
    if ratios:
        w(f"Throughput ratio sheap / other, median of the rounds ({hostinfo}). > 1 means sheap is faster. "
          "Reproduce: `make bench` (the host part alone: `make BOARD=host bench-host`, then "
          "`/usr/bin/python3 tools/bench_report.py build/bench docs`).")
        w("")
        w("| workload | sheap / glibc | sheap / mimalloc | sheap / jemalloc | spread of sheap's rounds |")
        w("|---|---:|---:|---:|---:|")
        for wl in WORKLOADS:
            runs = host.get(("sheap", wl), [])
            spread = f"±{(max(runs) - min(runs)) / 2 / statistics.median(runs) * 100:.0f} %" if runs else "–"
            w(f"| {wl} | " + " | ".join(f"{ratios[(wl, o)]:.2f}" if (wl, o) in ratios else "–"
                                        for o in HOST_ALLOCS[1:]) + f" | {spread} |")
        w("")
        plot_host(ratios, os.path.join(outdir, "host-throughput.png"))
        w("![host throughput ratios](bench/host-throughput.png)")
    else:
        w("No host results in build/bench/host.txt.")
    w("")

    # ---- code size
    w("## Code size (Cortex-M3)")
    w("")
    if sizes:
        w(f"`arm-none-eabi` {sizeinfo}. Bytes. Reproduce: `make bench` (alone: "
          "`tools/bench_size.sh build/bench/size.txt`).")
        w("")
        w("| what | text | data | bss |")
        w("|---|---:|---:|---:|")
        label = {("sheap", "linked"): "sheap, linked: malloc + realloc + free (core only)",
                 ("picolibc", "linked"): "picolibc nano-malloc, linked: malloc + realloc + free (+ sbrk, memcpy…)",
                 ("sheap", "objects"): "sheap, every core object (whole API, validator, walkers)",
                 ("picolibc", "objects"): "picolibc, objects malloc + free + realloc + sbrk"}
        for who, kind, name, v in sizes:
            if kind in ("linked", "objects") and name in ("total", ""):
                key = (who, kind)
                w(f"| {label.get(key, who + ' ' + kind)} | {fmt_int(v['text'])} | {v['data']} | {fmt_int(v['bss'])} |")
        for who, kind, name, v in sizes:
            if who == "port":
                w(f"| static port object `{name}` (not in the figures above) | {fmt_int(v['text'])} | {v['data']} | "
                  f"{fmt_int(v['bss'])} |")
        w("")
        w("Per core object: " + ", ".join(f"`{n}` {fmt_int(v['text'])}" for who, kind, n, v in sizes
                                            if who == "sheap" and kind == "object") + " bytes of text.")
        table = size_ram_table(sizes, boards)
        if table:
            w("")
            w("### Size and RAM on small parts")
            w("")
            L.extend(table)
            splice_readme(os.path.join(os.path.dirname(os.path.abspath(docs)), "README.md"), table)
    else:
        w("No size results in build/bench/size.txt.")
    w("")

    # ---- not measured
    w("## Not measured")
    w("")
    missing = [b for b in BOARD_ORDER if b not in boards]
    if missing:
        w(f"- Instructions per call on {', '.join(missing)}: no results in build/bench/.")
    if any(b in boards for b in PROBE_BOARDS):
        w("- On Cortex-M only the small workload is counted: the other workloads need several MB for picolibc's "
          "sbrk heap, which these boards' memory maps do not give it.")
    w("- Multi-threaded host throughput: the workloads above are single-threaded; see \"Host threads\" (make bench-threads).")
    w("")

    with open(os.path.join(docs, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(L))
    print(f"wrote {os.path.join(docs, 'BENCHMARKS.md')} and {len(boards) * 2 + (1 if ratios else 0)} plots in {outdir}")


if __name__ == "__main__":
    main()
