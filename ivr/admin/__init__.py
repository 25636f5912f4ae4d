"""What admins and operators use: the `ivr` command line and the web page."""
