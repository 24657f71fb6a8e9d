"""All SQL lives here. Functions take a Session and never commit: the caller owns the
unit of work."""
