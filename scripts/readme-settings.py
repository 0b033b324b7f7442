#!/usr/bin/env python3
"""Rewrite README.md's settings table (between the settings markers) from
`accountguard serve --help`, so the documented settings and defaults are
the code's. Usage: scripts/readme-settings.py BUILD/accountguard"""
import re
import subprocess
import sys

BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def settings(binary):
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True,
                         check=True).stdout
    rows = []
    for line in out.split("Settings", 1)[1].splitlines()[1:]:
        m = re.match(r"\s+--(\S+)\s+(.*)$", line)
        if not m:
            continue
        name, rest = m.group(1).replace("-", "_"), m.group(2)
        d = re.search(r" \[([^\]]*)\]$", rest)
        default = d.group(1) if d else ""
        help_ = rest[: d.start()] if d else rest
        rows.append((name, default, help_.strip()))
    return rows


def table(rows):
    lines = [BEGIN, "| setting | default | meaning |", "|---|---|---|"]
    for name, default, help_ in rows:
        dflt = f"`{default}`" if default else "–"
        lines.append(f"| `{name}` | {dflt} | {help_.replace('|', '/')} |")
    lines.append(END)
    return "\n".join(lines)


def main():
    rows = settings(sys.argv[1])
    text = open("README.md").read()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + table(rows) + text[end:]
    if new != text:
        open("README.md", "w").write(new)
        print(f"README.md: {len(rows)} settings written")


if __name__ == "__main__":
    main()
