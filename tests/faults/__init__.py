"""The fault suite: each fault injected for real, counts shown before and after (``-rP``).

Each case: the fault -> the expected outcome [module].

- database down during ingest (PostgreSQL stopped; SQLite's file unopenable) -> exit 75, the
  message in the spool; `spool reprocess` stores it once, the MTA's retry is a duplicate
  [test_database_down]
- database down during a reply in the web app -> a clean error page, no article or job
  half-written; the same reply afterwards is stored once [test_database_down]
- database down before / inside a worker job -> nothing claimed / the job stays claimed and is
  run again after its lease: one mail [test_database_down]
- SMTP refusing for now (4xx at RCPT or DATA) -> job pending with the server's reply, then one
  mail; refusing for good (5xx at DATA) -> failed with the reply, nothing sent
  [test_mail_servers]; SMTP down (nothing listening) -> retried, then one mail
  [test_mail_servers]
- IMAP connection cut inside a FETCH literal (a proxy) -> what was stored is marked seen or
  deleted, the cut message is untouched; the next fetch stores each once [test_mail_servers];
  IMAP server stopped, connection shut between messages [tests/mail/test_imap.py]
- the wiki answering 5xx or maxlag, not answering, or down -> the action stays queued with the
  reason; then one edit [test_wiki]
- the wiki saves the edit and its answer is lost (the proxy drops it) -> the retry finds its
  own edit: no second edit [test_wiki]
- a worker SIGKILLed after its claim, before the SMTP send -> after the lease and a restart,
  one mail [test_worker_killed]
- a worker SIGKILLed before / after the wiki edit -> one edit [test_worker_killed]
- disk full (a 1 MiB tmpfs) while writing a blob or the spool file; a file size limit -> exit
  75, no half-written or orphan file; reprocess then stores it once [test_disk_full]
- two importers and two workers racing on PostgreSQL -> numbers unique, every message stored
  once, every job run once, one mail each [test_race]
"""
