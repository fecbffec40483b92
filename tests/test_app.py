"""The HTTP application: health, the public layer list, documentation and the error body shape."""


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_only_active_layers_are_listed_with_their_categories(client):
    body = client.get("/api/layers").json()
    assert [layer["slug"] for layer in body["layers"]] == ["facilities"]
    streetlight = next(c for c in body["layers"][0]["categories"] if c["slug"] == "streetlight-out")
    assert streetlight["name"] == {"ko": "가로등 고장", "en": "Streetlight out"}
    assert "department" not in streetlight


def test_openapi_documents_the_report_api_with_examples(client):
    docs = client.get("/openapi.json").json()
    assert {
        "/api/layers",
        "/api/reports",
        "/api/reports/nearby",
        "/api/reports/{public_id}",
        "/api/reports/{public_id}/support",
    } <= set(docs["paths"])
    body = docs["paths"]["/api/reports"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)
    assert body["application/json"]["example"]["category"] == "streetlight-out"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "http://" not in docs.text and "https://" not in docs.text  # nothing from a CDN
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_errors_have_a_code_and_a_message(client):
    response = client.get("/api/reports/NOSUCHREPORT")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "report_not_found",
            "message": "there is no report 'NOSUCHREPORT'",
            "details": {"id": "NOSUCHREPORT"},
        }
    }
    bad = client.get("/api/reports/nearby", params={"lat": "north", "lon": 127})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
