"""`ficlens serve`: a local web app over a corpus store (library, story reports, upload, JSON API).

    from ficlens.web.app import create_app
    app = create_app("fics.duckdb")   # a FastAPI app; run it with uvicorn on 127.0.0.1
"""
