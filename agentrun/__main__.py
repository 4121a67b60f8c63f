"""`python -m agentrun` runs the command line."""

from agentrun.launcher import main

main()
