"""Keyset lists link to the next page and, past the first, back to the first (until
2026-12-07 only "next page": the way back to the start was the browser's back button, one
page at a time)."""

from django.template import Context, Template
from django.test import RequestFactory

PAGER = Template("{% load koto_core %}{% pager cursor %}")


def render(address: str, cursor: str | None) -> str:
    request = RequestFactory().get(address)
    return PAGER.render(Context({"request": request, "cursor": cursor}))


def test_pager__first_page__next_only_keeping_the_search():
    html = render("/clients/search/?q=haddad", "c2")
    assert html == '<p class="pager"><a href="?q=haddad&amp;cursor=c2">Next page</a></p>\n'


def test_pager__later_page__first_and_next_keeping_the_filter():
    html = render("/placement/?status=open&cursor=c2", "c3")
    assert '<a href="?status=open">First page</a>' in html
    assert '<a href="?status=open&amp;cursor=c3">Next page</a>' in html


def test_pager__last_page_without_other_parameters__first_is_the_bare_address():
    html = render("/funding/claims/?cursor=c9", None)
    assert html == '<p class="pager"><a href="/funding/claims/">First page</a></p>\n'


def test_pager__one_page_only__nothing():
    assert render("/funding/claims/", None).strip() == ""
