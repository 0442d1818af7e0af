"""The owner's links from the settings, as each page links to them: the join page,
the checkout, where to ask for a new password; and the join box beside sealed parts."""

from __future__ import annotations

import html

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from generator.content import join
from generator.engine.config import MemberkitConfig

#: The join page an owner gets unless they set `join_url`.
DEFAULT_JOIN = "join.md"


class Links:
    def __init__(self, settings: MemberkitConfig) -> None:
        self.settings = settings

    def fill(self, html_text: str, page: Page, files: Files) -> str:
        """Replace `memberkit:join`, `memberkit:checkout`, `memberkit:price` and the join
        box's mark."""
        html_text = join.fill_price(html_text, self.settings.price)
        if join.JOIN_LINK in html_text:
            url = html.escape(self.join_url(page, files))
            html_text = html_text.replace(join.JOIN_LINK, f'href="{url}"')
        if join.CHECKOUT_LINK in html_text:
            url = html.escape(self.link(self.settings.checkout_url, "checkout_url", page, files))
            html_text = html_text.replace(join.CHECKOUT_LINK, f'href="{url}"')
        if join.BOX_MARK in html_text:
            html_text = html_text.replace(join.BOX_MARK, self.join_box(page, files))
        return html_text

    def join_url(self, page: Page, files: Files) -> str:
        """The join page; on the join page itself, the checkout."""
        target: str = self.settings.join_url
        if (
            not join.is_address(target)
            and files.get_file_from_path(target.partition("#")[0]) is page.file
        ):
            return self.link(self.settings.checkout_url, "checkout_url", page, files)
        return self.link(target, "join_url", page, files)

    def join_box(self, page: Page, files: Files) -> str:
        contact: str = self.settings.help_contact
        help_url = (
            self.link(contact, "help_contact", page, files)
            if contact
            else self.link(self.settings.join_url, "join_url", page, files)
        )
        return join.join_box(
            self.settings.join_text, self.join_url(page, files), help_url, self.settings.price
        )

    def link(self, target: str, setting: str, page: Page, files: Files) -> str:
        """A setting's address as a link from `page`: a URL as it is, a page of docs/
        relative to it."""
        if join.is_address(target):
            return target
        source, hash_, fragment = target.partition("#")
        linked = files.get_file_from_path(source)
        if linked is None and setting == "join_url" and target == DEFAULT_JOIN:
            # A site without a join page of its own: joining is the checkout.
            return self.link(self.settings.checkout_url, "checkout_url", page, files)
        if linked is None:
            raise PluginError(
                f"mkdocs.yml: plugins.memberkit.{setting} is {target!r}, which is neither a URL "
                "nor a page in docs/; set it to an https:// address or a page such as join.md"
            )
        return linked.url_relative_to(page.file) + hash_ + fragment
