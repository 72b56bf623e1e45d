"""The `web_scraper` metadata namespace of a URL asset (seed 3.2: "web_scraper" (source_url)).

Written by the web scraper only; every text in it comes from the page, so it is shown as
plain text, never as HTML.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

NAMESPACE = "web_scraper"


class WebScraperMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source_url: str = Field(description="The URL as the user gave it.")
    final_url: str | None = Field(default=None, description="Where its redirects ended.")
    canonical_url: str | None = Field(
        default=None, description="The page's own <link rel=canonical> or og:url."
    )
    title: str | None = None
    description: str | None = None
    site_name: str | None = Field(default=None, description="og:site_name or application-name.")
    image_url: str | None = Field(default=None, description="The page's og:image, if any.")
    icon_url: str | None = Field(default=None, description="The page's icon (else /favicon.ico).")
    preview_from: str | None = Field(
        default=None,
        description="Which picture the preview was made from: og:image, icon or screenshot.",
    )
    screenshot: bool = Field(
        default=False, description="A screenshot child was made (linked downloaded_by)."
    )
    fetched_at: str | None = Field(
        default=None, description="When the page was read (ISO 8601, UTC)."
    )
    notes: list[str] = Field(
        default_factory=list, description="What could not be fetched, and why."
    )
