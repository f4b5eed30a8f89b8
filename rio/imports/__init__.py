"""Importing what people already keep: a tracker spreadsheet (CSV or XLSX) read into a draft
scenario file that a person checks and then loads (`rio import tracker`).

Nothing here records anything: the draft is the whole output. `sheets` reads cells with a
well-kept reader, `vocabulary` holds the one table of header synonyms and status words,
`phrases` finds dates in headers and due phrases in notes with the domain's own `parse_due`,
`tracker` turns rows into the draft's entries and `draft` writes them as YAML.
"""
