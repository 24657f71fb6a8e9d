"""The outbox worker: carries out jobs with side effects outside the database.

Jobs (sending mail now, wiki actions later) are written by domain code in the same transaction
as the change that causes them (``wikibridge.store.jobs.enqueue``) and run by ``wikibridge
worker``. This package is imported by the command line, so its ``__init__`` stays empty: the
worker and its handlers are imported when they run.
"""
