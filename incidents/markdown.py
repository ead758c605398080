"""Markdown rendering lives in ``ircore.markdown`` (every app renders with it); this name
stays for the imports that use it."""

from ircore.markdown import ALLOWED_TAGS, LINK_REL, render_markdown

__all__ = ["ALLOWED_TAGS", "LINK_REL", "render_markdown"]
