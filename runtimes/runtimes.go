// Package runtimes holds Updraft's own Lambda runtime clients for Python and
// Node.js handlers, embedded in the binary.
//
// Each is one self-contained file in the language's standard library. The
// sandbox writes it anywhere outside the function's code and runs it with
// the code directory as working directory and the usual Lambda environment:
//
//	python3 bootstrap.py       (Python 3.9+; _HANDLER "app.handler")
//	node bootstrap.mjs         (Node 18+; _HANDLER "index.handler")
//
// with AWS_LAMBDA_RUNTIME_API (host:port of the Runtime API), _HANDLER,
// LAMBDA_TASK_ROOT (the code directory) and the AWS_LAMBDA_FUNCTION_NAME,
// AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
// AWS_LAMBDA_LOG_GROUP_NAME and AWS_LAMBDA_LOG_STREAM_NAME the context object
// reports. A client speaks Runtime API version 2018-06-01, writes each log
// line to stdout before it posts the invocation's result, and exits with
// status 0 on SIGTERM.
//
// Any package may import runtimes. The variables are read-only by
// convention; they are safe for concurrent reads.
package runtimes

import _ "embed"

// Python is the Python runtime client, python/bootstrap.py.
//
//go:embed python/bootstrap.py
var Python []byte

// Node is the Node.js runtime client, node/bootstrap.mjs. It is an ES module
// and must keep the .mjs extension when written out.
//
//go:embed node/bootstrap.mjs
var Node []byte
