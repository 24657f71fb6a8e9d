"""Administration: volunteers and their access, queues, routing rules, canned responses, news.

Every function here takes the Session and the acting volunteer's :class:`~wikibridge.access.Scope`,
asks :mod:`wikibridge.access` whether the change is allowed, records an audit event naming who
did it, and never commits: the caller owns the unit of work. Something the actor may not
administer is :class:`NotFound` (a 404, like anything else out of sight); input that cannot be
accepted is :class:`Invalid`, with a message meant for the volunteer (both in ``base``).

The command line imports this package, so this ``__init__`` stays empty.
"""
