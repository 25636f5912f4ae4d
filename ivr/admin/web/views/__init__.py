"""One module of views per page; each module's `routes(site)` says where its views live."""
