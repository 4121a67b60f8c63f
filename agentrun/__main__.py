"""`python -m agentrun` runs the command line."""

from agentrun.cli import main

main()
