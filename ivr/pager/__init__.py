"""Paging carried out: the scheduler that wakes for due steps and the dialer that rings.

The rules are pure, in `ivr.paging`; the truth is in the database, in
`ivr.store.pages`. This package is the I/O between them.
"""
