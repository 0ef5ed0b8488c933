"""Updraft's Lambda runtime client for Python.

Runs the handler named by _HANDLER ("module.function", "pkg/mod.function" or
"pkg.mod.function", resolved in LAMBDA_TASK_ROOT) against the Lambda Runtime
API at AWS_LAMBDA_RUNTIME_API, version 2018-06-01, and behaves like the AWS
managed Python runtime: the same context object, error payloads, error types
and log format. Standard library only; Python 3.9 or later.

    AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 _HANDLER=app.handler \\
        LAMBDA_TASK_ROOT=/var/task python3 bootstrap.py

Everything written to stdout and stderr is flushed at once, so every line of
an invocation is in the pipe before its result is posted. SIGTERM ends the
process with status 0.

With AWS_LAMBDA_MAX_CONCURRENCY above 1 the client runs that many
invocations at once, one thread (with its own Runtime API connection) each,
all calling the one handler: module-level state is shared and must be
thread-safe. (AWS's managed runtime uses a process per request instead.)
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback

_API_PREFIX = "/2018-06-01/runtime"
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_ERROR_LINE_SEP = "\r"  # joins the lines of an error log entry, as AWS does
_INDENT = "\u00a0"  # replaces leading spaces of traceback lines, as AWS does

# The invocation each thread runs (request_id, tenant_id), read by the log
# record filter.
_current = threading.local()


class FaultError(Exception):
    """A failure reported with one of Lambda's Runtime.* error types."""

    MARSHAL = "Runtime.MarshalError"
    UNMARSHAL = "Runtime.UnmarshalError"
    SYNTAX = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE = "Runtime.ImportModuleError"
    BUILT_IN_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER = "Runtime.MalformedHandlerName"
    CONTEXT_UNMARSHAL = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class RuntimeAPIError(Exception):
    """The Runtime API answered with an unexpected status."""


class RuntimeClient:
    """A client of the Runtime API over one kept-alive HTTP/1.1 connection."""

    def __init__(self, address):
        self._address = address
        self._conn = http.client.HTTPConnection(address)

    def _request(self, method, path, body=None, headers=None):
        # A kept-alive connection the server has since closed fails on first
        # use; the request never reached the server, so send it once more.
        for attempt in (1, 2):
            try:
                self._conn.request(method, path, body=body, headers=headers or {})
                resp = self._conn.getresponse()
                return resp, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                if attempt == 2:
                    raise

    def next(self):
        resp, body = self._request("GET", _API_PREFIX + "/invocation/next")
        if resp.status != 200:
            raise RuntimeAPIError(
                "next invocation: status %d: %r" % (resp.status, body[:200])
            )
        return Invocation(resp, body)

    def post_response(self, request_id, body, content_type):
        self._post(
            "/invocation/%s/response" % request_id, body, {"Content-Type": content_type}
        )

    def post_error(self, request_id, error):
        self._post("/invocation/%s/error" % request_id, _to_json(error), _error_headers(error))

    def post_init_error(self, error):
        self._post("/init/error", _to_json(error), _error_headers(error))

    def _post(self, path, body, headers):
        if isinstance(body, str):
            body = body.encode("utf-8")
        resp, data = self._request("POST", _API_PREFIX + path, body, headers)
        if resp.status != 202:
            # The platform has recorded the outcome (say, a response too
            # large); say why on stderr and carry on with the next invocation.
            _write_line(sys.stderr, "runtime: POST %s: status %d: %s"
                        % (path, resp.status, data[:200].decode("utf-8", "replace")))


def _error_headers(error):
    return {"Content-Type": "application/json", _ERROR_TYPE_HEADER: error["errorType"] or "Unhandled"}


class Invocation:
    """One event from GET /invocation/next."""

    def __init__(self, resp, body):
        h = resp.getheader
        self.request_id = h("Lambda-Runtime-Aws-Request-Id")
        if not self.request_id:
            raise RuntimeAPIError("next invocation: no Lambda-Runtime-Aws-Request-Id")
        self.deadline_ms = int(h("Lambda-Runtime-Deadline-Ms") or 0)
        self.function_arn = h("Lambda-Runtime-Invoked-Function-Arn")
        self.trace_id = h("Lambda-Runtime-Trace-Id")
        self.client_context = h("Lambda-Runtime-Client-Context")
        self.cognito_identity = h("Lambda-Runtime-Cognito-Identity")
        self.tenant_id = h("Lambda-Runtime-Aws-Tenant-Id")
        self.content_type = h("Content-Type")
        self.body = body


class LambdaContext:
    """The context object passed to handlers, as in AWS's Python runtime."""

    def __init__(self, inv):
        env = os.environ.get
        self.aws_request_id = inv.request_id
        self.function_name = env("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = inv.function_arn
        # A string, as in AWS's runtime: the environment variable verbatim.
        self.memory_limit_in_mb = env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env("AWS_LAMBDA_LOG_STREAM_NAME")
        self.tenant_id = inv.tenant_id
        self._deadline_ms = inv.deadline_ms

        self.client_context = None
        cc = _parse_json_header(inv.client_context, "Client Context")
        if cc is not None:
            self.client_context = _from_dict(ClientContext, cc)
            self.client_context.client = _from_dict(Client, self.client_context.client)

        self.identity = _from_dict(CognitoIdentity, {})
        ci = _parse_json_header(inv.cognito_identity, "Cognito Identity")
        if ci is not None:
            self.identity.cognito_identity_id = ci.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = ci.get("cognitoIdentityPoolId")

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        fields = ("aws_request_id", "log_group_name", "log_stream_name", "function_name",
                  "memory_limit_in_mb", "function_version", "invoked_function_arn",
                  "client_context", "identity", "tenant_id")
        return "LambdaContext([%s])" % ",".join("%s=%s" % (f, getattr(self, f)) for f in fields)


class _Record:
    __slots__ = ()

    def __repr__(self):
        return "%s([%s])" % (
            type(self).__name__,
            ",".join("%s=%s" % (f, getattr(self, f)) for f in self.__slots__),
        )


class CognitoIdentity(_Record):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")


class Client(_Record):
    __slots__ = ("installation_id", "app_title", "app_version_name",
                 "app_version_code", "app_package_name")


class ClientContext(_Record):
    __slots__ = ("custom", "env", "client")


def _from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for f in cls.__slots__:
        setattr(obj, f, d.get(f))
    return obj


def _parse_json_header(value, name):
    if not value:
        return None
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultError(FaultError.CONTEXT_UNMARSHAL, "Unable to parse %s JSON: %s" % (name, e))


# --- Handler loading -------------------------------------------------------


def load_handler(name):
    """Imports the module of a handler name and returns its function."""
    try:
        modname, fname = name.rsplit(".", 1)
    except ValueError as e:
        raise FaultError(FaultError.MALFORMED_HANDLER, "Bad handler '%s': %s" % (name, e))
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            FaultError.BUILT_IN_CONFLICT,
            "Cannot use built-in module %s as a handler module" % modname,
        )
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultError(
            FaultError.IMPORT_MODULE, "Unable to import module '%s': %s" % (modname, e)
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultError(
            FaultError.SYNTAX, "Syntax error in module '%s': %s" % (modname, e), trace
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultError(
            FaultError.HANDLER_NOT_FOUND,
            "Handler '%s' missing on module '%s'" % (fname, modname),
        )


# --- Errors ----------------------------------------------------------------


def make_error(message, error_type, stack_trace, request_id=None):
    """The error payload of AWS's Python runtime."""
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id or "",
        "stackTrace": stack_trace or [],
    }


def error_from_exception(exc, request_id=None):
    """The error payload for an exception raised by user code."""
    if isinstance(exc, FaultError):
        return make_error(exc.message, exc.error_type, exc.trace, request_id)
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop the runtime's own frames, leaving the user's.
    for i, frame in enumerate(frames):
        if "/bootstrap.py" not in frame.filename:
            frames = frames[i:]
            break
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def log_error(error):
    """Logs an error payload as one line, in AWS's text format."""
    head = "[ERROR]"
    if error["errorType"]:
        head += " " + error["errorType"]
    if error["errorMessage"]:
        head += (":" if error["errorType"] else "") + " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for entry in error["stackTrace"]:
        for line in entry.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append(_INDENT * (len(line) - len(stripped)) + stripped)
    _write_line(sys.stdout, _ERROR_LINE_SEP.join(lines))


# --- Marshalling -----------------------------------------------------------


class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            if o.is_finite() and o == o.to_integral_value():
                return int(o)
            return float(o)
        return super().default(o)


def _to_json(obj):
    return json.dumps(obj, cls=_Encoder)


def unmarshal_event(inv):
    if inv.content_type and not inv.content_type.startswith("application/json"):
        return inv.body
    try:
        return json.loads(inv.body)
    except Exception as e:
        raise FaultError(FaultError.UNMARSHAL, "Unable to unmarshal input: %s" % e)


def marshal_result(result):
    """Returns the response body and its content type."""
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return _to_json(result), "application/json"
    except Exception as e:
        raise FaultError(FaultError.MARSHAL, "Unable to marshal response: %s" % e)


# --- Logging ---------------------------------------------------------------


class _Unbuffered:
    """Wraps a text stream so that every write is flushed at once."""

    def __init__(self, stream):
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def write(self, s):
        n = self._stream.write(s)
        self._stream.flush()
        return n

    def writelines(self, lines):
        self._stream.writelines(lines)
        self._stream.flush()


def _write_line(stream, s):
    stream.write(s if s.endswith("\n") else s + "\n")


class _LambdaHandler(logging.Handler):
    def emit(self, record):
        try:
            _write_line(sys.stdout, self.format(record))
        except Exception:
            self.handleError(record)


class _RequestFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = getattr(_current, "request_id", None) or ""
        record.tenant_id = getattr(_current, "tenant_id", None)
        return True


def setup_logging():
    """Routes the root logger to stdout in AWS's text format."""
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    logging.Formatter.converter = time.gmtime
    handler = _LambdaHandler()
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    ))
    handler.addFilter(_RequestFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        root.setLevel(level)


# --- Main loop -------------------------------------------------------------


def handle(client, handler, inv):
    """Runs one invocation and posts its result or error."""
    _current.request_id, _current.tenant_id = inv.request_id, inv.tenant_id
    if inv.trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = inv.trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)

    try:
        context = LambdaContext(inv)
        event = unmarshal_event(inv)
        body, content_type = marshal_result(handler(event, context))
    except Exception as e:
        error = error_from_exception(e, inv.request_id)
        log_error(error)
        client.post_error(inv.request_id, error)
        return
    client.post_response(inv.request_id, body, content_type)


def _on_sigterm(signum, frame):
    raise SystemExit(0)


# The argument that marks a runtime client started by its exec wrapper.
_WRAPPED = "--exec-wrapped"


def exec_wrapper():
    """Restarts the runtime client under AWS_LAMBDA_EXEC_WRAPPER, when set,
    as AWS's managed runtimes do: the wrapper gets the runtime's command as
    its arguments. A wrapper that does not exist ends INIT with status 127
    (as on Lambda), one that is not executable with 126 (a shell's status
    for it)."""
    wrapper = os.environ.get("AWS_LAMBDA_EXEC_WRAPPER")
    if not wrapper or _WRAPPED in sys.argv[1:]:
        return
    if not os.path.isfile(wrapper):
        print("%s: does not exist" % wrapper, flush=True)
        sys.exit(127)
    if not os.access(wrapper, os.X_OK):
        print("%s: is not an executable" % wrapper, flush=True)
        sys.exit(126)
    os.execv(wrapper, [wrapper, sys.executable, "-u", os.path.abspath(__file__), _WRAPPED])


def main():
    exec_wrapper()
    signal.signal(signal.SIGTERM, _on_sigterm)
    setup_logging()
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.exit("runtime: AWS_LAMBDA_RUNTIME_API is not set")
    # User code resolves from the task root, not from this file's directory.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0]) == here:
        del sys.path[0]
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())

    client = RuntimeClient(address)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        error = error_from_exception(e)
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)

    concurrency = max_concurrency()
    if concurrency == 1:
        while True:
            handle(client, handler, client.next())
    for i in range(concurrency):
        threading.Thread(target=_serve, args=(address, handler), name="invoke-%d" % i, daemon=True).start()
    while True:  # the main thread waits for SIGTERM
        time.sleep(3600)


def max_concurrency():
    """How many invocations to run at once (AWS_LAMBDA_MAX_CONCURRENCY)."""
    try:
        return max(int(os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY", "1")), 1)
    except ValueError:
        return 1


def _serve(address, handler):
    """Runs invocations one after another on a connection of its own; a
    failure of the Runtime API, or sys.exit in a handler, ends the process
    as it would with one invocation at a time."""
    client = RuntimeClient(address)
    try:
        while True:
            handle(client, handler, client.next())
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        os._exit(code)
    except BaseException:
        traceback.print_exc()
        os._exit(1)


if __name__ == "__main__":
    main()
