package smtplib

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// campaignServer is a relay over pipes, for testing/synctest, that does
// what providers do to a campaign: it offers PIPELINING and enhanced
// status codes, throttles (454 4.7.0 at MAIL) for throttleFor after every
// throttleEvery mails it takes, refuses "full-" recipients with 452 4.2.2
// the first fullTimes times it sees each and "bad-" ones with 550 5.1.1
// always, drops the connection on receipt of every dropMailEvery-th MAIL
// (before its reply) and after every dropDotEvery-th end of data (the
// mail taken, its reply never sent: delivery unknown), and answers the
// end of data with dotReply's reply when it gives one. It records what
// it took by Message-ID, recipient and session, and counts QUITs.
type campaignServer struct {
	throttleEvery int
	throttleFor   time.Duration
	fullTimes     int
	dropMailEvery int
	dropDotEvery  int
	dotReply      func(id string, session int) string
	ext           []string      // more extensions to offer
	rtt           time.Duration // each reply leaves rtt after its command came

	mu        sync.Mutex
	sessions  int
	taken     int                       // mails taken, for throttling
	mails     int                       // MAIL commands
	dots      int                       // ends of data with a recipient
	until     time.Time                 // throttled until then
	full      map[string]int            // refusals so far of each full- recipient
	got       map[string]map[string]int // Message-ID -> recipient -> deliveries
	session   map[string][]int          // Message-ID -> the sessions that took it
	unknown   map[string]int            // Message-IDs taken at a dropped end of data: its takes then
	bad       map[string]int            // refusals of each bad- recipient
	mailTimes []time.Time               // when each MAIL came
	quits     int
	throttled int // 454s given
	dropsMail int // connections dropped at MAIL
}

func (cs *campaignServer) serve(conn net.Conn) {
	cs.mu.Lock()
	cs.sessions++
	session := cs.sessions
	if cs.got == nil {
		cs.full, cs.got = map[string]int{}, map[string]map[string]int{}
		cs.session, cs.unknown, cs.bad = map[string][]int{}, map[string]int{}, map[string]int{}
	}
	cs.mu.Unlock()
	reply, done := delayedReplies(conn, cs.rtt)
	defer done()
	say := func(s string) { reply(s + "\r\n") }
	say("220 relay.example ESMTP")
	r := bufio.NewReader(conn)
	var from bool
	var to []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			text := "250-relay.example\r\n250-PIPELINING\r\n"
			for _, e := range cs.ext {
				text += "250-" + e + "\r\n"
			}
			say(text + "250 ENHANCEDSTATUSCODES")
		case "MAIL":
			cs.mu.Lock()
			cs.mails++
			cs.mailTimes = append(cs.mailTimes, time.Now())
			drop := cs.dropMailEvery > 0 && cs.mails%cs.dropMailEvery == 0
			throttle := time.Now().Before(cs.until)
			if drop {
				cs.dropsMail++
			} else if throttle {
				cs.throttled++
			}
			cs.mu.Unlock()
			switch {
			case drop:
				return
			case throttle:
				say("454 4.7.0 Throttling failure: Maximum sending rate exceeded")
			default:
				from, to = true, nil
				say("250 2.1.0 Ok")
			}
		case "RCPT":
			rcpt, _, _ := strings.Cut(strings.ToLower(arg[len("TO:"):]), " ")
			rcpt = strings.Trim(rcpt, "<>")
			cs.mu.Lock()
			full := from && strings.HasPrefix(rcpt, "full-") && cs.full[rcpt] < cs.fullTimes
			if full {
				cs.full[rcpt]++
			}
			if from && strings.HasPrefix(rcpt, "bad-") {
				cs.bad[rcpt]++
			}
			cs.mu.Unlock()
			switch {
			case !from:
				say("503 5.5.1 Error: need MAIL command")
			case strings.HasPrefix(rcpt, "bad-"):
				say("550 5.1.1 No such user")
			case full:
				say("452 4.2.2 Mailbox full")
			default:
				to = append(to, rcpt)
				say("250 2.1.5 Ok")
			}
		case "DATA":
			if len(to) == 0 {
				say("554 5.5.1 Error: no valid recipients")
				continue
			}
			say("354 End data with <CR><LF>.<CR><LF>")
			id := ""
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				if v, ok := strings.CutPrefix(l, "Message-ID: "); ok && id == "" {
					id = strings.TrimSpace(v)
				}
			}
			reply := "250 2.0.0 Ok: queued as Q" + strings.Trim(id, "<>@.")
			if cs.dotReply != nil {
				if r := cs.dotReply(id, session); r != "" {
					reply = r
				}
			}
			took := strings.HasPrefix(reply, "250")
			cs.mu.Lock()
			cs.dots++
			drop := cs.dropDotEvery > 0 && cs.dots%cs.dropDotEvery == 0
			if took || drop {
				if cs.got[id] == nil {
					cs.got[id] = map[string]int{}
				}
				for _, rcpt := range to {
					cs.got[id][rcpt]++
				}
				cs.session[id] = append(cs.session[id], session)
				cs.taken++
				if cs.throttleEvery > 0 && cs.taken%cs.throttleEvery == 0 {
					cs.until = time.Now().Add(cs.throttleFor)
				}
			}
			if drop {
				cs.unknown[id] = len(cs.session[id])
			}
			cs.mu.Unlock()
			from, to = false, nil
			if drop {
				return
			}
			say(reply)
		case "RSET":
			from, to = false, nil
			say("250 2.0.0 Ok")
		case "QUIT":
			cs.mu.Lock()
			cs.quits++
			cs.mu.Unlock()
			say("221 2.0.0 Bye")
			return
		default:
			say("250 2.0.0 Ok")
		}
	}
}

// campaignMail is mail i of a campaign: to u<i>, with on some mails a
// recipient whose mailbox is full (452 4.2.2 at first) or who does not
// exist (550 5.1.1), or only such a recipient.
func campaignMail(i int) Mail {
	to := []string{fmt.Sprintf("u%d@example.org", i)}
	switch {
	case i%40 == 7:
		to = append(to, fmt.Sprintf("full-%d@example.org", i))
	case i%40 == 17:
		to = []string{fmt.Sprintf("full-%d@example.org", i)}
	case i%250 == 3:
		to = []string{fmt.Sprintf("bad-%d@example.org", i)}
	case i%250 == 5:
		to = append(to, fmt.Sprintf("bad-%d@example.org", i))
	}
	return Mail{From: "news@example.com", To: to,
		Data: fmt.Appendf(nil, "Message-ID: <%d@campaign.example>\r\nSubject: news %d\r\n\r\nhi\r\n", i, i)}
}

func campaignID(i int) string { return fmt.Sprintf("<%d@campaign.example>", i) }

// TestPoolCampaign sends a campaign of 10,000 mails through a Pool of 4
// connections at 1,000 mails a second (bursts of 50), with the default
// retry policy, into a relay that throttles for a second after every 500
// mails, refuses some recipients for a while (452 4.2.2) and some for
// good (550 5.1.1), and now and then drops the connection, before a MAIL
// or after the data. Every mail ends delivered, refused for good, or
// unknown, each exactly once; no recipient gets a mail twice; the mails
// whose connection dropped after their data are reported unknown and
// never sent again; and the campaign keeps to its rate, taking on the
// fake clock the time its tries need at that rate plus the pauses the
// throttling asked for.
func TestPoolCampaign(t *testing.T) {
	const (
		total   = 10000
		callers = 64
		perSec  = 1000
		burst   = 50
	)
	synctest.Test(t, func(t *testing.T) {
		cs := &campaignServer{throttleEvery: 500, throttleFor: time.Second, fullTimes: 1,
			dropMailEvery: 1499, dropDotEvery: 2003, rtt: 2 * time.Millisecond}
		p, pipes := campaignPool(cs, WithPoolSize(4), WithRateLimit(perSec, burst), WithRetry(&RetryPolicy{MaxTries: 10}))
		mails := make([]Mail, total)
		for i := range mails {
			mails[i] = campaignMail(i)
		}
		results, elapsed := sendAll(p, callers, mails)
		closePool(t, p)
		pipes.Wait()

		var delivered, refused, unknown, tries, partial int
		for i, r := range results {
			m, id := campaignMail(i), campaignID(i)
			tries += r.Tries
			require.Positive(t, r.Tries, "mail %d", i)
			got := cs.got[id]
			switch r.Outcome() {
			case OutcomeSent:
				delivered++
				for _, rcpt := range m.To {
					if _, no := r.Refused[rcpt]; no {
						assert.True(t, strings.HasPrefix(rcpt, "bad-"), "mail %d: %s refused: %v", i, rcpt, r.Refused[rcpt])
						assert.Zero(t, got[rcpt], "mail %d: refused, yet delivered to %s", i, rcpt)
						continue
					}
					assert.Equal(t, 1, got[rcpt], "mail %d to %s", i, rcpt)
				}
				if strings.HasPrefix(m.To[len(m.To)-1], "full-") {
					assert.GreaterOrEqual(t, r.Tries, 2, "mail %d: its full mailbox took a second try", i)
				}
			case OutcomeRefused:
				refused++
				assert.True(t, strings.HasPrefix(m.To[0], "bad-") && len(m.To) == 1, "mail %d: %v", i, r.Err)
				assert.Empty(t, got, "mail %d", i)
			case OutcomeUnknown:
				unknown++
				require.Contains(t, cs.unknown, id, "mail %d: unknown, but its connection was not dropped after its data", i)
				assert.Len(t, cs.session[id], cs.unknown[id], "mail %d: unknown mails are never sent again", i)
			default:
				t.Errorf("mail %d: %v after %d tries", i, r.Err, r.Tries)
			}
			if len(m.To) == 2 && strings.HasPrefix(m.To[1], "full-") {
				partial++
			}
			for _, rcpt := range m.To {
				if strings.HasPrefix(rcpt, "bad-") {
					assert.Equal(t, 1, cs.bad[rcpt], "mail %d: a 5xx is never retried", i)
				}
			}
			for rcpt, n := range got {
				assert.Equal(t, 1, n, "mail %d reached %s %d times", i, rcpt, n)
			}
		}
		assert.Equal(t, total, delivered+refused+unknown)
		assert.Equal(t, total/250, refused, "the bad- only mails")
		assert.Equal(t, len(cs.unknown), unknown, "every mail taken at a dropped end of data is reported unknown")
		assert.Equal(t, total/40, partial)
		assert.Positive(t, cs.throttled)
		assert.Positive(t, cs.dropsMail)

		// The rate: no second with more MAILs than the rate, the burst and
		// the few mails that the pool sends again by itself allow; and
		// the fake time is what the tries need at that rate, plus the
		// pauses the throttling asked for.
		busiest, j := 0, 0
		for i, at := range cs.mailTimes {
			for at.Sub(cs.mailTimes[j]) >= time.Second {
				j++
			}
			busiest = max(busiest, i-j+1)
		}
		pc := p.cfg.pace
		atRate := time.Duration(pc.admitted-burst) * time.Second / perSec
		assert.LessOrEqual(t, busiest, perSec+burst+2*callers, "the busiest second")
		assert.GreaterOrEqual(t, elapsed, atRate)
		assert.LessOrEqual(t, elapsed, atRate+pc.paused+5*time.Second)
		t.Logf("%d mails: %d delivered (%d in two transactions), %d refused for good, %d unknown; "+
			"%d tries (%d admitted by the rate limit), %d MAILs, %d throttled, %d connections dropped at MAIL "+
			"and %d after the data, %d sessions; %v on the fake clock: %v at %d/s and %v paused; busiest second %d MAILs",
			total, delivered, partial, refused, unknown, tries, pc.admitted, cs.mails, cs.throttled, cs.dropsMail,
			len(cs.unknown), cs.sessions, elapsed, atRate, perSec, pc.paused, busiest)
	})
}

// campaignPool returns a pool over pipes to cs, and the pipes.
func campaignPool(cs *campaignServer, opts ...PoolOption) (*Pool, *rawsrv.Pipes) {
	pipes := rawsrv.NewPipes(cs.serve)
	return NewPool(func(ctx context.Context) (*SMTP, error) {
		return DialContext(ctx, "relay.example", 25, WithDialer(pipes), WithLocalHostname("c.example"))
	}, opts...), pipes
}
