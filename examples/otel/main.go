// Command otel turns the library's Trace into OpenTelemetry spans and
// counters: a span for each SMTP session, with a child span for each mail
// transaction, events for TLS and AUTH, and counters of the mails by
// outcome, their bytes and the sessions by how they ended. OpenTelemetry
// has no semantic conventions for SMTP yet, so the attribute names follow
// the library's log attributes (smtp.queue_id, smtp.enhanced_code, ...)
// beside the general server.address and error.type.
//
// It sends a few mails through a Pool to an in-process fake server
// (package smtptest, on loopback: no network is needed), with STARTTLS,
// a login, a refused recipient and a refused mail, and prints the spans
// and counters it recorded. It lives in its own module so that
// OpenTelemetry stays out of the library's go.mod; run it from this
// directory with `go run .`.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Tracing makes a smtplib.Trace that records spans with tracer and counts
// with meter. Sessions run concurrently in a Pool, so their spans are kept
// by session ID under a lock.
func Tracing(ctx context.Context, tracer trace.Tracer, meter metric.Meter) (*smtplib.Trace, error) {
	mails, err := meter.Int64Counter("smtp.client.mails", metric.WithDescription("mail transactions, by outcome"))
	if err != nil {
		return nil, err
	}
	bytes, err := meter.Int64Counter("smtp.client.bytes", metric.WithUnit("By"),
		metric.WithDescription("message bytes of the transactions, by outcome"))
	if err != nil {
		return nil, err
	}
	sessions, err := meter.Int64Counter("smtp.client.sessions", metric.WithDescription("sessions closed, by reason"))
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	spans := map[uint64]trace.Span{}
	session := func(id uint64) (trace.Span, bool) {
		mu.Lock()
		defer mu.Unlock()
		s, ok := spans[id]
		return s, ok
	}
	server := func(s smtplib.Session) []attribute.KeyValue {
		host, port, _ := net.SplitHostPort(s.Server)
		p, _ := strconv.Atoi(port)
		return []attribute.KeyValue{attribute.String("server.address", host), attribute.Int("server.port", p),
			attribute.Int64("smtp.session", int64(s.ID))}
	}
	return &smtplib.Trace{
		Connected: func(i smtplib.ConnectInfo) {
			_, span := tracer.Start(ctx, "smtp session", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithTimestamp(time.Now().Add(-i.Duration)), trace.WithAttributes(server(i.Session)...))
			span.AddEvent("connected", trace.WithAttributes(attribute.Int("smtp.code", i.Greeting.Code)))
			if i.Err != nil {
				span.RecordError(i.Err)
				span.SetStatus(codes.Error, "connect failed")
				span.End()
				return
			}
			mu.Lock()
			spans[i.ID] = span
			mu.Unlock()
		},
		TLSDone: func(i smtplib.TLSInfo) {
			if span, ok := session(i.ID); ok {
				span.AddEvent("tls", trace.WithAttributes(
					attribute.String("tls.protocol.version", strings.TrimPrefix(tlsVersion(i.State.Version), "TLS ")),
					attribute.Bool("smtp.tls.implicit", i.Implicit)))
			}
		},
		Authenticated: func(i smtplib.AuthInfo) {
			if span, ok := session(i.ID); ok {
				span.AddEvent("auth", trace.WithAttributes(attribute.String("smtp.auth.mechanism", i.Mechanism),
					attribute.Bool("smtp.auth.ok", i.Err == nil), attribute.Int("smtp.code", i.Reply.Code)))
			}
		},
		Transaction: func(i smtplib.TxnInfo) {
			parent, ok := session(i.ID)
			if !ok {
				return
			}
			outcome := attribute.String("smtp.outcome", i.Outcome.String())
			_, span := tracer.Start(trace.ContextWithSpan(ctx, parent), "smtp send",
				trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(time.Now().Add(-i.Duration)),
				trace.WithAttributes(outcome, attribute.Int("smtp.recipients", i.Recipients),
					attribute.Int("smtp.refused", i.Refused), attribute.Int("smtp.bytes", i.Bytes),
					attribute.Int("smtp.code", i.Code), attribute.String("smtp.queue_id", i.QueueID)))
			if i.EnhancedCode != ([3]int{}) {
				span.SetAttributes(attribute.String("smtp.enhanced_code",
					fmt.Sprintf("%d.%d.%d", i.EnhancedCode[0], i.EnhancedCode[1], i.EnhancedCode[2])))
			}
			if i.Err != nil {
				span.RecordError(i.Err)
				span.SetAttributes(attribute.String("error.type", i.Outcome.String()))
				span.SetStatus(codes.Error, i.Outcome.String())
			}
			span.End()
			mails.Add(ctx, 1, metric.WithAttributes(outcome))
			if i.Bytes > 0 {
				bytes.Add(ctx, int64(i.Bytes), metric.WithAttributes(outcome))
			}
		},
		Closed: func(i smtplib.ClosedInfo) {
			reason := "closed"
			switch {
			case i.Quit:
				reason = "quit"
			case i.Reply.Code == 421:
				reason = "server"
			case i.Err != nil:
				reason = "error"
			}
			sessions.Add(ctx, 1, metric.WithAttributes(attribute.String("smtp.reason", reason)))
			mu.Lock()
			span, ok := spans[i.ID]
			delete(spans, i.ID)
			mu.Unlock()
			if !ok {
				return
			}
			span.SetAttributes(attribute.String("smtp.reason", reason))
			if i.Err != nil {
				span.RecordError(i.Err)
				span.SetStatus(codes.Error, "connection lost")
			}
			span.End()
		},
	}, nil
}

func tlsVersion(v uint16) string {
	switch v {
	case 0x0304:
		return "TLS 1.3"
	case 0x0303:
		return "TLS 1.2"
	}
	return "TLS"
}

func main() {
	ctx := context.Background()
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tr, err := Tracing(ctx, tp.Tracer("github.com/gosmtplib/smtplib"), mp.Meter("github.com/gosmtplib/smtplib"))
	if err != nil {
		log.Fatal(err)
	}

	srv, err := smtptest.New(smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN"), smtptest.WithPipelining(),
		smtptest.WithUsers(map[string]string{"news": "s3cret"}), smtptest.WithEnhancedStatusCodes(),
		smtptest.WithRefuseRecipient("gone@example.org", "550 5.1.1 No such user"),
		// The third end of data is refused for now, then taken.
		smtptest.WithReplies("DOT", "250 2.0.0 Ok: queued as 4BXf2k0Q1z", "250 2.0.0 Ok: queued as 4BXf2k0Q2a",
			"451 4.3.0 Local error, try again later"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	pool := smtplib.NewPool(func(ctx context.Context) (*smtplib.SMTP, error) {
		c, err := smtplib.DialContext(ctx, srv.Host(), srv.Port(), smtplib.WithTrace(tr))
		if err != nil {
			return nil, err
		}
		if _, err := c.StartTLSContext(ctx, srv.TLSConfig()); err != nil {
			c.Close()
			return nil, err
		}
		if _, err := c.LoginContext(ctx, "news", "s3cret"); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}, smtplib.WithPoolSize(1), smtplib.WithRateLimit(50, 5),
		smtplib.WithRetry(&smtplib.RetryPolicy{MinDelay: 100 * time.Millisecond}))
	for _, to := range [][]string{{"ann@example.org"}, {"bob@example.org", "gone@example.org"},
		{"gone@example.org"}, {"cy@example.org"}} {
		msg := fmt.Appendf(nil, "Subject: news\r\nTo: %s\r\n\r\nThis month's news.\r\n", to[0])
		r := pool.Send(ctx, smtplib.Mail{From: "news@example.com", To: to, Data: msg})
		fmt.Printf("to %v: %s after %d tries, %d refused\n", to, r.Outcome(), r.Tries, len(r.Refused))
	}
	if err := pool.Close(); err != nil {
		log.Fatal(err)
	}
	if err := tp.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}

	fmt.Println("\nspans:")
	for _, s := range recorder.Ended() {
		indent := ""
		if s.Parent().IsValid() {
			indent = "  "
		}
		fmt.Printf("%s%s [%s]%s\n", indent, s.Name(), s.Status().Code, attrs(s.Attributes(), "smtp.session", "server.port"))
		for _, e := range s.Events() {
			if e.Name != "exception" {
				fmt.Printf("%s  event %s%s\n", indent, e.Name, attrs(e.Attributes))
			}
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	var counters []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					counters = append(counters, fmt.Sprintf("%s%s = %d", m.Name, attrs(dp.Attributes.ToSlice()), dp.Value))
				}
			}
		}
	}
	sort.Strings(counters)
	fmt.Println("\ncounters:\n" + strings.Join(counters, "\n"))
}

// attrs prints attributes as " k=v ...", sorted, without those named in
// skip (which differ from run to run).
func attrs(kvs []attribute.KeyValue, skip ...string) string {
	var out []string
	for _, kv := range kvs {
		if !contains(skip, string(kv.Key)) && kv.Value.String() != "" {
			out = append(out, string(kv.Key)+"="+kv.Value.String())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return ""
	}
	return " " + strings.Join(out, " ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
