"""The only code that talks SIP and RTP, and the only code that imports the SIP engine."""
