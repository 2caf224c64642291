"""Structural accessibility rules (WCAG 2.1 AA) on the server-rendered pages, read with
Django's test client: what axe in the browser tests does not see, or sees only on the pages
a journey happens to visit.

Each page is parsed into a small tree and checked for: the page's language, one h1 and no
skipped heading level, the landmarks and the skip link, a title naming the page, a visible
label tied to every form control, required fields marked in text, a caption or name on
every table and a scope on its header cells, and unique ids."""

import datetime as dt
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from koto.core.roles import Role
from tests.factories import make_client, member

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: "Node | None" = None
    children: list["Node | str"] = field(default_factory=list)

    def iter(self, *tags: str):
        for child in self.children:
            if isinstance(child, Node):
                if not tags or child.tag in tags:
                    yield child
                yield from child.iter(*tags)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def hidden(self) -> bool:
        """Hidden from everyone: the `hidden` attribute, aria-hidden or a hidden input."""
        return any(
            "hidden" in n.attrs or n.attrs.get("aria-hidden") == "true"
            for n in (self, *self.ancestors())
        )


class Tree(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    return Tree(html).root


def _name_of(node: Node, doc: Node) -> str:
    """The accessible name a control gets from a label, aria-label(ledby) or its title."""
    if node.attrs.get("aria-label"):
        return node.attrs["aria-label"]
    if node.attrs.get("aria-labelledby"):
        ids = node.attrs["aria-labelledby"].split()
        return " ".join(n.text() for n in doc.iter() if n.attrs.get("id") in ids)
    labels = [
        n
        for n in doc.iter("label")
        if node.attrs.get("id") and n.attrs.get("for") == node.attrs["id"]
    ]
    labels += [a for a in node.ancestors() if a.tag == "label"]
    return " ".join(label.text() for label in labels).strip()


def problems(html: str, *, lang: str = "en") -> list[str]:
    """What breaks the structural rules on the page, one line each (empty: none)."""
    doc = parse(html)
    found: list[str] = []
    html_el = next(doc.iter("html"))
    if html_el.attrs.get("lang") != lang:
        found.append(f"<html lang> is {html_el.attrs.get('lang')!r}, not {lang!r}")
    title = next(doc.iter("title")).text().strip()
    if not title.removesuffix("– Koto").strip():
        found.append("the <title> does not name the page")
    h1s = list(doc.iter("h1"))
    if len(h1s) != 1:
        found.append(f"{len(h1s)} h1 elements")
    level = 0
    for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        n = int(h.tag[1])
        if n > level + 1:
            found.append(f"heading level skipped: h{n} {h.text().strip()!r} after h{level}")
        level = n
    for tag in ("header", "main", "footer"):
        if len(list(doc.iter(tag))) != 1:
            found.append(f"not exactly one <{tag}>")
    main = next(doc.iter("main"), None)
    skip = [
        a for a in doc.iter("a") if main and a.attrs.get("href") == "#" + main.attrs.get("id", "-")
    ]
    if not skip:
        found.append("no skip link to <main>")
    ids = [n.attrs["id"] for n in doc.iter() if "id" in n.attrs]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        found.append(f"duplicate id {dup!r}")
    for ctl in doc.iter("input", "select", "textarea"):
        kind = ctl.attrs.get("type", "text")
        if ctl.tag == "input" and kind in {"hidden", "submit", "button", "reset", "image"}:
            continue
        if ctl.hidden():
            continue
        if not _name_of(ctl, doc).strip():
            found.append(f"<{ctl.tag} name={ctl.attrs.get('name')!r}> has no label")
        if "required" in ctl.attrs and kind not in {"checkbox", "radio"}:
            label = next(
                (n for n in doc.iter("label") if n.attrs.get("for") == ctl.attrs.get("id")), None
            )
            if label is not None and not re.search(r"\(\w[^)]*\)", label.text()):
                found.append(
                    f"required field {ctl.attrs.get('name')!r}: not marked in its label's text"
                )
    for table in doc.iter("table"):
        named = (
            list(table.iter("caption"))
            or table.attrs.get("aria-label")
            or table.attrs.get("aria-labelledby")
        )
        if not named:
            found.append("a table without a caption or a name")
        for th in table.iter("th"):
            if "scope" not in th.attrs:
                found.append(f"<th> {th.text().strip()!r} without scope")
    for svg in doc.iter("svg"):
        if svg.attrs.get("role") != "img" or not (_name_of(svg, doc) or list(svg.iter("title"))):
            found.append("an <svg> without role=img and a name")
    landmarks = [(n.tag if n.tag == "nav" else n.attrs.get("role"), _name_of(n, doc).strip())
                 for n in doc.iter() if n.tag == "nav" or n.attrs.get("role") == "region"]  # fmt: skip
    for role, name in sorted({x for x in landmarks if landmarks.count(x) > 1}):
        found.append(f"two {role} landmarks named {name!r}")
    for a in doc.iter("a"):
        if not (a.text().strip() or a.attrs.get("aria-label")):
            found.append(f"a link without text: {a.attrs.get('href')}")
    return found


# --- the pages -------------------------------------------------------------------------


ROLES = {
    "admin": Role.ORG_ADMIN,
    "manager": Role.MANAGER,
    "finance": Role.FINANCE_OFFICER,
    "auditor": Role.AUDITOR,
}


class People(dict):
    """The counsellor and their client, and a member of the organisation in each role of
    `ROLES`, made when first asked for (a user costs a password hash)."""

    def __init__(self, request, org, counsellor):
        super().__init__(counsellor=counsellor)
        self.request, self.org = request, org
        self["client"] = make_client(counsellor, first_name="Noor", last_name="Haddad")

    def __missing__(self, key):
        if key == "outsider":  # a counsellor of another organisation
            self[key] = self.request.getfixturevalue("outsider")
        else:
            self[key] = member(self.org, ROLES[key], username=key)
        return self[key]


@pytest.fixture
def people(request, org, counsellor):
    from koto.organisations.models import OrganisationKind
    from tests.factories import OrganisationFactory

    authority = OrganisationFactory(
        code="ek-03", kind=OrganisationKind.REGIONAL_STATE_AUTHORITY, name_fi="Elinvoimakeskus"
    )
    org.regional_state_authority = authority
    org.save()
    return People(request, org, counsellor)


def _claim(finance):
    from koto.funding import services

    return services.claim_create(
        actor=finance,
        section="65",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 6, 30),
    )


# (who, the page's address given the people) for the pages of clients, accounts, funding
# and insights
PAGES = {
    "my clients": ("counsellor", lambda p: reverse("clients:my_clients")),
    "search": ("counsellor", lambda p: reverse("clients:search")),
    "search results": ("counsellor", lambda p: reverse("clients:search") + "?q=haddad"),
    "client": ("counsellor", lambda p: reverse("clients:detail", args=[p["client"].id])),
    "new client": ("counsellor", lambda p: reverse("clients:create")),
    "edit client": ("counsellor", lambda p: reverse("clients:edit", args=[p["client"].id])),
    "consent": ("counsellor", lambda p: reverse("clients:consent_add", args=[p["client"].id])),
    "family": ("counsellor", lambda p: reverse("clients:family_add", args=[p["client"].id])),
    "counsellor": ("counsellor", lambda p: reverse("clients:counsellor", args=[p["client"].id])),
    "timeline": ("counsellor", lambda p: reverse("clients:timeline", args=[p["client"].id])),
    "meetings": ("counsellor", lambda p: reverse("clients:meetings", args=[p["client"].id])),
    "meeting": ("counsellor", lambda p: reverse("clients:meeting_add", args=[p["client"].id])),
    "audit": ("auditor", lambda p: reverse("clients:audit", args=[p["client"].id])),
    "break glass": ("outsider", lambda p: reverse("clients:break_glass", args=[p["client"].id])),
    "password": ("counsellor", lambda p: reverse("accounts:password_change")),
    "organisation": ("admin", lambda p: reverse("accounts:organisation_admin")),
    "member": ("admin", lambda p: reverse("accounts:member_add")),
    "token": ("admin", lambda p: reverse("accounts:token_add")),
    "tokens": ("manager", lambda p: reverse("accounts:tokens")),
    "dashboards": ("manager", lambda p: reverse("insights:dashboard")),
    "impact": ("manager", lambda p: reverse("insights:impact")),
    "compensation": ("finance", lambda p: reverse("funding:overview")),
    "report": ("finance", lambda p: reverse("funding:report")),
    "reconcile": ("finance", lambda p: reverse("funding:reconcile")),
    "claims": ("finance", lambda p: reverse("funding:claims")),
    "new claim": ("finance", lambda p: reverse("funding:claim_create")),
    "claim": ("finance", lambda p: reverse("funding:claim_detail", args=[_claim(p["finance"]).id])),
    "not found": ("counsellor", lambda p: "/clients/999999/"),
}


@pytest.mark.parametrize("name", PAGES)
def test_page__structure(web, people, name):
    # given a user who may see the page
    who, address = PAGES[name]
    user = people[who]
    # when the page is read
    response = web(user).get(address(people))
    # then nothing breaks the structural rules
    assert response.status_code == (404 if name == "not found" else 200)
    assert problems(response.content.decode()) == []


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_page__lang_is_the_language_shown(web, people, lang):
    http = web(people["counsellor"])
    http.cookies["django_language"] = lang
    html = http.get(reverse("clients:detail", args=[people["client"].id])).content.decode()
    assert problems(html, lang=lang) == []
    # the language choices are each named in their own language
    options = {
        o.attrs["value"]: o.attrs.get("lang")
        for o in parse(html).iter("option")
        if o.parent.attrs.get("id") == "language-select"
    }
    assert options == {"fi": "fi", "sv": "sv", "en": "en"}


def test_login__structure_and_summary_after_a_failed_login(client, counsellor):
    client.cookies["django_language"] = "fi"
    assert problems(client.get(reverse("accounts:login")).content.decode(), lang="fi") == []
    html = client.post(
        reverse("accounts:login"), {"username": "counsellor", "password": ""}
    ).content.decode()
    summary = _summary(html)
    assert summary.attrs["tabindex"] == "-1"  # koto.js moves the focus here
    assert [a.attrs["href"] for a in summary.iter("a")] == ["#id_password"]


# --- errors: a summary at the top, linking to each field --------------------------------


def _summary(html: str) -> Node:
    doc = parse(html)
    summaries = [n for n in doc.iter("div") if "error-summary" in n.attrs.get("class", "").split()]
    assert len(summaries) == 1, html
    return summaries[0]


def _first_field_after_summary(html: str, summary: Node) -> bool:
    """The summary comes before every field of the form it is in."""
    form = next(a for a in summary.ancestors() if a.tag == "form")
    order = list(form.iter())
    fields = [
        n
        for n in order
        if n.tag in {"input", "select", "textarea"} and n.attrs.get("type") != "hidden"
    ]
    return all(order.index(summary) < order.index(f) for f in fields)


FAILED_POSTS = {
    "consent": (
        "counsellor",
        lambda p: reverse("clients:consent_add", args=[p["client"].id]),
        ["#id_organisation", "#id_scope", "#id_given_on"],
    ),
    "family": (
        "counsellor",
        lambda p: reverse("clients:family_add", args=[p["client"].id]),
        ["#id_relative", "#id_relation"],
    ),
    "break glass": (
        "outsider",
        lambda p: reverse("clients:break_glass", args=[p["client"].id]),
        ["#id_reason"],
    ),
    "member": ("admin", lambda p: reverse("accounts:member_add"), None),
    "password": (
        "counsellor",
        lambda p: reverse("accounts:password_change"),
        ["#id_old_password", "#id_new_password1", "#id_new_password2"],
    ),
    "new client": ("counsellor", lambda p: reverse("clients:create"), None),
    "meeting": (
        "counsellor",
        lambda p: reverse("clients:meeting_add", args=[p["client"].id]),
        None,
    ),
}


@pytest.mark.parametrize("name", FAILED_POSTS)
def test_failed_post__summary_first_linking_to_each_field_in_error(web, people, name):
    # given a form sent with its required fields empty
    who, address, links = FAILED_POSTS[name]
    user = people[who]
    response = web(user).post(address(people), {"unknown": "1"})
    # then the page says so at the top of the form, and each error links to its field
    assert response.status_code in (200, 422)
    html = response.content.decode()
    summary = _summary(html)
    assert summary.attrs.get("tabindex") == "-1" and summary.attrs.get("role") == "alert"
    assert _first_field_after_summary(html, summary)
    assert next(parse(html).iter("title")).text().startswith("Error: ")
    hrefs = [a.attrs["href"] for a in summary.iter("a")]
    if links is not None:
        assert hrefs == links
    assert hrefs
    doc = parse(html)
    for href in hrefs:
        target = next(n for n in doc.iter() if n.attrs.get("id") == href[1:])
        # the field names its error with aria-describedby (or its group does)
        described = target.attrs.get("aria-describedby", "") or next(
            a.attrs.get("aria-describedby", "") for a in target.ancestors() if a.tag == "fieldset"
        )
        error_id = next(i for i in described.split() if i.endswith("_error"))
        assert any(n.attrs.get("id") == error_id for n in doc.iter("ul"))
    assert problems(html) == []


def test_consent_withdraw__failed_post_summary(web, people, org):
    from koto.clients import services

    client = people["client"]
    client.access = "full"  # as client_get_for answers it
    services.consent_record(
        actor=people["counsellor"],
        client=client,
        organisation=org,
        scope="all",
        given_on=dt.date(2026, 1, 5),
    )
    consent = client.consents.get()
    url = reverse("clients:consent_withdraw", args=[client.id, consent.id])
    html = web(people["counsellor"]).post(url, {"withdrawn_on": "x"}).content.decode()
    assert [a.attrs["href"] for a in _summary(html).iter("a")] == ["#id_withdrawn_on"]
    # the title says first that the form was refused, and names the client
    assert next(parse(html).iter("title")).text() == "Error: Withdraw consent: Noor Haddad – Koto"


def test_filters__summary_linking_to_the_field(web, people):
    html = web(people["manager"]).get(reverse("insights:dashboard"), {"from": "x"}).content.decode()
    summary = _summary(html)
    assert summary.attrs.get("tabindex") == "-1"
    assert [a.attrs["href"] for a in summary.iter("a")] == ["#id_from"]


# --- fields, titles, navigation, search ------------------------------------------------


def test_required_field__marked_in_words_not_a_sign_only():
    from django import forms
    from django.template.loader import render_to_string

    class F(forms.Form):
        name = forms.CharField(label="Name")
        kind = forms.ChoiceField(label="Kind", choices=[("a", "A")])  # no `required` attribute
        group = forms.ChoiceField(label="Group", choices=[("a", "A")], widget=forms.RadioSelect)
        note = forms.CharField(label="Note", required=False)

    form = F()
    for name in ("name", "kind"):
        label = next(parse(render_to_string("_field.html", {"field": form[name]})).iter("label"))
        assert label.text().strip() == f"{form[name].label} (required)"
        assert not any(n.hidden() for n in label.iter())  # read out too
    legend = next(parse(render_to_string("_field.html", {"field": form["group"]})).iter("legend"))
    assert legend.text().strip() == "Group (required)"
    label = next(parse(render_to_string("_field.html", {"field": form["note"]})).iter("label"))
    assert label.text().strip() == "Note"


@pytest.mark.parametrize(
    "page,title",
    [
        ("clients:edit", "Edit Noor Haddad – Koto"),
        ("clients:consent_add", "Record consent: Noor Haddad – Koto"),
        ("clients:family_add", "Link a family member: Noor Haddad – Koto"),
        ("clients:counsellor", "Change the counsellor: Noor Haddad – Koto"),
        ("clients:timeline", "Timeline: Noor Haddad – Koto"),
    ],
)
def test_client_page__title_names_the_client(web, people, page, title):
    html = web(people["counsellor"]).get(reverse(page, args=[people["client"].id])).content.decode()
    assert next(parse(html).iter("title")).text() == title


def test_audit_page__title_names_the_client(web, people):
    html = (
        web(people["auditor"])
        .get(reverse("clients:audit", args=[people["client"].id]))
        .content.decode()
    )
    assert next(parse(html).iter("title")).text() == "Audit trail: Noor Haddad – Koto"


def test_navigation__the_current_page_is_marked(web, people):
    html = web(people["counsellor"]).get(reverse("clients:search")).content.decode()
    nav = next(n for n in parse(html).iter("nav") if n.attrs.get("aria-label") == "Main")
    current = [a.text().strip() for a in nav.iter("a") if a.attrs.get("aria-current") == "page"]
    assert current == ["Search clients"]


def test_search__htmx__the_count_is_read_out_not_the_table(web, people):
    # given the search page, its status region empty
    http = web(people["counsellor"])
    page = parse(http.get(reverse("clients:search")).content.decode())
    status = next(n for n in page.iter("p") if n.attrs.get("id") == "search-status")
    assert status.attrs.get("role") == "status" and status.text() == ""
    region = next(n for n in page.iter("div") if n.attrs.get("id") == "results-region")
    assert "aria-live" not in region.attrs  # a whole table is not read out
    # when a search is made with htmx
    part = http.get(reverse("clients:search"), {"q": "haddad"}, HTTP_HX_REQUEST="true")
    # then the response sets the status region's text out of band
    oob = next(
        n for n in parse(part.content.decode()).iter("p") if n.attrs.get("id") == "search-status"
    )
    assert oob.attrs.get("hx-swap-oob") == "innerHTML"
    assert oob.text() == "1 client found."
    part = http.get(reverse("clients:search"), {"q": "nobody"}, HTTP_HX_REQUEST="true")
    oob = next(
        n for n in parse(part.content.decode()).iter("p") if n.attrs.get("id") == "search-status"
    )
    assert oob.text() == "No clients found."


# --- the stylesheet ----------------------------------------------------------------------


def _css() -> str:
    from django.contrib.staticfiles import finders

    with open(finders.find("koto/koto.css"), encoding="utf-8") as f:
        return f.read()


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_css__colours_meet_the_contrast_ratios():
    css = _css()
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", css))
    white = "#ffffff"
    text_on = [  # (text, background): 4.5:1
        (var["ink"], var["bg"]), (var["muted"], var["bg"]), (var["brand"], var["bg"]),
        (var["error"], var["bg"]), (var["ok"], var["bg"]), (var["ink"], var["warn-bg"]),
        (var["error"], var["warn-bg"]), (white, var["brand"]), (white, var["error"]),
        (var["brand"], "#eef3f8"), (var["muted"], "#eef3f8"), (var["brand"], "#eef5fc"),
        ("#000000", var["focus"]), (var["brand"], "#f2f2f2"),
    ]  # fmt: skip
    for fg, bg in text_on:
        assert contrast(fg, bg) >= 4.5, (fg, bg)
    # UI components and the focus ring: 3:1 (the input border; the yellow ring on the blue
    # header, the dark ring on white)
    for fg, bg in [("#767676", white), (var["focus"], var["brand"]), (var["ink"], white)]:
        assert contrast(fg, bg) >= 3, (fg, bg)


def test_css__focus_visible_and_never_removed():
    css = _css()
    assert not re.search(r"outline:\s*(none|0)\b", css)
    focus_rule = re.search(r"([^{}]*)\{\s*outline: 3px solid var\(--ink\)", css).group(1)
    for selector in ("a:focus", "button:focus", "input:focus", "select:focus", "textarea:focus",
                     "summary:focus", '[tabindex="0"]:focus', '[tabindex="-1"]:focus-visible'):  # fmt: skip
        assert selector in focus_rule, selector
    # the main menu wraps on a narrow screen (reflow at 320 px) instead of running off it
    assert re.search(r"\.site-header nav ul \{[^}]*flex-wrap: wrap", css)
