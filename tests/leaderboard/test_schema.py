import jsonschema
import pytest


@pytest.mark.django_db
def test_the_openapi_document_describes_every_endpoint(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= {
        "/api/users/",
        "/api/users/{id}/",
        "/api/users/{id}/increment/",
        "/api/users/{id}/decrement/",
        "/api/users/grouped-by-score/",
        "/api/winners/",
    }
    params = {p["name"] for p in schema["paths"]["/api/users/"]["get"]["parameters"]}
    assert params == {"limit", "offset", "points", "search"}


def test_the_docs_page_is_served(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("request_body", ["UserInputRequest", "PatchedUserInputRequest"])
def test_the_schema_accepts_a_blank_address_as_the_api_does(api, request_body):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    address = schema["components"]["schemas"][request_body]["properties"]["address"]

    jsonschema.validate("", address)
    jsonschema.validate("12 Analytical St", address)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("line\nbreak", address)
