"""Read `cargo test --no-run --message-format=json` on stdin and print the
path of every test executable (artifacts built with the test profile), one a
line, in build order, without duplicates."""
import json
import sys

seen = set()
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") != "compiler-artifact":
        continue
    if not (msg.get("profile") or {}).get("test"):
        continue
    exe = msg.get("executable")
    if exe and exe not in seen:
        seen.add(exe)
        print(exe)
