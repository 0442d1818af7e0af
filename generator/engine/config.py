"""The typed configuration of the `memberkit` plugin (`plugins: - memberkit:` in mkdocs.yml)."""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c

from generator.content import join
from generator.protection import keystore
from generator.publish import seo


class _Price(base.BaseConfigOption[str | None]):
    """A price as visitors read it (`"$19 a month"`); errors say how to write one."""

    def run_validation(self, value: object) -> str | None:
        if value is None:
            return None
        problem = join.price_problem(value)
        if problem:
            raise base.ValidationError(problem)
        assert isinstance(value, str)
        return value.strip()


class MemberkitConfig(base.Config):
    enabled = c.Type(bool, default=True)
    """Turn the plugin off to build the plain, unprotected site."""

    tiers = c.ListOfItems(c.Type(str), default=["members"])
    """Access tiers, e.g. `[members, premium]`. `public` is always available."""

    access = c.DictOfItems(c.Type(str), default={})
    """Folder defaults, e.g. `{guides/: members}`; a page's `access` front matter wins."""

    join_url = c.Type(str, default="join.md")
    """Where every `memberkit:join` link points: your join page (a page of the site), or
    your checkout link. On the join page itself, join links go to `checkout_url`."""

    checkout_url = c.Type(str, default=join.CHECKOUT_PLACEHOLDER)
    """Your checkout link (Stripe, Gumroad, Lemon Squeezy...): where the join page's
    button goes. The build warns while it is the placeholder and `site_url` is real."""

    price = _Price()
    """What membership costs, as visitors read it, e.g. `"$19 a month"`: shown large in
    the join box, and wherever a page or snippet says `memberkit:price`. Unset: no price
    is shown."""

    join_text = c.Type(str, default=join.DEFAULT_JOIN_TEXT)
    """The line above the join button where a visitor meets members' content and on the
    sign-in page, under the price: what members get, e.g. "Every guide and template."
    Plain text."""

    help_contact = c.Type(str, default="")
    """Where "Forgot your password?" points: `mailto:you@example.com`, a URL or a page of
    the site. Empty: the join page (`join_url`)."""

    ended_notice_days = c.Type(int, default=keystore.ENDED_NOTICE_DAYS)
    """For how many days after their membership ended a member who signs in is told it
    ended on that day, with the way to renew (`join_url`), instead of "wrong password".
    0: not told."""

    teasers = c.Choice(seo.TEASERS, default="index")
    """Whether search engines may index the teasers of members' pages (`index`), or
    not (`noindex`). A page's front matter `noindex: true|false` wins."""

    social_image = c.Optional(c.Type(str))
    """The picture link previews show (og:image), a file in docs/ or an https:// URL,
    ideally 1200x630. A page's front matter `image:` wins."""

    feed = c.Type(bool, default=True)
    """Publish `feed.xml` (Atom): every released page with a `date` in its front matter,
    public pages in full, members' pages as their teaser. Needs `site_url`."""

    feed_entries = c.Type(int, default=20)
    """How many of the newest dated pages the feed holds."""

    checkout_api = c.Optional(c.Choice(("stripe", "lemonsqueezy")))
    """The checkout `memberkit members sync` reads buyers from: `stripe` or `lemonsqueezy`
    (its API key in MEMBERKIT_CHECKOUT_KEY). Unset: no sync."""

    checkout_tiers = c.DictOfItems(c.Type(str), default={})
    """Which tier a purchase gives, by its Stripe price or product id, or its Lemon
    Squeezy variant, product or price id, e.g. `{price_1Q2w3e: premium}`. A purchase of
    anything not listed gives the first tier."""

    mail_from = c.Type(str, default="")
    """The sender of members' emails (`memberkit members ... --send`), e.g.
    `Ana at Example <ana@example.com>`; empty: MEMBERKIT_MAIL_FROM."""

    templates_dir = c.Type(str, default="templates")
    """Folder of document templates, relative to mkdocs.yml."""

    templates_access = c.Type(str, default="members")
    """The tier of a template whose front matter does not say."""

    templates_sample = c.Type(bool, default=False)
    """Show visitors a sample of every members' template (the document filled in with
    its examples) on its page; a template's front matter `sample: true|false` wins.
    A sample makes that template's text public."""

    cache = c.Type(bool, default=True)
    """Reuse the download files in `.cache/memberkit/` while their template is unchanged."""

    headers = c.Type(bool, default=True)
    """Write `_headers` (Netlify, Cloudflare Pages), `robots.txt` and a CSP meta tag."""

    csp_meta = c.Type(bool, default=True)
    """Also put the Content-Security-Policy into a `<meta>` of every page, for hosts that
    send no custom headers (GitHub Pages, S3). Where the host sends `_headers` (Netlify,
    Cloudflare Pages, `memberkit nginx`), turn it off: every page is ~250 bytes smaller."""

    comments = c.DictOfItems(c.Type(str), default={})
    """giscus comments on public pages with `comments: true`: repo, repo_id, category,
    category_id (from giscus.app). Empty: no comments anywhere."""

    csp_sources = c.DictOfItems(c.ListOfItems(c.Type(str)), default={})
    """Sources to allow besides what the site is found to load, by directive, e.g.
    `{img-src: [https://images.example.com], connect-src: [https://api.example.com]}`
    (what a script fetches cannot be seen in the pages)."""

    csp_forbid = c.ListOfItems(c.Type(str), default=[])
    """Hosts or origins the policy never allows, even where a page loads from them
    (the browser then refuses them); the build names where they are used."""
