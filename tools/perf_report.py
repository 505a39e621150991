#!/usr/bin/env python3
"""perf_report.py - turn a Google Benchmark JSON run into docs/performance.md.

Usage: perf_report.py RESULTS.json docs/performance.md
Uses the median of the repetitions; ratios are against the baseline of each group, which
was measured in the same run.
"""
import json
import sys

GROUPS = [
    {
        "title": "Null DeviceIoControl through the whole path",
        "baseline": "BM_DirectDispatch",
        "rows": ["BM_DirectDispatch", "BM_NtDeviceIoControl", "BM_Win32DeviceIoControl"],
        "notes": {
            "BM_DirectDispatch": "the driver's dispatch routine called directly on a reused IRP (baseline)",
            "BM_NtDeviceIoControl": "the system service: handle lookup, access check, IRP, IoCallDriver, completion",
            "BM_Win32DeviceIoControl": "what an app pays: kernel32's DeviceIoControl down to the driver and back",
        },
        "explain": (
            "The request is METHOD_BUFFERED with no input or output, so no buffer is allocated; the driver "
            "completes at once. The difference to the baseline is the I/O manager's own work: a handle "
            "table lookup (one lock), a reference on the file object, an IRP from the per-thread cache, "
            "the IRP history (a few stores), the completion walk and the requester's side of completion."
        ),
    },
    {
        "title": "A 64 KiB read: buffered against direct I/O",
        "baseline": "BM_BufferedRead64K",
        "rows": ["BM_Memcpy64K", "BM_BufferedRead64K", "BM_DirectRead64K"],
        "notes": {
            "BM_Memcpy64K": "one 64 KiB memcpy, for scale (the copy buffered I/O adds)",
            "BM_BufferedRead64K": "ReadFile on a DO_BUFFERED_IO device: pool SystemBuffer, driver fill, copy back (baseline)",
            "BM_DirectRead64K": "ReadFile on a DO_DIRECT_IO device: MDL probe and lock, a second mapping of the app's 16 pages for the driver, no copy",
        },
        "explain": (
            "Both drivers fill the 64 KiB request with one byte value. On Windows direct I/O saves the copy "
            "and costs a page-table mapping. In iosim the second mapping is real too: one host mmap per "
            "page of the simulated physical memory file, and an munmap at completion, so direct I/O here "
            "pays system calls where Windows writes page-table entries; the ratio shows that cost, not "
            "Windows' own."
        ),
    },
    {
        "title": "A request against the depth of the device stack",
        "baseline": "BM_StackDepth/0",
        "rows": [f"BM_StackDepth/{n}" for n in (0, 1, 2, 4, 8, 16)],
        "notes": {f"BM_StackDepth/{n}": (f"{n} pass-through filter(s) above the device" if n else
                                         "the device alone (baseline)") for n in (0, 1, 2, 4, 8, 16)},
        "fit": True,
        "explain": (
            "A null DeviceIoControl (the system service) to a device with N pass-through filters on top "
            "(bench_filter.sys: each skips its stack location and calls the driver below). Each layer adds "
            "one IoCallDriver (the dispatch trace check, the IRP history entry, the filter's own code) and "
            "one stack location, so the cost grows with the depth; the fit below gives the cost per layer "
            "and how close the growth is to a straight line (R\u00b2). Past 8 locations the IRP no longer "
            "comes from the per-thread cache but from pool, a step the fit averages in."
        ),
    },
    {
        "title": "Asynchronous completion: one round trip",
        "baseline": "BM_CondVarRoundTrip",
        "rows": ["BM_CondVarRoundTrip", "BM_AsyncRoundTrip"],
        "notes": {
            "BM_CondVarRoundTrip": "a request and its answer between two std::threads, mutex + condition_variable (baseline)",
            "BM_AsyncRoundTrip": "overlapped DeviceIoControl pended by bench_pend.sys, completed by its system thread, app woken in GetOverlappedResult",
        },
        "explain": (
            "The simulated round trip is two context switches (the app waits, the driver's system thread "
            "gets the baton, completes the IRP, the app gets it back), and each switch is a host-thread "
            "hand-off much like the baseline's. On top come the I/O path, the pending protocol and the "
            "requester's side of completion as a kernel APC in the app's thread."
        ),
    },
    {
        "title": "Asynchronous completion: N requests outstanding",
        "baseline": None,
        "rows": [f"{name}/{n}" for n in (1, 8, 64) for name in ("BM_CondVarThroughput", "BM_OverlappedThroughput")],
        "notes": {
            **{f"BM_CondVarThroughput/{n}": f"{n} request(s) queued to a std::thread at once, then all answers awaited (baseline for /{n})" for n in (1, 8, 64)},
            **{f"BM_OverlappedThroughput/{n}": f"{n} overlapped IOCTL(s) outstanding at once, then each awaited with GetOverlappedResult" for n in (1, 8, 64)},
        },
        "pairs": {f"BM_OverlappedThroughput/{n}": f"BM_CondVarThroughput/{n}" for n in (1, 8, 64)},
        "per_item": True,
        "explain": (
            "With many requests outstanding the driver's thread completes them in a batch: the app "
            "issues N requests, then waits; the worker runs once and completes all N, each completion "
            "queueing its APC to the app's thread. The time per request falls as N grows; the ratio is "
            "against the baseline with the same N."
        ),
    },
]


def main():
    results, out = sys.argv[1], sys.argv[2]
    data = json.load(open(results))
    medians = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            medians[b["run_name"]] = b["real_time"], b["time_unit"]
    ctx = data["context"]
    lines = [
        "# Performance",
        "",
        "Measured with Google Benchmark (`bench/`), release preset, by `tools/bench.sh`, which rewrites",
        "this file. Each figure is the median of 3 repetitions; every ratio compares numbers from the same",
        "run. Timings are never asserted in tests.",
        "",
        f"Machine: {ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz, run {ctx.get('date')}.",
        "",
    ]
    for group in GROUPS:
        base = medians.get(group["baseline"]) if group["baseline"] else None
        per_item = group.get("per_item", False)
        header = "| benchmark | time | per request | ratio to baseline | what it measures |" if per_item else \
            "| benchmark | time | ratio to baseline | what it measures |"
        lines += [f"## {group['title']}", "", group["explain"], "", header,
                  "|---|---|---|---|---|" if per_item else "|---|---|---|---|"]
        for row in group["rows"]:
            if row not in medians:
                continue
            t, unit = medians[row]
            reference = medians.get(group.get("pairs", {}).get(row, "")) or base
            if row in group.get("pairs", {}).values() or row == group["baseline"]:
                ratio = "1.0x"
            else:
                ratio = f"{t / reference[0]:.1f}x" if reference else "-"
            if per_item:
                n = int(row.split("/")[1])
                lines.append(f"| `{row}` | {t:.1f} {unit} | {t / n:.1f} {unit} | {ratio} | {group['notes'][row]} |")
            else:
                lines.append(f"| `{row}` | {t:.1f} {unit} | {ratio} | {group['notes'][row]} |")
        if group.get("fit"):
            points = [(int(r.split("/")[1]), medians[r][0]) for r in group["rows"] if r in medians]
            if len(points) >= 3:
                n = len(points)
                mx = sum(x for x, _ in points) / n
                my = sum(y for _, y in points) / n
                sxx = sum((x - mx) ** 2 for x, _ in points)
                sxy = sum((x - mx) * (y - my) for x, y in points)
                slope = sxy / sxx
                intercept = my - slope * mx
                ss_tot = sum((y - my) ** 2 for _, y in points)
                ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in points)
                r2 = 1 - ss_res / ss_tot if ss_tot else 1.0
                unit = medians[group["rows"][0]][1]
                lines += ["", f"Least-squares fit over the {n} depths: **{slope:.1f} {unit} per layer** on top of "
                              f"{intercept:.1f} {unit} (R\u00b2 = {r2:.3f}; 1.000 is a straight line)."]
        lines.append("")
    open(out, "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
