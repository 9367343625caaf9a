"""Facts of the demo scenario that need no database: the one password of every demo account and the communities.
Kept apart from ``people`` (which imports models) so that ``kizuna.demo.pair`` can use them before Django is set up."""

# The one password of every demo account (documented in docs/cli.md and printed by `kizuna demo`).
DEMO_PASSWORD = "kizuna-demo-2025"  # noqa: S105 - a published demo password, never a real one

ALL_COMMUNITIES = ("CYBER", "MARITIME", "HADR", "SPACE", "EDT", "DISINFO", "INDUSTRY")
