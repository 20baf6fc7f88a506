"""Operating Loket: the `loket` command, the processes it supervises (embedded Redis, the
sandbox, the action server, Rasa) and the trained model they serve."""
