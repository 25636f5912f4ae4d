"""A fault's life, written once: how it moves (`lifecycle`) and how its SLA clock reads (`clock`).

Pure: no database, no clock, no I/O. The store applies what these decide,
and the command line, the web page and paging all go through them.
"""
