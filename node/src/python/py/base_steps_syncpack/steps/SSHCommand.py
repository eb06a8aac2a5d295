"""SSH Command ("Run a command through an SSH tunnel"): runs one command on
a remote host over SSH and saves its exit code and output."""

import base64
import hashlib
import io
import time

from base_steps_syncpack.util import drivers
from ipaascommon import ipaas_exceptions
from ipaascommon.ipaas_utils import str_to_bool
from ipaascore import parameter_types
from ipaascore.BaseStep import BaseStep

HOST = "host"
PORT = "port"
USER = "user"
PASSWORD = "password"
PRIVATE_KEY = "private_key"
PASSPHRASE = "passphrase"
COMMAND = "command"
TIMEOUT = "timeout"
ALLOW_FAILURE = "allow_failure"
HOST_FINGERPRINT = "host_fingerprint"

# At most this much of each stream is kept; the rest is read and dropped.
MAX_OUTPUT = 16 * 1024 * 1024
# How long to wait between two looks at a channel with nothing to read.
POLL_SECONDS = 0.02
# How much of stderr a failure message quotes.
SHOWN_STDERR = 500


def fingerprint(key):
    """The SHA-256 fingerprint of a host key as OpenSSH prints it
    (``SHA256:`` and unpadded base64)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def md5_fingerprint(key):
    """The older MD5 form, ``MD5:aa:bb:...``."""
    digest = hashlib.md5(key.asbytes()).hexdigest()
    return "MD5:" + ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def fingerprint_matches(expected, key):
    """True when ``expected`` (``SHA256:...`` or ``MD5:aa:bb...``, the
    prefix optional) is the fingerprint of ``key``."""
    wanted = str(expected).strip()
    sha = fingerprint(key)
    md5 = md5_fingerprint(key)
    if wanted in (sha, sha[len("SHA256:"):]):
        return True
    wanted = wanted.lower()
    return wanted in (md5.lower(), md5[len("MD5:"):].lower())


def _host_key_policy(paramiko, step, where, expected):
    """Accepts the server's host key (none is known to the runner), after
    checking it against ``expected`` when given, else with a warning that
    names the key's fingerprint."""

    class _CheckedAutoAdd(paramiko.AutoAddPolicy):
        def missing_host_key(self, client, hostname, key):
            kind = key.get_name()
            if expected:
                if not fingerprint_matches(expected, key):
                    raise paramiko.SSHException(
                        "the host key of %s is %s %s, not the expected host_fingerprint %s"
                        % (where, kind, fingerprint(key), expected))
                step.logger.info("the host key of %s matches host_fingerprint (%s %s)"
                                 % (where, kind, fingerprint(key)))
            else:
                step.logger.warning(
                    "accepting the unverified host key of %s: %s %s (set host_fingerprint to "
                    "check it)" % (where, kind, fingerprint(key)))
            paramiko.AutoAddPolicy.missing_host_key(self, client, hostname, key)

    return _CheckedAutoAdd()


def _private_key(paramiko, text, passphrase):
    """A paramiko key from PEM (or OpenSSH) text; key text whose line breaks
    were written as ``\\n`` (as in a JSON value) is accepted too."""
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    password_required = getattr(paramiko, "PasswordRequiredException", None)
    tried = []
    for class_name in ("Ed25519Key", "ECDSAKey", "RSAKey", "DSSKey"):
        key_class = getattr(paramiko, class_name, None)
        if key_class is None:
            continue
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase or None)
        except Exception as exc:
            if password_required is not None and isinstance(exc, password_required):
                raise ipaas_exceptions.StepFailedException(
                    "private_key is encrypted: set passphrase") from None
            tried.append("%s: %s" % (class_name, drivers.describe_error(exc, text, passphrase)))
    raise ipaas_exceptions.StepFailedException(
        "private_key is not a private key paramiko can read (PEM or OpenSSH text): %s"
        % ("; ".join(tried) or "no key type available"))


class _Output:
    """One stream of the command, kept up to MAX_OUTPUT bytes."""

    def __init__(self):
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk):
        room = MAX_OUTPUT - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self):
        return bytes(self.data).decode("utf-8", errors="replace")


class SSHCommand(BaseStep):
    def __init__(self):
        self.friendly_name = "Run a command through an SSH tunnel"
        self.description = ("Runs a command on a remote host over SSH and saves its exit code, "
                            "standard output and standard error")
        self.version = "1.0.0"
        self.new_step_parameter(name=HOST, description="the host to connect to",
                                sample_value="10.2.11.40", default_value=None, required=True)
        self.new_step_parameter(name=PORT, description="the SSH port", sample_value=22, default_value=22,
                                param_type=parameter_types.NumberParameter())
        self.new_step_parameter(name=USER, description="the user to log in as",
                                sample_value="${config.ssh_user}", default_value=None, required=True)
        self.new_step_parameter(name=PASSWORD, description="the user's password (or give private_key)",
                                sample_value="${config.ssh_password}", default_value=None,
                                param_type=parameter_types.PasswordParameter())
        self.new_step_parameter(name=PRIVATE_KEY, description="a private key as PEM text (or give password)",
                                sample_value="${config.ssh_key}", default_value=None,
                                param_type=parameter_types.PasswordParameter())
        self.new_step_parameter(name=PASSPHRASE, description="the passphrase of an encrypted private_key",
                                sample_value="${config.ssh_key_passphrase}", default_value=None,
                                param_type=parameter_types.PasswordParameter())
        self.new_step_parameter(name=COMMAND, description="the command to run",
                                sample_value="uptime", default_value=None, required=True)
        self.new_step_parameter(name=TIMEOUT, description="seconds to connect, and for the command to finish",
                                sample_value=60, default_value=60,
                                param_type=parameter_types.NumberParameter())
        self.new_step_parameter(name=ALLOW_FAILURE,
                                description="succeed (saving the exit code) when the command exits non-zero",
                                sample_value="False", default_value="False",
                                param_type=parameter_types.BoolParameterToggle())
        self.new_step_parameter(name=HOST_FINGERPRINT,
                                description="the host key's fingerprint (SHA256:... or MD5:...); when set, "
                                            "any other key is refused",
                                sample_value="SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
                                default_value=None)

    def _allow_failure(self):
        value = self.get_parameter(ALLOW_FAILURE)
        try:
            return str_to_bool(value)
        except ValueError as exc:
            raise ipaas_exceptions.InvalidStepParameter("allow_failure: %s" % exc) from None

    def execute(self):
        host = self.get_parameter(HOST)
        port = int(self.get_parameter(PORT) or 22)
        user = self.get_parameter(USER)
        password = self.get_parameter(PASSWORD) or None
        key_text = self.get_parameter(PRIVATE_KEY) or None
        passphrase = self.get_parameter(PASSPHRASE) or None
        command = self.get_parameter(COMMAND)
        timeout = self.get_parameter(TIMEOUT)
        timeout = float(timeout) if timeout not in (None, "") and float(timeout) > 0 else None
        allow_failure = self._allow_failure()
        where = "%s@%s:%d" % (user, host, port)
        if not password and not key_text:
            raise ipaas_exceptions.MissingRequiredStepParameter(
                "step '%s' needs password or private_key to log in to %s" % (self.get_name(), where),
                missing=[PASSWORD, PRIVATE_KEY], step_name=self.get_name())
        secrets = (password, key_text, passphrase)

        paramiko = drivers.load("paramiko", "paramiko", "the SSH client library (paramiko)")
        pkey = _private_key(paramiko, key_text, passphrase) if key_text else None
        client = paramiko.SSHClient()
        try:
            client.set_missing_host_key_policy(
                _host_key_policy(paramiko, self, "%s:%d" % (host, port), self.get_parameter(HOST_FINGERPRINT)))
            try:
                client.connect(hostname=host, port=port, username=user, password=password, pkey=pkey,
                               timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                               look_for_keys=False, allow_agent=False)
            except Exception as exc:
                authentication = getattr(paramiko, "AuthenticationException", None)
                if authentication is not None and isinstance(exc, authentication):
                    raise ipaas_exceptions.StepFailedException(
                        "SSH authentication failed for %s: %s" % (where, drivers.describe_error(exc, *secrets))
                    ) from None
                raise ipaas_exceptions.StepFailedException(
                    "cannot connect over SSH to %s:%d: %s" % (host, port, drivers.describe_error(exc, *secrets))
                ) from None
            self.logger.info("running on %s: %s" % (where, command))
            try:
                _stdin, stdout, _stderr = client.exec_command(command, timeout=timeout)
            except Exception as exc:
                raise ipaas_exceptions.StepFailedException(
                    "%s refused to run the command: %s" % (where, drivers.describe_error(exc, *secrets))) from None
            exit_code, out, err, finished = self._collect(stdout.channel, timeout)
        finally:
            try:
                client.close()
            except Exception:
                pass

        for name, stream in (("stdout", out), ("stderr", err)):
            if stream.dropped:
                self.logger.warning("kept the first %d bytes of %s; dropped %d more"
                                    % (MAX_OUTPUT, name, stream.dropped))
        result = {"exit_code": exit_code, "stdout": out.text(), "stderr": err.text()}
        self.save_data_for_next_step(result)
        if not finished:
            raise ipaas_exceptions.StepFailedException(
                "the command did not finish within %g second%s on %s"
                % (timeout, "" if timeout == 1 else "s", where))
        self.logger.info("%s: exit code %d (%d bytes of stdout, %d of stderr)"
                         % (where, exit_code, len(out.data), len(err.data)))
        if exit_code != 0:
            if allow_failure:
                self.logger.warning("the command exited with code %d on %s (allowed by allow_failure)"
                                    % (exit_code, where))
                return
            tail = result["stderr"].strip()
            if len(tail) > SHOWN_STDERR:
                tail = "..." + tail[-SHOWN_STDERR:]
            raise ipaas_exceptions.StepFailedException(
                "the command exited with code %d on %s%s"
                % (exit_code, where, ": %s" % tail if tail else ""))

    def _collect(self, channel, timeout):
        """Reads both streams of ``channel`` until the command exits (or
        ``timeout`` seconds pass: the channel is then closed).  Answers
        ``(exit code or None, stdout, stderr, finished)``."""
        try:
            channel.shutdown_write()  # the command reads no input: tell it so
        except Exception:
            pass
        deadline = None if timeout is None else time.monotonic() + timeout
        out, err = _Output(), _Output()
        while True:
            progressed = False
            if channel.recv_ready():
                out.add(channel.recv(65536))
                progressed = True
            if channel.recv_stderr_ready():
                err.add(channel.recv_stderr(65536))
                progressed = True
            # The server sends the exit status after all of the output, and
            # messages are handled in order: once the status is in, the rest
            # of the output is already buffered.
            if not progressed and channel.exit_status_ready():
                while channel.recv_ready():
                    out.add(channel.recv(65536))
                while channel.recv_stderr_ready():
                    err.add(channel.recv_stderr(65536))
                return channel.recv_exit_status(), out, err, True
            if deadline is not None and time.monotonic() >= deadline:
                try:
                    channel.close()
                except Exception:
                    pass
                return None, out, err, False
            if not progressed:
                time.sleep(POLL_SECONDS)
