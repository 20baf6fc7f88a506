"""The Redis streams between the channels and the router, and between the router and the
channels: consumer groups with leases, and the workers that drain them (intake, delivery)."""
