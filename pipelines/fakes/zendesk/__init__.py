"""A fake Zendesk Support account: the world's tickets, people and setup in Zendesk's own shapes."""

from pipelines.fakes.zendesk.api import FakeZendesk as FakeApi

__all__ = ["FakeApi"]
