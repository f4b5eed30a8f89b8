"""The status board: server-rendered pages for people who read status rather than query it.

Plain HTML from Jinja2 templates, one stylesheet, no JavaScript. It reads the same read
model and reports as the API, signs people in with their API key once (a signed session
cookie holding the key id) and can be opened read-only to the public by the operator.
"""
