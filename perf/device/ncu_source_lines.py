"""The source lines where a kernel's warps wait most, from Nsight Compute's source page as CSV
(`ncu --import REPORT --page source --csv --print-source cuda`), for the device log.

Usage: python3 ncu_source_lines.py SOURCE.csv [N]

The page's columns are Nsight Compute's own and vary between its versions: the script takes the
first column whose name says "Warp Stall Sampling" and "All" (all samples, not only those of
issued instructions), the line number column ("#" or "Line") and the source text column, and
prints the N lines with the most samples with their share of all. When it cannot find them it
says so and prints the columns it saw, so a device run never stops here.
"""
import csv
import sys


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    try:
        with open(path, newline="", errors="replace") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        print(f"ncu source lines: cannot read {path}: {e}")
        return 0
    # The header: the first row naming a stall-sampling column.
    head = next((k for k, r in enumerate(rows) if any("Stall Sampling" in c for c in r)), None)
    if head is None:
        print(f"ncu source lines: no stall-sampling column in {path} ({len(rows)} rows); first row: "
              f"{rows[0][:8] if rows else 'none'}")
        return 0
    names = rows[head]
    samples = next((k for k, c in enumerate(names) if "Stall Sampling" in c and "All" in c), None)
    if samples is None:
        samples = next(k for k, c in enumerate(names) if "Stall Sampling" in c)
    line = next((k for k, c in enumerate(names) if c.strip() in ("#", "Line", "Line Number")), None)
    source = next((k for k, c in enumerate(names) if c.strip() in ("Source", "Source Code")), None)
    data = []
    for r in rows[head + 1:]:
        if len(r) <= samples:
            continue
        v = number(r[samples])
        if v is not None and v > 0:
            data.append((v, r))
    total = sum(v for v, _ in data)
    if not data:
        print(f"ncu source lines: no samples in column '{names[samples]}' of {path}")
        return 0
    print(f"ncu source lines: '{names[samples]}', {total:.0f} samples; the {n} lines with the most:")
    for v, r in sorted(data, key=lambda x: -x[0])[:n]:
        where = r[line].strip() if line is not None and line < len(r) else "?"
        text = " ".join(r[source].split())[:110] if source is not None and source < len(r) else ""
        print(f"  {100.0 * v / total:5.1f}%  line {where:>5}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
