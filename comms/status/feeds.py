"""``/status/feed.atom``: the published customer updates, newest first (Django's
syndication framework). Entries carry no author: people are named only where a published
notice's own words name them."""

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from comms.status import selectors
from comms.status.page import page_name
from ircore.markdown import render_markdown

ENTRIES = 50


class UpdatesFeed(Feed):
    feed_type = Atom1Feed

    def title(self) -> str:
        return f"{page_name()}: updates"

    def subtitle(self) -> str:
        return f"Incident updates published on {page_name()}."

    def author_name(self) -> str:
        return page_name()

    def link(self) -> str:
        return reverse("status-page")

    def items(self):
        return (
            selectors.public_notices()
            .only("id", "incident_id", "subject", "body", "published_at")
            .order_by("-published_at", "-id")[:ENTRIES]
        )

    def item_title(self, item) -> str:
        return item.subject

    def item_description(self, item) -> str:
        return render_markdown(item.body)

    def item_link(self, item) -> str:
        return reverse("status-incident", kwargs={"pk": item.incident_id}) + f"#update-{item.pk}"

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.published_at
