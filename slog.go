package smtplib

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
)

// WithLogger logs the events of [Trace] to l with stable smtp.* attributes:
// INFO for what went well, WARN for refusals and mails not sent, ERROR for
// unknown deliveries and lost connections; never a credential.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		return func(*config) {}
	}
	return WithTrace(logTrace(l))
}

// logTrace is the trace that WithLogger gives.
func logTrace(l *slog.Logger) *Trace {
	ctx := context.Background()
	debug := func() bool { return l.Enabled(ctx, slog.LevelDebug) }
	base := func(s Session, extra int) []slog.Attr {
		return append(make([]slog.Attr, 0, 4+extra),
			slog.Uint64("smtp.session", s.ID), slog.String("smtp.server", s.Server))
	}
	return &Trace{
		Connected: func(i ConnectInfo) {
			a := base(i.Session, 4)
			if i.Remote != nil {
				a = append(a, slog.String("smtp.remote", i.Remote.String()))
			}
			a = append(a, slog.Duration("smtp.duration", i.Duration))
			level, msg := slog.LevelInfo, "smtp connected"
			switch {
			case i.Err != nil:
				level, msg = slog.LevelError, "smtp connect failed"
				a = append(a, slog.Any("error", i.Err))
			case i.Greeting.Code != 220:
				level, msg = slog.LevelWarn, "smtp greeting refused"
				a = replyAttrs(a, i.Greeting)
			}
			if debug() && i.Err == nil {
				a = append(a, slog.String("smtp.greeting", i.Greeting.Message))
			}
			l.LogAttrs(ctx, level, msg, a...)
		},
		TLSDone: func(i TLSInfo) {
			a := append(base(i.Session, 4), slog.Duration("smtp.duration", i.Duration))
			if i.Err != nil {
				l.LogAttrs(ctx, slog.LevelError, "smtp tls failed", append(a, slog.Any("error", i.Err))...)
				return
			}
			a = append(a, slog.String("smtp.tls.version", tls.VersionName(i.State.Version)))
			if debug() {
				a = append(a, slog.String("smtp.tls.cipher", tls.CipherSuiteName(i.State.CipherSuite)),
					slog.Bool("smtp.tls.resumed", i.State.DidResume))
			}
			l.LogAttrs(ctx, slog.LevelInfo, "smtp tls", a...)
		},
		Authenticated: func(i AuthInfo) {
			a := append(base(i.Session, 5), slog.String("smtp.auth.mechanism", i.Mechanism),
				slog.Duration("smtp.duration", i.Duration))
			if i.Err == nil {
				l.LogAttrs(ctx, slog.LevelInfo, "smtp authenticated", a...)
				return
			}
			if i.Reply.Code > 0 {
				a = replyAttrs(a, i.Reply)
			}
			l.LogAttrs(ctx, slog.LevelWarn, "smtp authentication refused", append(a, slog.Any("error", i.Err))...)
		},
		Transaction: func(i TxnInfo) {
			a := append(base(i.Session, 10), slog.String("smtp.from", i.From),
				slog.Int("smtp.recipients", i.Recipients))
			if i.Refused > 0 {
				a = append(a, slog.Int("smtp.refused", i.Refused))
			}
			if i.QueueID != "" {
				a = append(a, slog.String("smtp.queue_id", i.QueueID))
			}
			if i.Code > 0 {
				a = append(a, slog.Int("smtp.code", i.Code))
				if i.EnhancedCode != ([3]int{}) {
					a = append(a, slog.String("smtp.enhanced_code", enhancedString(i.EnhancedCode)))
				}
			}
			a = append(a, slog.Int("smtp.bytes", i.Bytes), slog.Duration("smtp.duration", i.Duration))
			if debug() && i.Reply.Code > 0 {
				a = append(a, slog.String("smtp.reply", i.Reply.Message))
			}
			level, msg := slog.LevelInfo, "smtp sent"
			switch i.Outcome {
			case OutcomeRefused:
				level, msg = slog.LevelWarn, "smtp refused"
			case OutcomeNotSent:
				level, msg = slog.LevelWarn, "smtp not sent"
			case OutcomeUnknown:
				level, msg = slog.LevelError, "smtp delivery unknown"
			}
			if i.Err != nil {
				a = append(a, slog.Any("error", i.Err))
			}
			l.LogAttrs(ctx, level, msg, a...)
		},
		Closed: func(i ClosedInfo) {
			a := base(i.Session, 4)
			level, msg, reason := slog.LevelInfo, "smtp closed", "closed"
			switch {
			case i.Quit:
				reason = "quit"
			case i.Reply.Code == 421:
				level, msg, reason = slog.LevelWarn, "smtp closed by server", "server"
				a = replyAttrs(a, i.Reply)
			case i.Err != nil:
				level, msg, reason = slog.LevelError, "smtp connection lost", "error"
				var sd *ServerDisconnectedError
				if !errors.As(i.Err, &sd) {
					msg = "smtp connection closed on error"
				}
				a = append(a, slog.Any("error", i.Err))
			}
			a = append(a, slog.String("smtp.reason", reason), slog.Duration("smtp.duration", i.Duration))
			l.LogAttrs(ctx, level, msg, a...)
		},
	}
}

// replyAttrs adds a refusal's code, enhanced code and text.
func replyAttrs(a []slog.Attr, r Reply) []slog.Attr {
	a = append(a, slog.Int("smtp.code", r.Code))
	if ec := r.EnhancedCode(); ec != ([3]int{}) {
		a = append(a, slog.String("smtp.enhanced_code", enhancedString(ec)))
	}
	return append(a, slog.String("smtp.reply", r.Message))
}

// enhancedString writes an enhanced status code as RFC 3463 does.
func enhancedString(c [3]int) string { return fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2]) }
