"""The bottom layer every other part stands on: the channel-neutral message types, the
contract a channel adapter fulfils, errors, settings, service hours and handoff reasons."""
