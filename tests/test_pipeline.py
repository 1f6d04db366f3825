import pytest

from ficlens.errors import PipelineError
from ficlens.model import Source
from ficlens.pipeline import Pipeline, Stage
from ficlens.read import story_from_text


class Upper(Stage):
    name = "upper"
    requires = ("text",)
    assigns = ("shout",)

    def __call__(self, story):
        story.meta["shout"] = story.text.upper()


class NeedsShout(Stage):
    name = "count"
    requires = ("shout",)
    assigns = ("count",)

    def __call__(self, story):
        story.meta["count"] = story.meta["shout"].count("A")


def make(text):
    return story_from_text(text, Source(path="t.txt", format="txt"))


def test_stages_run_in_order_and_record_layers():
    story = Pipeline([Upper(), NeedsShout()])(make("a banana"))
    assert story.meta["count"] == 4
    assert {"shout", "count"} <= story.layers


def test_a_stage_whose_layer_is_missing_is_refused_at_construction():
    with pytest.raises(PipelineError, match="requires layer 'shout'"):
        Pipeline([NeedsShout(), Upper()])


def test_until_runs_a_prefix_and_names_unknown_stages():
    pipeline = Pipeline([Upper(), NeedsShout()])
    story = pipeline.until("upper")(make("aa"))
    assert "count" not in story.meta
    with pytest.raises(PipelineError, match="unknown stage 'nope'"):
        pipeline.until("nope")


def test_pipe_reports_stage_timings():
    timings = {}
    stories = Pipeline([Upper(), NeedsShout()]).pipe([make("a"), make("b")], timings=timings)
    assert [s.meta["count"] for s in stories] == [1, 0]
    assert set(timings) == {"upper", "count"}
