"""Query GraphQL: one GraphQL query, saving the ``data`` of the answer."""

import json

from base_steps_syncpack.util import http
from ipaascommon import ipaas_exceptions
from ipaascore.BaseStep import BaseStep
from isbaseutils.ipaas_constants import HEADERS, PREFIX_URL, RELATIVE_URL

QUERY = "query"
VARIABLES = "variables"


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
        http.declare_connection_parameters(self)

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
        response = http.send(self, "POST", url, payload={"query": query, "variables": variables or {}},
                             headers=headers)
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
