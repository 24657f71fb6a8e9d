"""On-wiki actions from tickets: checks, summaries, wikitext edits and the API adapters."""
