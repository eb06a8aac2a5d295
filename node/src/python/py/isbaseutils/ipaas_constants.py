"""Names shared by steps: the keys of a step's entry in an application,
the retry options and the task states, so steps need not spell them."""

# A step's entry in an application document.
STEP_NAME = "name"
STEP_FILE = "file"
OUTPUT_TO = "output_to"
DATA_FROM = "data_from"
SYNCPACK = "syncpack"

# Retry options of a step entry.
RETRY_MAX = "retry_max"
RETRY_BACKOFF = "retry_backoff"
RETRY_JITTER = "retry_jitter"
RETRY_BACKOFF_MAX = "retry_backoff_max"
RETRY_COUNTDOWN = "retry_countdown"

# Application documents.
APP_NAME = "name"
APP_VARIABLES = "app_variables"
APP_CONFIGURATION = "configuration"
APP_QUEUE = "queue"
GENERATE_REPORT = "generate_report"

# Configuration documents.
CONFIGURATION_DATA = "configuration_data"

# Task states.
PENDING = "PENDING"
STARTED = "STARTED"
RETRY = "RETRY"
SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
REVOKED = "REVOKED"
STATES = (PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED)

# Common step parameter names (those of the Base Steps pack).
METHOD = "method"
PREFIX_URL = "prefix_url"
RELATIVE_URL = "relative_url"
PAYLOAD = "payload"
HEADERS = "headers"
PARAMS = "params"
USER = "user"
PASSWORD = "password"
VERIFY_SSL = "verify_ssl"
TIMEOUT = "timeout"
