"""The Base Steps pack's steps, run through the runner against a local HTTP
server this module starts (REST and GraphQL) and the fake host's cache."""

import http.server
import json
import os
import threading

import pytest

from helpers import PY_DIR_STEPS, run, run_ok, step_source, up


def pack_step(name):
    with open(os.path.join(PY_DIR_STEPS, name + ".py")) as f:
        return f.read()


class Server:
    """Answers from ``routes`` ({(method, path): (status, body)}) and records
    each request as (method, path with query, headers, body)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append((self.command, self.path, dict(self.headers), body))
                path = self.path.split("?")[0]
                status, answer = server.routes.get((self.command, path), (404, {"error": "no route"}))
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if not isinstance(answer, bytes)
                                 else "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def rest(server, **params):
    params.setdefault("method", "GET")
    params.setdefault("prefix_url", server.url)
    return run(pack_step("QueryREST"), parameters=params)


def saved(response):
    import pickle
    assert response["ok"], response
    return pickle.loads(response["pickle"])


def test_query_rest_gets_json_with_basic_auth_and_query_parameters(server):
    server.routes[("GET", "/api/devices")] = (200, {"devices": [1, 2]})
    response = rest(server, relative_url="/api/devices", params={"limit": 5}, user="em7admin",
                    password="s3cret", headers={"Accept": "application/json"})
    assert saved(response) == {"devices": [1, 2]}
    method, path, headers, _ = server.requests[0]
    assert (method, path) == ("GET", "/api/devices?limit=5")
    assert headers["Authorization"] == "Basic ZW03YWRtaW46czNjcmV0"
    assert headers["Accept"] == "application/json"


def test_query_rest_posts_a_dict_as_json_and_saves_text_answers_as_text(server):
    server.routes[("POST", "/notes")] = (201, b"created")
    response = rest(server, method="POST", relative_url="notes", payload={"text": "hi"},
                    expected_status=[200, 201])
    assert saved(response) == "created"
    _, _, headers, body = server.requests[0]
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"text": "hi"}


def test_an_unexpected_status_fails_with_the_original_message(server):
    response = rest(server, relative_url="/api/v1/applications/missing")
    assert response["ok"] is False
    assert response["error_type"] == "StepFailedException"
    assert response["message"] == (
        "HTTP(s) Response Actual: 404 Expected: 200, does NOT match for: %s/api/v1/applications/missing"
        % server.url)


def test_an_unreachable_server_fails_naming_the_url():
    response = run(pack_step("QueryREST"), parameters={"method": "GET", "prefix_url": "http://127.0.0.1:9",
                                                       "timeout": 5})
    assert response["ok"] is False
    assert "GET http://127.0.0.1:9 failed" in response["message"]


def test_a_list_of_records_sends_one_request_each(server):
    server.routes[("GET", "/device/1")] = (200, {"name": "sw1"})
    server.routes[("GET", "/device/2")] = (200, {"name": "sw2"})
    upstream = [up("Devices", [{"id": 1}, {"id": 2}])]
    response = run(pack_step("QueryREST"), upstream=upstream,
                   parameters={"method": "GET", "prefix_url": server.url, "relative_url": "/device/${id}"})
    assert saved(response) == [{"name": "sw1"}, {"name": "sw2"}]
    keyed = run(pack_step("QueryREST"), upstream=upstream,
                parameters={"method": "GET", "prefix_url": server.url, "relative_url": "/device/${id}",
                            "object_key_val": "id"})
    assert saved(keyed) == {1: {"name": "sw1"}, 2: {"name": "sw2"}}


def test_a_dict_of_input_sends_one_request_and_other_input_is_refused(server):
    server.routes[("GET", "/device/9")] = (200, {"name": "rt9"})
    response = run(pack_step("QueryREST"), upstream=[up("One", {"id": 9})],
                   parameters={"method": "GET", "prefix_url": server.url, "relative_url": "/device/${id}"})
    assert saved(response) == {"name": "rt9"}
    response = run(pack_step("QueryREST"), upstream=[up("Text", "just text")],
                   parameters={"method": "GET", "prefix_url": server.url})
    assert response["ok"] is False
    assert response["error_type"] == "NotImplementedError"
    assert "<class 'str'>" in response["message"]


def test_a_subclass_sets_relative_url_then_runs_the_parent(server):
    """The way published pack steps extend QueryREST."""
    server.routes[("GET", "/api/device/7")] = (200, {"id": 7, "name": "core-sw"})
    source = step_source(
        """
        from base_steps_syncpack.steps.QueryREST import QueryREST, OBJECT_KEY_VAL, RELATIVE_URL

        class GetDevice(QueryREST):
            def __init__(self):
                QueryREST.__init__(self)
                self.friendly_name = "Get one device"
                del self.parameters[RELATIVE_URL]
                self.new_step_parameter(name="device_id", default_value=7)

            def execute(self):
                self.new_step_parameter(name=RELATIVE_URL, default_value="")
                self.parameters.get(RELATIVE_URL).value = "/api/device/%s" % self.get_parameter("device_id")
                QueryREST.execute(self)
                device = self.get_current_saved_data()
                self.save_data_for_next_step(device["name"].upper())
        """
    )
    assert run_ok(source, parameters={"method": "GET", "prefix_url": server.url}) == "CORE-SW"


def test_query_gql_saves_data_and_fails_on_errors(server):
    server.routes[("POST", "/gql")] = (200, {"data": {"devices": [{"id": "1"}]}})
    response = run(pack_step("QueryGQL"), parameters={"prefix_url": server.url,
                                                      "query": "query { devices { id } }",
                                                      "variables": {"first": 1}})
    assert saved(response) == {"devices": [{"id": "1"}]}
    sent = json.loads(server.requests[0][3])
    assert sent == {"query": "query { devices { id } }", "variables": {"first": 1}}

    server.routes[("POST", "/gql")] = (200, {"errors": [{"message": "no field x"}, {"message": "bad"}]})
    response = run(pack_step("QueryGQL"), parameters={"prefix_url": server.url, "query": "{ x }"})
    assert response["ok"] is False
    assert response["message"] == "the GraphQL query failed with 2 error(s): no field x; bad"


def test_cache_steps_scope_keys_to_the_application(host):
    app = {"application_name": "inventory"}
    response = run(pack_step("CacheSave"), upstream=[up("Devices", [1, 2])],
                   parameters={"key": "devices", "expiry": 60}, **app)
    assert saved(response) == [1, 2]
    assert "inventory/devices" in host.store
    assert saved(run(pack_step("CacheRead"), parameters={"key": "devices"}, **app)) == [1, 2]
    # Another application reads it by its whole key.
    other = {"application_name": "report"}
    assert saved(run(pack_step("DirectCacheRead"), parameters={"key": "inventory/devices"}, **other)) == [1, 2]
    assert run(pack_step("CacheDelete"), parameters={"key": "devices"}, **app)["ok"]
    assert "inventory/devices" not in host.store

    missing = run(pack_step("CacheRead"), parameters={"key": "devices"}, **app)
    assert missing["ok"] is False
    assert "nothing under 'inventory/devices'" in missing["message"]
    assert saved(run(pack_step("CacheRead"), parameters={"key": "devices", "default": []}, **app)) == []


def test_the_template_steps_run():
    assert run_ok(pack_step("stepTemplate"), parameters={"greeting": "hi"}) == {"said": "hi"}
    counted = run_ok(pack_step("CountRecords"), upstream=[up("Say Hello", {"said": "hi"})],
                     parameters={"offset": "${stepfunc.double 2}"})
    assert counted == {"count": 5}
