"""wikibridge: e-mail tickets for wiki volunteers, with on-wiki actions and public verification."""

__version__ = "0.1.0"
