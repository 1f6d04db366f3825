"""`ficlens serve STORE`: run the web app with uvicorn, on 127.0.0.1 unless told otherwise."""
from __future__ import annotations

import ipaddress
from pathlib import Path

import typer

from .app import DEFAULT_MAX_UPLOAD, LOOPBACK_HOSTS


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        store: Path = typer.Argument(..., help="The corpus store (a .duckdb file; created empty if missing)."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. Anything but loopback "
                                 "exposes your library (and uploads) to the network."),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
        max_upload: int = typer.Option(DEFAULT_MAX_UPLOAD, "--max-upload", min=1,
                                       help="Largest story file an upload may carry, in bytes."),
    ):
        """Browse a corpus store in the browser: library with facets and search, story reports, upload."""
        import uvicorn
        from rich.console import Console

        from ..errors import FiclensError
        from .app import create_app

        err = Console(stderr=True)
        if not store.parent.exists():
            err.print(f"[red]error:[/red] {store.parent}: no such folder", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        loopback = is_loopback(host)
        try:
            web = create_app(store, max_upload_bytes=max_upload,
                             allowed_hosts=LOOPBACK_HOSTS if loopback else None)
        except FiclensError as e:
            err.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        if not loopback:
            err.print(f"[yellow]warning:[/yellow] listening on {host}: anyone who can reach this address "
                      "can read the library and upload stories", highlight=False, soft_wrap=True)
        shown = f"[{host}]" if ":" in host else host
        err.print(f"ficlens serving {store} on http://{shown}:{port}/  (Ctrl+C stops)", highlight=False, soft_wrap=True)
        uvicorn.run(web, host=host, port=port, log_level="warning", server_header=False)
