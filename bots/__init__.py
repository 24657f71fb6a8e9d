"""The wikibridge bots: pywikibot scripts, one per task, run as ``python -m bots.NAME``.

They read the wikibridge database through :mod:`wikibridge` (settings from the file named by
``WIKIBRIDGE_CONFIG``) and edit through pywikibot (``user-config.py``; see
``user-config.py.example`` at the top of the repository).
"""
