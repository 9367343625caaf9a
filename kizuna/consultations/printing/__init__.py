"""Printable minutes: ``collect`` gathers what one viewer may see of a meeting, ``pdf`` draws it (the HTML print
view renders the same collected data with a template)."""
