"""Query REST: one HTTP request, or one per record of the previous steps'
data, saving what the server answered."""

import json

from base_steps_syncpack.util import http
from ipaascommon import ipaas_exceptions
from ipaascore.BaseStep import BaseStep
# Subclasses import these names from this module.
from isbaseutils.ipaas_constants import (  # noqa: F401
    HEADERS, METHOD, PARAMS, PASSWORD, PAYLOAD, PREFIX_URL, RELATIVE_URL, TIMEOUT, USER, VERIFY_SSL,
)

EXPECTED_STATUS = "expected_status"
# With a list of records from the previous steps: save the answers as a
# dict keyed by this field of each record instead of as a list.
OBJECT_KEY_VAL = "object_key_val"


def _mapping(value, what):
    """A dict given as a dict or as JSON text (empty: {})."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ipaas_exceptions.InvalidStepParameter(
                "%s must be a JSON object, got %r" % (what, value)) from None
    if not isinstance(value, dict):
        raise ipaas_exceptions.InvalidStepParameter(
            "%s must be an object of names to values, got %s" % (what, type(value).__name__))
    return value


def _statuses(value):
    """The accepted status codes: a number, a list of them, or text of either."""
    if value is None or value == "":
        return [200]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ipaas_exceptions.InvalidStepParameter(
                "expected_status must be a status code or a list of them, got %r" % value) from None
    values = value if isinstance(value, (list, tuple)) else [value]
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise ipaas_exceptions.InvalidStepParameter(
            "expected_status must be a status code or a list of them, got %r" % (value,)) from None


class QueryREST(BaseStep):
    def __init__(self):
        self.friendly_name = "Query REST"
        self.description = ("Sends a REST request (or one per record of the previous steps' data) "
                            "and saves the answer for the next steps")
        self.version = "1.0.0"
        self.new_step_parameter(name=METHOD, description="the HTTP method: GET, POST, PUT, PATCH, DELETE",
                                sample_value="GET", default_value=None, required=True)
        self.new_step_parameter(name=PREFIX_URL, description="used with relative_url to build the full URL",
                                sample_value="http://10.2.11.253", default_value=None, required=True)
        self.new_step_parameter(name=RELATIVE_URL,
                                description="appended to prefix_url; ${field} takes a field of each "
                                            "record of the previous steps' data",
                                sample_value="/api/device/${id}", default_value="")
        self.new_step_parameter(name=PAYLOAD, description="the body: a dict or list is sent as JSON, "
                                                          "anything else as text",
                                sample_value={"name": "value"}, default_value=None)
        self.new_step_parameter(name=HEADERS, description="request headers",
                                sample_value={"Accept": "application/json"}, default_value=None)
        self.new_step_parameter(name=PARAMS, description="query string parameters",
                                sample_value={"limit": 100}, default_value=None)
        http.declare_connection_parameters(self)
        self.new_step_parameter(name=EXPECTED_STATUS, description="the status code (or list of codes) "
                                                                  "that means success",
                                sample_value=200, default_value=200)
        self.new_step_parameter(name=OBJECT_KEY_VAL,
                                description="with a list of records as input, save the answers keyed "
                                            "by this field of each record",
                                sample_value="id", default_value=None)

    def execute(self):
        if self._has_input():
            self.query_with_url_generated_from_input()
            return
        answer = self.process_REST_command(self.get_parameter(PAYLOAD), self.get_parameter(RELATIVE_URL))
        self.save_data_for_next_step(answer)

    def _has_input(self):
        if not self.get_available_previous_step_input_positions():
            return False
        return self.join_previous_step_data() is not None

    def query_with_url_generated_from_input(self):
        """One request per record of the previous steps' data (a list), or
        one for a dict, with relative_url resolved against the record."""
        input_data = self.join_previous_step_data()
        payload = self.get_parameter(PAYLOAD)
        key_field = self.get_parameter(OBJECT_KEY_VAL)
        if isinstance(input_data, list):
            answers = {} if key_field else []
            for record in input_data:
                lookup = record if isinstance(record, dict) else None
                answer = self.process_REST_command(payload, self.get_parameter(RELATIVE_URL, lookup))
                if key_field:
                    if not isinstance(record, dict) or key_field not in record:
                        raise ipaas_exceptions.MissingRequiredData(
                            "object_key_val is %r but a record has no such field: %r" % (key_field, record))
                    answers[record[key_field]] = answer
                else:
                    answers.append(answer)
            self.logger.info("sent %d requests, one per record" % len(input_data))
            self.save_data_for_next_step(answers)
        elif isinstance(input_data, dict):
            relative_url = self.get_parameter(RELATIVE_URL, input_data)
            self.save_data_for_next_step(self.process_REST_command(payload, relative_url))
        else:
            raise NotImplementedError(
                "Data type: {} is not currently supported for generating relative urls from data"
                .format(type(input_data)))

    def process_REST_command(self, payload, relative_url):
        """Sends one request and answers the body (JSON parsed, else text).
        A status other than the expected ones saves ``{http_code, headers,
        body}`` and fails the step."""
        method = self.get_parameter(METHOD)
        url = http.with_query(http.join_url(self.get_parameter(PREFIX_URL), relative_url),
                              _mapping(self.get_parameter(PARAMS), "params"))
        expected = _statuses(self.get_parameter(EXPECTED_STATUS))
        response = http.send(self, method, url, payload=payload,
                             headers=_mapping(self.get_parameter(HEADERS), "headers"))
        self.logger.info("%s %s -> %d" % (str(method).upper(), url, response.status))
        body = response.parsed()
        if response.status not in expected:
            self.save_data_for_next_step({"http_code": response.status, "headers": response.headers,
                                          "body": body})
            shown = expected[0] if len(expected) == 1 else expected
            raise ipaas_exceptions.StepFailedException(
                "HTTP(s) Response Actual: %d Expected: %s, does NOT match for: %s"
                % (response.status, shown, url))
        return body
