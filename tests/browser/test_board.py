"""The leaderboard screen at `/`, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from users.factories import UserFactory
from users.models import User
from users.services import points_change

pytestmark = pytest.mark.django_db(transaction=True)


def names(page) -> list[str]:
    return page.locator("#board tbody button.name").all_inner_texts()


def row(page, name: str):
    return page.locator(
        "#board tbody tr", has=page.get_by_role("button", name=f"Show details of {name}")
    )


def test_anonymous_visitors_see_the_board_read_only(page):
    UserFactory(name="Ada", points=9)
    UserFactory(name="Bob", points=7)
    UserFactory(name="Cy", points=7)

    page.goto("/")

    expect(page.locator("#board tbody tr")).to_have_count(3)
    assert names(page) == ["Ada", "Bob", "Cy"]
    expect(page.locator("#board tbody td.rank")).to_have_text(["1", "2", "2"])
    expect(page.get_by_role("button", name=re.compile("Add a point"))).to_have_count(0)
    expect(page.locator("#add-form")).to_have_count(0)
    sign_in_link = page.get_by_role("link", name="Sign in to edit")
    expect(sign_in_link).to_have_attribute("href", "/admin/login/?next=/")
    screenshot(page, "board-anonymous")


def test_signing_in_returns_to_an_editable_board(page, staff_password):
    UserFactory(name="Ada")

    sign_in(page, staff_password)

    assert page.url.endswith("/")
    expect(page.get_by_role("button", name="Add a point to Ada")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_adding_a_user(page, staff_password):
    sign_in(page, staff_password)

    page.get_by_label("Name", exact=True).fill("Grace Hopper")
    page.get_by_label("Age", exact=True).fill("85")
    page.get_by_label("Address").fill("Arlington")
    page.get_by_role("button", name="+ Add user").click()

    expect(page.get_by_role("button", name="Show details of Grace Hopper")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Added Grace Hopper")
    assert User.objects.values_list("name", "age", "address").get() == (
        "Grace Hopper",
        85,
        "Arlington",
    )


def test_validation_messages_show_beside_the_fields(page, staff_password):
    sign_in(page, staff_password)

    page.get_by_label("Age", exact=True).fill("200")
    page.get_by_role("button", name="+ Add user").click()

    expect(page.locator("#add-name-error")).not_to_be_empty()
    expect(page.locator("#add-age-error")).to_contain_text("150")
    assert not User.objects.exists()


def test_plus_moves_a_user_above_another_at_once(page, staff_password):
    UserFactory(name="Ada", points=2)
    UserFactory(name="Bob", points=1)
    sign_in(page, staff_password)
    expect(page.locator("#board tbody button.name")).to_have_text(["Ada", "Bob"])

    plus = page.get_by_role("button", name="Add a point to Bob")
    plus.click()
    expect(row(page, "Bob").locator("td.points")).to_have_text("2")
    page.get_by_role("button", name="Add a point to Bob").click()

    expect(page.locator("#board tbody button.name").first).to_have_text("Bob")
    expect(row(page, "Bob").locator("td.rank")).to_have_text("1")
    expect(page.get_by_role("button", name="Add a point to Bob")).to_be_focused()
    screenshot(page, "board")


def test_minus_at_zero_shows_the_409_in_plain_words(page, staff_password):
    UserFactory(name="Ada", points=0)
    sign_in(page, staff_password)

    page.get_by_role("button", name="Take a point from Ada").click()

    expect(page.get_by_role("alert")).to_have_text(
        re.compile("Ada has 0 points; taking away 1 would go below 0")
    )
    assert User.objects.get().points == 0


def test_deleting_asks_first(page, staff_password):
    UserFactory(name="Ada")
    UserFactory(name="Bob")
    sign_in(page, staff_password)

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete Bob").click()
    expect(page.locator("#board tbody tr")).to_have_count(2)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Bob").click()

    expect(page.locator("#board tbody tr")).to_have_count(1)
    assert User.objects.get(name="Bob").deleted


def test_clicking_a_name_opens_the_details(page):
    UserFactory(name="Ada", points=3, age=36, address="12 Analytical St")
    UserFactory(name="Bob", points=5)
    page.goto("/")

    page.get_by_role("button", name="Show details of Ada").click()

    details = page.locator("#details")
    expect(details).to_be_visible()
    expect(details).to_be_focused()
    expect(page.locator("#details-name")).to_have_text("Ada")
    expect(page.locator("#details-rank")).to_have_text("2")
    expect(page.locator("#details-points")).to_have_text("3")
    expect(page.locator("#details-age")).to_have_text("36")
    expect(page.locator("#details-address")).to_have_text("12 Analytical St")
    screenshot(page, "details")
    page.keyboard.press("Escape")
    expect(details).to_be_hidden()


def test_a_change_made_elsewhere_appears_without_reload(page):
    UserFactory(name="Ada", points=2)
    bob = UserFactory(name="Bob", points=1)
    page.goto("/")
    expect(page.locator("#board tbody tr")).to_have_count(2)
    page.evaluate("window.marker = 'same page'")

    points_change(user_id=bob.pk, delta=5)  # another client

    expect(page.locator("#board tbody button.name").first).to_have_text("Bob", timeout=8_000)
    assert page.evaluate("window.marker") == "same page"


def test_lost_connectivity_is_reported(page, live_server):
    UserFactory(name="Ada")
    page.goto("/")
    expect(page.locator("#board tbody tr")).to_have_count(1)

    page.context.route("**/api/**", lambda route: route.abort())

    expect(page.get_by_role("alert")).to_contain_text("Cannot reach the server", timeout=8_000)
    page.context.unroute("**/api/**")
    expect(page.get_by_role("alert")).to_be_hidden(timeout=8_000)


def test_the_board_pages_through_many_users(page):
    for i in range(30):
        UserFactory(name=f"User {i:02}", points=100 - i)
    page.goto("/")

    expect(page.locator("#range")).to_have_text("1–25 of 30")
    page.get_by_role("button", name="Next →").click()

    expect(page.locator("#range")).to_have_text("26–30 of 30")
    assert names(page) == [f"User {i:02}" for i in range(25, 30)]


def test_the_board_fits_a_phone(page, staff_password):
    UserFactory(name="Ada Lovelace-Byron", points=123456)
    page.set_viewport_size({"width": 375, "height": 700})
    sign_in(page, staff_password)

    expect(page.locator("#board tbody tr")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "board-phone")
