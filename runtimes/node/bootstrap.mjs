// Updraft's Lambda runtime client for Node.js.
//
// Runs the handler named by _HANDLER ("index.handler", "src/app.nested.fn";
// the module is index, index.js, index.mjs or index.cjs in LAMBDA_TASK_ROOT)
// against the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API, version
// 2018-06-01, and behaves like the AWS managed Node.js runtime: async and
// callback handlers, callbackWaitsForEmptyEventLoop, the same context
// object, error payloads, error types and log format. Node 18 or later;
// no dependencies.
//
//   AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 _HANDLER=index.handler \
//     LAMBDA_TASK_ROOT=/var/task node bootstrap.mjs
//
// console.* writes each line synchronously to stdout, so every line of an
// invocation is in the pipe before its result is posted. SIGTERM ends the
// process with status 0. AWS_LAMBDA_EXEC_WRAPPER names a wrapper script the
// client runs under.
//
// With AWS_LAMBDA_MAX_CONCURRENCY above 1 the client runs that many
// invocations at once on the one event loop (concurrent async handlers);
// console lines carry the request ID of the invocation that logged them.
// The event loop never empties while other invocations wait, so a callback
// handler's response is sent as soon as it calls back, as with
// callbackWaitsForEmptyEventLoop = false, and an uncaught exception ends the
// process (and every invocation in it).

import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import util from "node:util";

const require = createRequire(import.meta.url);
const API_PREFIX = "/2018-06-01/runtime";
const ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type";

// ---- Errors ---------------------------------------------------------------

class RuntimeError extends Error {}
const runtimeErrors = {
  ImportModuleError: class ImportModuleError extends RuntimeError {},
  HandlerNotFound: class HandlerNotFound extends RuntimeError {},
  MalformedHandlerName: class MalformedHandlerName extends RuntimeError {},
  UserCodeSyntaxError: class UserCodeSyntaxError extends RuntimeError {},
  JSONStringifyError: class JSONStringifyError extends RuntimeError {},
  NodeJsExit: class NodeJsExit extends RuntimeError {},
  UnhandledPromiseRejection: class UnhandledPromiseRejection extends RuntimeError {
    constructor(reason, promise) {
      super(reason);
      this.reason = reason;
      this.promise = promise;
    }
  },
};
for (const [name, cls] of Object.entries(runtimeErrors)) {
  cls.prototype.name = `Runtime.${name}`;
}
const {
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  JSONStringifyError,
  NodeJsExit,
  UnhandledPromiseRejection,
} = runtimeErrors;

const NODE_JS_EXIT_MESSAGE =
  "The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes";

function isError(v) {
  return (
    util.types.isNativeError(v) ||
    (v && typeof v.name === "string" && typeof v.message === "string" && typeof v.stack === "string")
  );
}

// The error payload of AWS's Node.js runtime: errorType, errorMessage, trace.
function toRapidResponse(err) {
  try {
    if (isError(err)) {
      return { errorType: err.name, errorMessage: err.message, trace: err.stack.split("\n") };
    }
    return { errorType: typeof err, errorMessage: String(err), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
    };
  }
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

// An error as logged by AWS: a tab, then JSON with the non-enumerable fields.
function toFormatted(err) {
  const withFields = (_k, v) => {
    if (!(v instanceof Error)) return v;
    const out = Object.assign({ errorType: v.name, errorMessage: v.message, code: v.code }, v);
    if (typeof v.stack === "string") out.stack = v.stack.split("\n");
    return out;
  };
  try {
    return "\t" + JSON.stringify(err, withFields);
  } catch {
    return "\t" + JSON.stringify(toRapidResponse(err));
  }
}

// ---- Logging ----------------------------------------------------------------

let currentRequestId; // undefined during init, printed as "undefined" as AWS does
// The request ID of the invocation whose code is running, when several run
// at once.
const invocationIds = new AsyncLocalStorage();
const maxConcurrency = Math.max(Number.parseInt(process.env.AWS_LAMBDA_MAX_CONCURRENCY ?? "1", 10) || 1, 1);
const concurrent = maxConcurrency > 1;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd, text) {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (err) {
      if (err.code !== "EAGAIN") throw err;
      Atomics.wait(sleepCell, 0, 0, 1); // a full non-blocking pipe: wait for the reader
    }
  }
}

function patchConsole() {
  const levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
  const min = Math.max(levels.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL ?? "").toUpperCase()), 0);
  const logger = (level) => {
    if (levels.indexOf(level) < min) return () => {};
    return (...args) => {
      const id = invocationIds.getStore() ?? currentRequestId;
      const line = `${new Date().toISOString()}\t${id}\t${level}\t${util.format(...args)}`;
      writeAll(1, line.replace(/\n/g, "\r") + "\n");
    };
  };
  console.trace = logger("TRACE");
  console.debug = logger("DEBUG");
  console.info = logger("INFO");
  console.log = console.info;
  console.warn = logger("WARN");
  console.error = logger("ERROR");
  console.fatal = logger("FATAL");
}

function logError(msg, err) {
  console.error(msg, toFormatted(intoError(err)));
}

// ---- Runtime API client ---------------------------------------------------

class RuntimeAPI {
  constructor(address) {
    const i = address.lastIndexOf(":");
    this.hostname = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
    this.port = Number(address.slice(i + 1));
    this.agent = new http.Agent({ keepAlive: true });
  }

  async next() {
    const res = await this.request("GET", "/invocation/next");
    if (res.status !== 200) {
      throw new Error(`next invocation: status ${res.status}: ${res.body.slice(0, 200)}`);
    }
    return res;
  }

  postResponse(id, body) {
    return this.post(`/invocation/${encodeURIComponent(id)}/response`, body, {
      "Content-Type": "application/json",
    });
  }

  postError(id, err) {
    return this.postErrorTo(`/invocation/${encodeURIComponent(id)}/error`, err);
  }

  postInitError(err) {
    return this.postErrorTo("/init/error", err);
  }

  postErrorTo(urlPath, err) {
    const payload = toRapidResponse(err);
    let errorType = String(payload.errorType);
    try {
      http.validateHeaderValue(ERROR_TYPE_HEADER, errorType);
    } catch {
      errorType = "Unhandled";
    }
    return this.post(urlPath, JSON.stringify(payload), {
      "Content-Type": "application/json",
      [ERROR_TYPE_HEADER]: errorType,
    });
  }

  async post(urlPath, body, headers) {
    const res = await this.request("POST", urlPath, body, headers);
    if (res.status !== 202) {
      // The platform has recorded the outcome (say, a response too large);
      // say why on stderr and carry on with the next invocation.
      writeAll(2, `runtime: POST ${urlPath}: status ${res.status}: ${res.body.slice(0, 200)}\n`);
    }
  }

  request(method, urlPath, body, headers = {}, retried = false) {
    return new Promise((resolve, reject) => {
      if (body !== undefined) headers = { ...headers, "Content-Length": Buffer.byteLength(body) };
      const req = http.request(
        { hostname: this.hostname, port: this.port, path: API_PREFIX + urlPath, method, headers, agent: this.agent },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () =>
            resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
          );
        },
      );
      req.on("error", (err) => {
        // A kept-alive socket the server has since closed fails on first
        // use; the request never reached the server, so send it once more.
        if (!retried && req.reusedSocket && err.code === "ECONNRESET") {
          resolve(this.request(method, urlPath, body, headers, true));
        } else {
          reject(err);
        }
      });
      req.end(body);
    });
  }
}

// ---- Handler loading --------------------------------------------------------

function packageTypeIsModule(dir) {
  for (;;) {
    if (dir.endsWith(`${path.sep}node_modules`)) return false;
    const pj = path.join(dir, "package.json");
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, "utf8"))?.type === "module";
      } catch (err) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, err);
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

// Loads a module the way AWS does: an extensionless file, then .js (CommonJS
// unless the nearest package.json says "type": "module"), .mjs, .cjs, and
// last a Node module resolution from the task root.
async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const tryRequire = (file) => (fs.existsSync(file) ? require(file) : undefined);
  const tryImport = async (file) => (fs.existsSync(file) ? import(pathToFileURL(file).href) : undefined);
  try {
    const esm = packageTypeIsModule(path.dirname(base));
    const mod =
      tryRequire(base) ||
      (!esm && tryRequire(`${base}.js`)) ||
      (esm && (await tryImport(`${base}.js`))) ||
      (await tryImport(`${base}.mjs`)) ||
      tryRequire(`${base}.cjs`);
    if (mod) return mod;
    return require(require.resolve(moduleName, { paths: [appRoot, path.join(appRoot, moduleRoot)] }));
  } catch (err) {
    if (err instanceof SyntaxError) {
      const wrapped = new UserCodeSyntaxError(String(err));
      wrapped.stack = err.stack;
      throw wrapped;
    }
    if (err?.code === "MODULE_NOT_FOUND") throw new ImportModuleError(String(err));
    throw err;
  }
}

async function loadHandler(appRoot, fullName) {
  if (fullName.includes("..")) {
    throw new MalformedHandlerName(
      `'${fullName}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullName);
  const moduleRoot = fullName.substring(0, fullName.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new MalformedHandlerName("Bad handler");
  const [, moduleName, handlerPath] = match;

  const mod = await loadModule(appRoot, moduleRoot, moduleName);
  const find = (obj) => handlerPath.split(".").reduce((o, k) => o && o[k], obj);
  let fn = find(mod);
  if (!fn && mod && typeof mod === "object" && "default" in mod) fn = find(mod.default);
  if (!fn) throw new HandlerNotFound(`${fullName} is undefined or not exported`);
  if (typeof fn !== "function") throw new HandlerNotFound(`${fullName} is not a function`);
  return fn;
}

// ---- Invocation loop ----------------------------------------------------------

// What runs when the event loop empties: a callback's deferred response, or
// the default ending of an invocation whose handler never reported.
let beforeExit = () => {};
process.on("beforeExit", () => beforeExit());

// Where uncaught errors go: the init error until the first invocation starts,
// then that invocation's error. Either way the process then exits, as on AWS.
let onUncaught = (err, code) => api.postInitError(err).finally(() => process.exit(code));

function serialize(result) {
  try {
    return JSON.stringify(result === undefined ? null : result) ?? "null";
  } catch {
    throw new JSONStringifyError("Unable to stringify response body");
  }
}

// The callback and the callback half of the context, as AWS builds them:
// only the first of callback/done/succeed/fail counts.
function callbackContext(id, scheduleNext) {
  let waitForEmptyEventLoop = true;
  let completed = false;
  let finished = false;

  const postError = (err) => {
    logError("Invoke Error", err);
    api.postError(id, err).then(scheduleNext, fatal);
  };
  const complete = (result) => {
    beforeExit = () => {};
    if (completed) {
      console.error("Invocation has already been reported as done. Cannot call complete more than once per invocation.");
      return;
    }
    completed = true;
    let body;
    try {
      body = serialize(result);
    } catch (err) {
      postError(err);
      return;
    }
    api.postResponse(id, body).then(scheduleNext, fatal);
  };
  const callback = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) postError(err);
    else if (!waitForEmptyEventLoop || concurrent) complete(result);
    else beforeExit = () => setImmediate(() => complete(result));
  };
  const done = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  const once =
    (fn) =>
    (...args) => {
      if (finished) return;
      finished = true;
      fn(...args);
    };

  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(v) {
      waitForEmptyEventLoop = v;
    },
    succeed: once((result) => done(null, result)),
    fail: once((err) => done(err === undefined || err === null ? "handled" : err, null)),
    done: once(done),
  };
  const markCompleted = () => {
    completed = true;
    finished = true;
  };
  return [once(callback), context, markCompleted];
}

function parseJSONHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function invocationData(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  return {
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJSONHeader(headers["lambda-runtime-client-context"], "ClientContext"),
    identity: parseJSONHeader(headers["lambda-runtime-cognito-identity"], "CognitoIdentity"),
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    tenantId: headers["lambda-runtime-aws-tenant-id"],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

async function invokeOnce(handler, isAsync) {
  const { headers, body } = await api.next();
  const id = headers["lambda-runtime-aws-request-id"];
  if (!id) throw new Error("next invocation: no Lambda-Runtime-Aws-Request-Id");
  currentRequestId = id;
  const traceID = headers["lambda-runtime-trace-id"];
  if (traceID) process.env._X_AMZN_TRACE_ID = traceID;
  else delete process.env._X_AMZN_TRACE_ID;

  const scheduleNext = () => setImmediate(() => invokeOnce(handler, isAsync).catch(fatal));
  const [callback, context, markCompleted] = callbackContext(id, scheduleNext);
  // With several invocations running, an uncaught error belongs to none
  // in particular: the process ends, as AWS's runtime does.
  onUncaught = concurrent ? (_err, code) => process.exit(code) : (err, code) => api.postError(id, err).finally(() => process.exit(code));
  beforeExit = () => {
    markCompleted();
    if (isAsync) {
      // An async handler whose promise never settled.
      const err = new NodeJsExit(NODE_JS_EXIT_MESSAGE);
      logError("Invoke Error", err);
      api.postError(id, err).then(scheduleNext, fatal);
    } else {
      // A callback handler that never called back: success, null result.
      api.postResponse(id, "null").then(scheduleNext, fatal);
    }
  };

  try {
    Object.assign(context, invocationData(headers));
    const result = invocationIds.run(id, () => handler(JSON.parse(body), context, callback));
    if (result && typeof result.then === "function") {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (err) {
    callback(err);
  }
}

function fatal(err) {
  writeAll(2, `runtime: ${err?.stack ?? err}\n`);
  process.exit(1);
}

// ---- Exec wrapper -----------------------------------------------------------

// The argument that marks a runtime client started by its exec wrapper.
const WRAPPED = "--exec-wrapped";

// execWrapper runs the runtime client under AWS_LAMBDA_EXEC_WRAPPER, when
// set, as AWS's managed runtimes do: the wrapper gets the runtime's command
// as its arguments. A wrapper that does not exist ends INIT with status 127
// (as on Lambda), one that is not executable with 126 (a shell's status for
// it). It reports whether the wrapper runs (this process then only waits).
function execWrapper() {
  const wrapper = process.env.AWS_LAMBDA_EXEC_WRAPPER;
  if (!wrapper || process.argv.slice(2).includes(WRAPPED)) return false;
  let isFile = false;
  try {
    isFile = fs.statSync(wrapper).isFile();
  } catch {}
  if (!isFile) {
    writeAll(1, `${wrapper}: does not exist\n`);
    process.exit(127);
  }
  try {
    fs.accessSync(wrapper, fs.constants.X_OK);
  } catch {
    writeAll(1, `${wrapper}: is not an executable\n`);
    process.exit(126);
  }
  // Node cannot exec in place: the wrapper runs as a child, in this
  // process's group, and its status is this process's.
  const args = [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), WRAPPED];
  const child = spawn(wrapper, args, { stdio: "inherit" });
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("error", (err) => fatal(err));
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0)));
  return true;
}

// ---- Main -------------------------------------------------------------------

if (execWrapper()) await new Promise(() => {}); // the child's exit ends this process
patchConsole();
process.on("SIGTERM", () => process.exit(0));
if (!process.env.AWS_LAMBDA_RUNTIME_API) {
  writeAll(2, "runtime: AWS_LAMBDA_RUNTIME_API is not set\n");
  process.exit(1);
}
const api = new RuntimeAPI(process.env.AWS_LAMBDA_RUNTIME_API);

process.on("uncaughtException", (err) => {
  logError("Uncaught Exception", err);
  onUncaught(err, 129);
});
process.on("unhandledRejection", (reason, promise) => {
  const err = new UnhandledPromiseRejection(reason, promise);
  logError("Unhandled Promise Rejection", err);
  onUncaught(err, 128);
});

const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
let handler;
try {
  handler = await loadHandler(appRoot, process.env._HANDLER ?? "");
} catch (err) {
  logError("Uncaught Exception", err);
  await api.postInitError(err).catch(fatal);
  process.exit(129);
}
const isAsync = handler.constructor?.name === "AsyncFunction";
for (let i = 0; i < maxConcurrency; i++) invokeOnce(handler, isAsync).catch(fatal);
