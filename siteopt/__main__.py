"""`python -m siteopt` runs the command line."""

from siteopt.cli import main

main()
