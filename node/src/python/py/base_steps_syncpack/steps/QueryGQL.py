"""Query GraphQL: one GraphQL query, saving the ``data`` of the answer."""

import json

from base_steps_syncpack.util import http
from ipaascommon import ipaas_exceptions
from ipaascommon.ipaas_utils import str_to_bool
from ipaascore import parameter_types
from ipaascore.BaseStep import BaseStep

PREFIX_URL = "prefix_url"
RELATIVE_URL = "relative_url"
QUERY = "query"
VARIABLES = "variables"
HEADERS = "headers"
USER = "user"
PASSWORD = "password"
VERIFY_SSL = "verify_ssl"
TIMEOUT = "timeout"


class QueryGQL(BaseStep):
    def __init__(self):
        self.friendly_name = "Query GraphQL"
        self.description = "Sends a GraphQL query and saves the data of the answer for the next steps"
        self.version = "1.0.0"
        self.new_step_parameter(name=PREFIX_URL, description="the server's base URL",
                                sample_value="https://10.2.11.253", default_value=None, required=True)
        self.new_step_parameter(name=RELATIVE_URL, description="the GraphQL endpoint under prefix_url",
                                sample_value="/gql", default_value="/gql")
        self.new_step_parameter(name=QUERY, description="the GraphQL query",
                                sample_value="query { devices { id name } }", default_value=None,
                                required=True)
        self.new_step_parameter(name=VARIABLES, description="the query's variables",
                                sample_value={"first": 10}, default_value=None)
        self.new_step_parameter(name=HEADERS, description="request headers",
                                sample_value={"X-Tenant": "eu"}, default_value=None)
        self.new_step_parameter(name=USER, description="user name for Basic authentication",
                                sample_value="${config.user}", default_value=None)
        self.new_step_parameter(name=PASSWORD, description="password for Basic authentication",
                                sample_value="${config.password}", default_value=None,
                                param_type=parameter_types.PasswordParameter())
        self.new_step_parameter(name=VERIFY_SSL, description="verify the server's TLS certificate",
                                sample_value="True", default_value="True",
                                param_type=parameter_types.BoolParameterToggle())
        self.new_step_parameter(name=TIMEOUT, description="seconds to wait for an answer",
                                sample_value=30, default_value=30,
                                param_type=parameter_types.NumberParameter())

    def execute(self):
        self.save_data_for_next_step(self.run_query(self.get_parameter(QUERY), self.get_parameter(VARIABLES)))

    def run_query(self, query, variables=None):
        """Sends ``query`` and answers the ``data`` of the answer; GraphQL
        errors, or an answer that is not GraphQL, fail the step."""
        if isinstance(variables, str) and variables.strip():
            try:
                variables = json.loads(variables)
            except ValueError:
                raise ipaas_exceptions.InvalidStepParameter(
                    "variables must be a JSON object, got %r" % variables) from None
        url = http.join_url(self.get_parameter(PREFIX_URL), self.get_parameter(RELATIVE_URL))
        headers = self.get_parameter(HEADERS) or {}
        if isinstance(headers, str):
            headers = json.loads(headers)
        headers = dict(headers)
        headers.setdefault("Accept", "application/json")
        verify = self.get_parameter(VERIFY_SSL)
        timeout = self.get_parameter(TIMEOUT)
        try:
            response = http.request("POST", url, payload={"query": query, "variables": variables or {}},
                                    headers=headers, user=self.get_parameter(USER),
                                    password=self.get_parameter(PASSWORD),
                                    verify_ssl=str_to_bool(verify) if verify is not None else True,
                                    timeout=float(timeout) if timeout else None)
        except ConnectionError as exc:
            raise ipaas_exceptions.StepFailedException(str(exc)) from None
        self.logger.info("POST %s -> %d" % (url, response.status))
        answer = response.parsed()
        if not isinstance(answer, dict):
            raise ipaas_exceptions.StepFailedException(
                "the GraphQL server at %s answered %d without a JSON object: %.200s"
                % (url, response.status, answer))
        errors = answer.get("errors")
        if errors:
            messages = [e.get("message", str(e)) if isinstance(e, dict) else str(e) for e in errors]
            raise ipaas_exceptions.StepFailedException(
                "the GraphQL query failed with %d error(s): %s" % (len(messages), "; ".join(messages)))
        if response.status != 200:
            raise ipaas_exceptions.StepFailedException(
                "the GraphQL server at %s answered %d" % (url, response.status))
        return answer.get("data")
