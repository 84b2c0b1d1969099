"""Roadmap editing: the chain's roadmap co-edited live (docs/roadmap.md)."""
