"""The `loket` subcommands that act on a running Loket's Redis: handoffs, agents, review."""
