"""The conversation runtime: one customer message in, the bot's turn judged, replies or a
handoff out. Talks to Rasa over HTTP only; never imports what the Rasa server loads."""
