package runtimes

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// concurrent is how many invocations the concurrency tests run at once.
const concurrent = 4

// The handlers wait until all four invocations are inside them, which a
// client running one at a time never reaches: they fail instead.
const pythonTogether = `import logging
import threading

logger = logging.getLogger()
logger.setLevel(logging.INFO)
barrier = threading.Barrier(4, timeout=5)


def together(event, context):
    logger.info("waiting %s", context.aws_request_id)
    barrier.wait()
    logger.info("released %s", context.aws_request_id)
    return {"id": context.aws_request_id, "tenant": context.tenant_id}
`

const nodeTogether = `let waiting = 0;
let release;
const all = new Promise((resolve) => (release = resolve));

export const together = async (event, context) => {
  console.log("waiting", context.awsRequestId);
  if (++waiting === 4) release();
  const late = new Promise((_, reject) => setTimeout(() => reject(new Error("invocations did not run at once")), 5000));
  await Promise.race([all, late]);
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
  console.log("released", context.awsRequestId);
  return { id: context.awsRequestId, tenant: context.tenantId };
};
`

func testConcurrent(t *testing.T, lang language, handler string, files map[string]string) {
	p := start(t, lang, handler, files, fmt.Sprintf("AWS_LAMBDA_MAX_CONCURRENCY=%d", concurrent))
	want := map[string]string{} // request ID → tenant ID
	ids := map[string]bool{}
	for i := range concurrent {
		inv := invocation{RequestID: newRequestID(), Payload: "{}", Deadline: time.Now().Add(time.Minute), TenantID: fmt.Sprintf("tenant-%d", i)}
		want[inv.RequestID] = inv.TenantID
		ids[inv.RequestID] = true
		select {
		case p.api.events <- inv:
		case <-time.After(waitMax):
			t.Fatalf("runtime took %d invocations without answering, want %d at once; stderr:\n%s", i, concurrent, p.stderr)
		}
	}
	for range concurrent {
		r := p.wait(t)
		got := decode[struct{ ID, Tenant string }](t, r, "response")
		if got.ID != r.RequestID || want[r.RequestID] != got.Tenant {
			t.Errorf("response for %s: got id %s tenant %s, want its own id and tenant %s", r.RequestID, got.ID, got.Tenant, want[r.RequestID])
		}
		delete(want, r.RequestID)
	}
	if len(want) != 0 {
		t.Errorf("no response for %v", want)
	}
	// Each log line carries the request ID of the invocation that wrote
	// it, though they ran at once.
	for id := range ids {
		for _, word := range []string{"waiting", "released"} {
			p.stdout.waitFor(t, regexp.MustCompile(`\t`+id+`\t(INFO\t)?`+word+` `+id+`$`))
		}
	}
	mixed := regexp.MustCompile(`\t([0-9a-f-]{36})\t(?:INFO\t)?(?:waiting|released) ([0-9a-f-]{36})$`)
	for _, l := range strings.Split(p.stdout.String(), "\n") {
		if m := mixed.FindStringSubmatch(l); m != nil && m[1] != m[2] {
			t.Errorf("line of %s logged under request %s: %q", m[2], m[1], l)
		}
	}
}

func TestPython_Concurrent(t *testing.T) {
	t.Parallel()
	testConcurrent(t, python, "app.together", map[string]string{"app.py": pythonTogether})
}

func TestNode_Concurrent(t *testing.T) {
	t.Parallel()
	testConcurrent(t, node, "index.together", map[string]string{"index.mjs": nodeTogether})
}
