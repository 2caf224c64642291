"""Koto's own 400 and 500 pages, in the page's language (they were Django's English
defaults with DEBUG off). The 500 page needs neither the request's context nor the
database: the error may be theirs."""

import pytest
from django.test import Client
from django.urls import path


def _boom(request):
    raise RuntimeError("a bug of Koto's own")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.parametrize(("language", "expected"), [("en", "Request not understood"), ("fi", None)])
def test_bad_request__koto_page_in_the_request_language(language, expected):
    # an address not in ALLOWED_HOSTS answers 400 before any view
    response = Client(HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE=language).get(
        "/accounts/login/"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert f'<html lang="{language}">' in html and "koto/koto.css" in html
    assert "<main" in html and "<h1>" in html and "Bad Request (400)" not in html
    if expected:
        assert f"<h1>{expected}</h1>" in html


@pytest.mark.urls("tests.test_error_pages")
def test_server_error__koto_page_without_database_or_request_context():
    # no `db` fixture: a query would fail the test
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="en">' in html and "<h1>Something went wrong</h1>" in html
    assert "<script" not in html and "Server Error (500)" not in html


def test_error_templates__render_with_no_context_at_all():
    from django.template import loader

    for name in ("400.html", "500.html"):
        html = loader.get_template(name).render()
        assert "<title>" in html and "<main" in html, name
