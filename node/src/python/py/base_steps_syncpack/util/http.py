"""One HTTP request with the standard library: what QueryREST and QueryGQL
send and how they read the answer.  ``urllib`` is used rather than a
third-party client so the pack needs nothing installed."""

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

from isbaseutils.ipaas_constants import PASSWORD, TIMEOUT, USER, VERIFY_SSL


class Response:
    """An answer: status code, headers (a dict) and body (bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def text(self):
        charset = "utf-8"
        content_type = self.headers.get("Content-Type") or self.headers.get("content-type") or ""
        for part in content_type.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        return self.body.decode(charset, errors="replace")

    def parsed(self):
        """The body as JSON when it is JSON, else as text (empty: None)."""
        if not self.body:
            return None
        text = self.text()
        try:
            return json.loads(text)
        except ValueError:
            return text


def join_url(prefix, relative):
    """``prefix`` and ``relative`` with exactly one slash between them."""
    prefix = str(prefix or "")
    relative = "" if relative is None else str(relative)
    if not relative:
        return prefix
    if relative.startswith(("http://", "https://")):
        return relative
    return prefix.rstrip("/") + "/" + relative.lstrip("/")


def with_query(url, params):
    """``url`` with ``params`` (a dict, or text already encoded) appended."""
    if not params:
        return url
    if isinstance(params, dict):
        query = urllib.parse.urlencode(params, doseq=True)
    else:
        query = str(params).lstrip("?")
    return url + ("&" if "?" in url else "?") + query


def body_of(payload, headers):
    """The bytes to send for ``payload``; JSON for dicts and lists (setting
    the Content-Type unless the headers set one)."""
    if payload is None or payload == "":
        return None
    if isinstance(payload, (dict, list)):
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        return json.dumps(payload).encode("utf-8")
    if isinstance(payload, bytes):
        return payload
    return str(payload).encode("utf-8")


def request(method, url, payload=None, headers=None, user=None, password=None,
            verify_ssl=True, timeout=None):
    """Sends one request and answers its ``Response`` whatever the status;
    connection failures raise ``ConnectionError`` naming the URL."""
    headers = dict(headers or {})
    data = body_of(payload, headers)
    if user:
        token = base64.b64encode(("%s:%s" % (user, password or "")).encode("utf-8")).decode("ascii")
        headers["Authorization"] = "Basic " + token
    req = urllib.request.Request(url, data=data, headers=headers, method=str(method).upper())
    context = None
    if url.startswith("https://") and not verify_ssl:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as answer:
            return Response(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as err:
        body = err.read() if err.fp is not None else b""
        return Response(err.code, dict(err.headers.items()) if err.headers else {}, body)
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ConnectionError("%s %s failed: %s" % (str(method).upper(), url, reason)) from None


def declare_connection_parameters(step):
    """Declares on ``step`` the parameters every query step takes for its
    connection: Basic credentials, certificate checking and a timeout."""
    from ipaascore import parameter_types
    step.new_step_parameter(name=USER, description="user name for Basic authentication",
                            sample_value="${config.user}", default_value=None)
    step.new_step_parameter(name=PASSWORD, description="password for Basic authentication",
                            sample_value="${config.password}", default_value=None,
                            param_type=parameter_types.PasswordParameter())
    step.new_step_parameter(name=VERIFY_SSL, description="verify the server's TLS certificate",
                            sample_value="True", default_value="True",
                            param_type=parameter_types.BoolParameterToggle())
    step.new_step_parameter(name=TIMEOUT, description="seconds to wait for an answer",
                            sample_value=30, default_value=30,
                            param_type=parameter_types.NumberParameter())


def send(step, method, url, payload=None, headers=None):
    """One request with ``step``'s connection parameters; a failure to
    connect fails the step naming the URL."""
    from ipaascommon import ipaas_exceptions
    from ipaascommon.ipaas_utils import str_to_bool
    verify = step.get_parameter(VERIFY_SSL)
    timeout = step.get_parameter(TIMEOUT)
    try:
        return request(method, url, payload=payload, headers=headers,
                       user=step.get_parameter(USER), password=step.get_parameter(PASSWORD),
                       verify_ssl=str_to_bool(verify) if verify is not None else True,
                       timeout=float(timeout) if timeout else None)
    except ConnectionError as exc:
        raise ipaas_exceptions.StepFailedException(str(exc)) from None
