package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
)

// StreamAsync holds accepted asynchronous events ("async.q.<function>")
// and their scheduled retries ("async.r.<function>.<request>").
const StreamAsync = "UPDRAFT_ASYNC"

// Headers of an async event message.
const (
	hdrRequestID     = "Updraft-Request-Id"
	hdrAttempt       = "Updraft-Attempt"
	hdrFirst         = "Updraft-First-Ms"
	hdrQualifier     = "Updraft-Qualifier"
	hdrClientContext = "Updraft-Client-Context"
	hdrTrace         = "Updraft-Trace-Id"
	hdrTenant        = "Updraft-Tenant-Id"
)

type asyncQueue struct {
	js     jetstream.JetStream
	stream jetstream.Stream

	workers *backbone.Workers

	mu        sync.Mutex
	consumers map[string]jetstream.ConsumeContext
	stopped   bool
}

// OpenAsync opens the async event stream. Call before Start.
func (s *Service) OpenAsync(ctx context.Context, bb *backbone.Backbone) error {
	st, err := bb.Stream(ctx, jetstream.StreamConfig{
		Name:              StreamAsync,
		Subjects:          []string{"async.>"},
		Retention:         jetstream.WorkQueuePolicy,
		AllowMsgSchedules: true,
		MaxMsgSize:        AsyncPayloadMax + 64<<10,
	})
	if err != nil {
		return err
	}
	s.async = &asyncQueue{js: bb.JetStream(), stream: st, workers: backbone.NewWorkers(), consumers: map[string]jetstream.ConsumeContext{}}
	return nil
}

// Start delivers async events of every function, and of each function
// created later (see Watch).
func (s *Service) Start(ctx context.Context) error {
	if s.async == nil {
		return errors.New("invoke: OpenAsync was not called")
	}
	for _, r := range s.store.List() {
		if err := s.consume(ctx, r.Config.FunctionName); err != nil {
			return err
		}
	}
	return nil
}

// Stop ends async delivery and waits for running deliveries until ctx
// ends. A delivery cut short by the node stopping is not settled: the
// backbone hands the event out again.
func (s *Service) Stop(ctx context.Context) error {
	q := s.async
	if q == nil {
		return nil
	}
	q.mu.Lock()
	q.stopped = true
	consumers := q.consumers
	q.consumers = map[string]jetstream.ConsumeContext{}
	q.mu.Unlock()
	for _, cc := range consumers {
		cc.Stop()
	}
	return q.workers.Close(ctx) // what still runs after ctx is not settled
}

// FunctionChanged starts or stops async delivery as functions come and go.
// It is meant for function.Store.OnChange.
func (s *Service) FunctionChanged(old, new *function.Record) {
	if s.async == nil {
		return
	}
	switch {
	case new != nil && old == nil:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.consume(ctx, new.Config.FunctionName); err != nil {
			s.log.Error("start async delivery", "function", new.Config.FunctionName, "err", err)
		}
	case new == nil && old != nil:
		s.unconsume(old.Config.FunctionName)
	}
}

func consumerName(fn string) string { return "fn_" + fn }

// consume starts the function's durable consumer.
func (s *Service) consume(ctx context.Context, fn string) error {
	q := s.async
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped || q.consumers[fn] != nil {
		return nil
	}
	cons, err := q.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       consumerName(fn),
		FilterSubject: "async.q." + fn,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.cfg.AckWait,
		MaxAckPending: s.cfg.AsyncWorkers,
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("async consumer %s: %w", fn, err)
	}
	cc, err := q.workers.Consume(cons, s.cfg.AsyncWorkers, s.cfg.AckWait, func(ctx context.Context, m jetstream.Msg) {
		s.deliver(ctx, fn, m)
	})
	if err != nil {
		return fmt.Errorf("async consume %s: %w", fn, err)
	}
	q.consumers[fn] = cc
	return nil
}

func (s *Service) unconsume(fn string) {
	q := s.async
	q.mu.Lock()
	cc := q.consumers[fn]
	delete(q.consumers, fn)
	q.mu.Unlock()
	if cc != nil {
		cc.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = q.stream.DeleteConsumer(ctx, consumerName(fn))
	_ = q.stream.Purge(ctx, jetstream.WithPurgeSubject("async.q."+fn))
}

// InvokeAsync persists an event and returns its request ID once the
// backbone has stored it.
func (s *Service) InvokeAsync(ctx context.Context, req Request) (string, error) {
	rec, qualifier, err := s.resolveFor(req)
	if err != nil {
		return "", err
	}
	payload, err := checkPayload(req.Payload, AsyncPayloadMax, "Invoke")
	if err != nil {
		return "", err
	}
	if _, err := decodeClientContext(req.ClientContext); err != nil {
		return "", err
	}
	requestID := req.RequestID
	if requestID == "" {
		requestID = function.NewUUID()
	}
	msg := nats.NewMsg("async.q." + rec.Config.FunctionName)
	msg.Data = payload
	msg.Header.Set(hdrRequestID, requestID)
	msg.Header.Set(hdrAttempt, "0")
	msg.Header.Set(hdrFirst, strconv.FormatInt(time.Now().UnixMilli(), 10))
	if qualifier != "" {
		msg.Header.Set(hdrQualifier, qualifier)
	}
	if req.ClientContext != "" {
		msg.Header.Set(hdrClientContext, req.ClientContext)
	}
	if req.TraceID != "" {
		msg.Header.Set(hdrTrace, req.TraceID)
	}
	if req.TenantID != "" {
		msg.Header.Set(hdrTenant, req.TenantID)
	}
	msg.Header.Set(nats.MsgIdHdr, requestID)
	if _, err := s.async.js.PublishMsg(ctx, msg); err != nil {
		return "", fmt.Errorf("persist async event: %w", err)
	}
	return requestID, nil
}

// deliver runs one async event and settles it: acked on success, on a
// final failure (after the destination has it), or once its retry is
// scheduled; redelivered later when throttled.
func (s *Service) deliver(ctx context.Context, fn string, m jetstream.Msg) {
	h := m.Headers()
	attempt, _ := strconv.Atoi(h.Get(hdrAttempt))
	firstMs, _ := strconv.ParseInt(h.Get(hdrFirst), 10, 64)
	first := time.UnixMilli(firstMs)
	requestID := h.Get(hdrRequestID)
	qualifier := h.Get(hdrQualifier)
	fnRec, err := s.store.Get(fn, "")
	if err != nil {
		_ = m.Term() // the function is gone: Lambda drops its events
		return
	}
	// An alias picks its version at delivery, each attempt anew.
	rec, err := s.store.Resolve(fn, qualifier)
	if err != nil {
		_ = m.Term() // the version or alias is gone
		return
	}
	// The qualifier invoked (alias, version or $LATEST) picks the config.
	cfg := fnRec.EventInvokeFor(qualifier)
	if time.Since(first) > cfg.MaxEventAge() {
		s.settleFailure(ctx, rec, cfg, m, requestID, attempt, "EventAgeExceeded", nil)
		return
	}
	req := Request{
		Function:      fn,
		Qualifier:     qualifier,
		Payload:       m.Data(),
		ClientContext: h.Get(hdrClientContext),
		TraceID:       h.Get(hdrTrace),
		TenantID:      h.Get(hdrTenant),
		RequestID:     requestID,
	}
	clientContext, _ := decodeClientContext(req.ClientContext)
	resp, err := s.run(ctx, rec, req, clientContext)
	if ctx.Err() != nil {
		// The node is stopping and may have killed the environment; this
		// attempt does not count.
		_ = m.Nak()
		return
	}
	if err != nil {
		if fault.Is(err, fault.Throttled) || ctx.Err() != nil || !isFault(err) {
			// Lambda keeps a throttled event for up to six hours, backing off.
			meta, _ := m.Metadata()
			n := uint64(1)
			if meta != nil {
				n = meta.NumDelivered
			}
			_ = m.NakWithDelay(throttleDelay(n, s.cfg.ThrottleRetryMax))
			return
		}
		s.settleFailure(ctx, rec, cfg, m, requestID, attempt, "RetriesExhausted", nil)
		return
	}
	if resp.FunctionError == "" {
		s.destination(ctx, rec, cfg.SuccessTarget(), m, requestID, attempt, "Success", resp)
		_ = m.Ack()
		return
	}
	if attempt < cfg.RetryAttempts() {
		if time.Since(first)+s.retryDelay(attempt) > cfg.MaxEventAge() {
			// The retry would come too late: the event fails now, with the
			// response of the attempt that ran, as Lambda reports it.
			s.settleFailure(ctx, rec, cfg, m, requestID, attempt, "EventAgeExceeded", resp)
			return
		}
		if err := s.scheduleRetry(ctx, fn, m, requestID, attempt+1); err != nil {
			s.log.Warn("schedule async retry", "function", fn, "request_id", requestID, "err", err)
			_ = m.NakWithDelay(s.retryDelay(attempt))
			return
		}
		_ = m.Ack()
		return
	}
	s.settleFailure(ctx, rec, cfg, m, requestID, attempt, "RetriesExhausted", resp)
}

func isFault(err error) bool { return fault.As(err) != nil }

func throttleDelay(delivered uint64, max time.Duration) time.Duration {
	d := time.Second << min(delivered, 20)
	if d > max || d <= 0 {
		d = max
	}
	return d
}

func (s *Service) retryDelay(attempt int) time.Duration {
	return s.cfg.RetryBase << attempt
}

// scheduleRetry stores the next attempt as a backbone message schedule
// that fires into the function's queue after the retry delay.
func (s *Service) scheduleRetry(ctx context.Context, fn string, m jetstream.Msg, requestID string, attempt int) error {
	at := time.Now().Add(s.retryDelay(attempt - 1)).UTC()
	msg := nats.NewMsg("async.r." + fn + "." + requestID)
	msg.Data = m.Data()
	for k, v := range m.Headers() {
		if len(v) > 0 && (len(k) < 5 || k[:5] != "Nats-") {
			msg.Header[k] = v
		}
	}
	msg.Header.Set(hdrAttempt, strconv.Itoa(attempt))
	msg.Header.Set("Nats-Schedule", "@at "+at.Format(time.RFC3339Nano))
	msg.Header.Set("Nats-Schedule-Target", "async.q."+fn)
	_, err := s.async.js.PublishMsg(ctx, msg)
	return err
}

func (s *Service) settleFailure(ctx context.Context, rec *function.Record, cfg *function.EventInvokeConfig, m jetstream.Msg, requestID string, attempt int, condition string, resp *Response) {
	s.destination(ctx, rec, cfg.FailureTarget(), m, requestID, attempt, condition, resp)
	if resp != nil || condition == "EventAgeExceeded" {
		s.log.Info("async event failed", "function", rec.Config.FunctionName, "request_id", requestID, "condition", condition)
	}
	_ = m.Ack()
}

// destination sends an invocation record to a destination function.
func (s *Service) destination(ctx context.Context, rec *function.Record, target string, m jetstream.Msg, requestID string, attempt int, condition string, resp *Response) {
	if target == "" {
		return
	}
	record := map[string]any{
		"version":   "1.0",
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"requestContext": map[string]any{
			"requestId":              requestID,
			"functionArn":            invokedArn(s.store.ARN(rec.Config.FunctionName), m.Headers().Get(hdrQualifier)),
			"condition":              condition,
			"approximateInvokeCount": attempt + 1,
		},
		"requestPayload": json.RawMessage(m.Data()),
	}
	if resp != nil {
		rc := map[string]any{"statusCode": 200, "executedVersion": resp.ExecutedVersion}
		if resp.FunctionError != "" {
			rc["functionError"] = resp.FunctionError
		}
		record["responseContext"] = rc
		if json.Valid(resp.Payload) {
			record["responsePayload"] = json.RawMessage(resp.Payload)
		} else {
			record["responsePayload"] = string(resp.Payload)
		}
	}
	body, err := json.Marshal(record)
	if err != nil {
		s.log.Error("encode destination record", "err", err)
		return
	}
	if _, err := s.InvokeAsync(ctx, Request{Function: target, Payload: body}); err != nil {
		s.log.Warn("send to destination", "function", rec.Config.FunctionName, "destination", target, "err", err)
	}
}

// invokedArn is the ARN an event was sent to: qualified, or $LATEST.
func invokedArn(arn, qualifier string) string {
	if qualifier == "" {
		qualifier = function.Latest
	}
	return arn + ":" + qualifier
}
