"""The customers' e-mails: what they say (`compose`, pure) and how they are sent (`sender`)."""
