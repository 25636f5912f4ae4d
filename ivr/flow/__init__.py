"""The caller's call flow: a pure state machine, events and `now` in, commands out."""
