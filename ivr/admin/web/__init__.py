"""The admin web page: Starlette routes over the same store the CLI uses.

`app.create_app(config, db)` builds it; `ivr web` serves it with uvicorn.
`site` is the plumbing every page shares and `views/` holds one module per
page. Every query lives under `ivr.store`; pure helpers (SLA verdicts,
chart geometry, the Prometheus text format) live in their own modules so
they are tested without a server or a database.
"""
