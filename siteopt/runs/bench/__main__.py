"""`python -m siteopt.runs.bench --child JSON`: one benchmark run in a fresh process."""

import sys

from siteopt.runs.bench.runner import child_main

if len(sys.argv) >= 3 and sys.argv[1] == "--child":
    child_main(sys.argv[2:])
else:
    sys.exit("usage: siteopt bench (this module's --child is internal)")
