"""Operators' maintenance: backup, restore, integrity check and purge of old tickets.

Imported only by the commands that use it (`wikibridge backup`, `restore`, `check`, `purge`,
and `db upgrade` for its backup), never by ingest.
"""
