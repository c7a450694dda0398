"""The screen's other views, each at an address that can be bookmarked: search, a user's
neighbourhood, the users by score and the winners; and the API docs, offline."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_board import names
from users.factories import UserFactory
from users.services import points_change
from winners.services import winner_declare

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 740}


def both_layouts(page, name: str) -> None:
    """Screenshots of the view as it is, on a desktop and on a phone."""
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"{name}-phone")


def test_searching_narrows_the_board_as_you_type(page):
    UserFactory(name="Ada Lovelace", points=5)
    UserFactory(name="Grace Hopper", points=9)
    UserFactory(name="Adam Smith", points=7)
    page.goto("/")
    expect(page.locator("#board tbody tr")).to_have_count(3)

    page.get_by_label("Search by name").press_sequentially("ADA")

    expect(page.locator("#board tbody tr")).to_have_count(2)
    assert names(page) == ["Adam Smith", "Ada Lovelace"]
    expect(page.locator("#board tbody td.rank")).to_have_text(["2", "3"])  # ranks on the board
    expect(page.locator("#range")).to_have_text("1–2 of 2 matching “ADA”")
    assert page.url.endswith("#/board?search=ADA")
    both_layouts(page, "search")


def test_one_letter_asks_for_another_and_a_search_can_be_bookmarked(page):
    UserFactory(name="Ada Lovelace")
    UserFactory(name="Grace Hopper")
    page.goto("/#/board?search=hop")

    expect(page.get_by_label("Search by name")).to_have_value("hop")
    expect(page.locator("#board tbody tr")).to_have_count(1)
    page.get_by_label("Search by name").fill("h")

    expect(page.locator("#search-hint")).to_have_text("Type at least 2 letters to search.")
    page.get_by_label("Search by name").fill("zz")
    expect(page.locator("#empty")).to_have_text("Nobody’s name contains “zz”.")


def test_show_around_jumps_to_a_users_neighbourhood(page):
    for i in range(30):
        UserFactory(name=f"User {i:02}", points=100 - i)
    page.goto("/#/board?search=User 20")

    page.get_by_role("button", name="Show details of User 20").click()
    page.get_by_role("link", name="Show around").click()

    expect(page.locator("#around-title")).to_have_text("Around User 20, rank 21")
    assert names(page) == [f"User {i:02}" for i in range(15, 26)]
    expect(page.locator("#board tbody tr.me")).to_contain_text("User 20")
    assert urlsplit(page.url).fragment.startswith("/around/")
    expect(page.locator("#board-pager")).to_be_hidden()
    both_layouts(page, "around")
    page.get_by_role("link", name="← Back to the board").click()
    expect(page.locator("#range")).to_have_text("1–25 of 30")


def test_the_groups_view_shows_counts_ages_and_opens_to_its_users(page):
    UserFactory(name="Ada", points=10, age=30)
    UserFactory(name="Bob", points=10, age=41)
    UserFactory(name="Cy", points=1, age=20)
    page.goto("/")

    page.get_by_role("link", name="By score").click()

    groups = page.locator("#groups-list details")
    expect(groups).to_have_count(2)
    expect(groups.nth(0).locator("summary")).to_have_text("10 points — 2 users, average age 35.5")
    expect(groups.nth(1).locator("summary")).to_have_text("1 point — 1 user, average age 20")
    groups.nth(0).locator("summary").click()
    expect(groups.nth(0).get_by_role("button", name="Show details of Ada")).to_be_visible()
    expect(groups.nth(0).get_by_role("button", name="Show details of Bob")).to_be_visible()

    points_change(user_id=UserFactory(name="Dee", points=0, age=50).pk, delta=10)
    expect(groups.nth(0).locator("summary")).to_contain_text("3 users", timeout=8_000)
    expect(groups.nth(0)).to_have_attribute("open", "")  # kept open through the refresh
    assert page.url.endswith("#/groups")
    both_layouts(page, "groups")


def test_the_winners_view_shows_the_latest_first(page):
    ada = UserFactory(name="Ada", points=5)
    slot = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    winner_declare(at=slot, now=slot)
    points_change(user_id=UserFactory(name="Bob", points=0).pk, delta=9)
    winner_declare(at=slot + timedelta(minutes=5), now=slot + timedelta(minutes=5))
    assert ada.pk

    page.goto("/#/winners")

    expect(page.locator("#latest-winner")).to_contain_text("Bob")
    expect(page.locator("#latest-winner")).to_contain_text("9 points")
    expect(page.locator("#winners-list li")).to_have_count(2)
    expect(page.locator("#winners-list li strong")).to_have_text(["Bob", "Ada"])
    expect(page.get_by_role("link", name="Winners")).to_have_attribute("aria-current", "page")
    both_layouts(page, "winners")


def test_the_winners_view_explains_an_empty_history(page):
    page.goto("/#/winners")
    expect(page.locator("#winners-empty")).to_be_visible()


def test_opening_details_does_not_push_the_form_down(page, staff_password):
    from tests.browser.conftest import sign_in

    for i in range(30):
        UserFactory(name=f"User {i:02}", points=i)
    sign_in(page, staff_password)
    form_top = page.locator("#add-title").bounding_box()["y"]

    page.get_by_role("button", name="Show details of User 29").click()
    # The panel opens once the user's details arrive, after the click returns.
    expect(page.locator("#details-name")).to_have_text("User 29")

    details = page.locator("#details").bounding_box()
    form = page.locator("#add-title").bounding_box()
    assert form["y"] - (details["y"] + details["height"]) < 60  # right below the details
    assert form["y"] > form_top
    screenshot(page, "details-and-form")


def test_the_page_loads_without_a_404(page):
    failures = []
    page.on("response", lambda r: failures.append(r.url) if r.status >= 400 else None)
    page.goto("/")
    expect(page.locator("#board tbody")).to_be_attached()
    page.wait_for_load_state("networkidle")

    assert failures == []
    assert page.request.get("/favicon.ico").ok


@pytest.mark.parametrize(
    ("path", "operation", "name"),
    [
        ("/api/docs/", ".opblock-summary-path", "docs-offline"),
        ("/api/redoc/", "[data-section-id^='operation/']", "redoc-offline"),
    ],
)
def test_the_api_docs_render_with_no_internet(page, live_server, path, operation, name):
    outside = []

    def only_loopback(route):
        host = urlsplit(route.request.url).hostname
        if host in {"127.0.0.1", "localhost"}:
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.context.route("**/*", only_loopback)
    page.goto(path)

    expect(page.locator(operation).first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/users/{id}/around/").first).to_be_visible()
    assert outside == []
    screenshot(page, name)
