"""`ficlens tags FILE`: the AO3 tag block, plus declared-vs-inferred differences."""
from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def tags(
        file: Path = typer.Argument(..., help="A story file."),
        confidence: bool = typer.Option(False, "--confidence", help="Show each tag's confidence."),
    ):
        """Print the AO3-style tag block ficlens proposes for a story."""
        from ..cli import _analyze_one, out
        from ..limits import DEFAULT_LIMITS
        from .ao3 import tag_block

        story = _analyze_one(file, None, DEFAULT_LIMITS)
        if story is None:
            raise typer.Exit(2)
        print(tag_block(story, with_confidence=confidence))
        for row in story.tags.get("declared_vs_inferred", []):
            if row["disagree"]:
                out.print(f"[yellow]declared {row['tag']}: {', '.join(row['declared'])}; "
                          f"ficlens reads: {', '.join(row['inferred'])}[/yellow]", highlight=False)
