"""Letters: the packaged templates, the context they print, rendering to PDF with
WeasyPrint (in letter worker processes, never in an officer's session) and the text
preview officers read before asking for a letter."""
