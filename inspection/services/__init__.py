"""Domain behaviour: plain-data functions that flush, log and never touch the request."""
