"""`python -m ficlens` runs the command line (the same as the `ficlens` script)."""
from ficlens.cli import main

main()
