package smtplib

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// TestDeliveryUnknown drops the connection at each point of a Sendmail
// transaction, in every mode: errors.Is(err, ErrDeliveryUnknown) holds
// exactly when the whole message had gone out before the drop and no
// reply to it came. With PIPELINING and CHUNKING a small message goes out
// with its envelope, before any reply, so every drop leaves it unknown.
func TestDeliveryUnknown(t *testing.T) {
	for _, mode := range modes {
		chunking := strings.Contains(mode.name, "chunking")
		both := chunking && strings.Contains(mode.name, "pipelining")
		points := []struct {
			name    string
			fault   smtptest.Fault
			unknown bool
		}{
			{"at MAIL", smtptest.Fault{At: "MAIL"}, both},
			{"at the last RCPT", smtptest.Fault{At: "RCPT", N: 2}, both},
			{"at the end of the data (final dot or BDAT LAST)", smtptest.Fault{At: "DOT"}, true},
		}
		if chunking {
			points = append(points, struct {
				name    string
				fault   smtptest.Fault
				unknown bool
			}{"on receipt of BDAT LAST, the chunk sent", smtptest.Fault{At: "BDAT"}, true})
		} else {
			points = append(points, struct {
				name    string
				fault   smtptest.Fault
				unknown bool
			}{"at DATA", smtptest.Fault{At: "DATA"}, false})
		}
		for _, p := range points {
			t.Run(mode.name+"/"+p.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(p.fault))
				c, err := Dial(srv.Host(), srv.Port(), WithTimeout(testTimeout))
				require.NoError(t, err)
				defer c.Close()
				_, err = c.Sendmail("s@example.com", []string{"a@example.com", "b@example.com"}, []byte("Subject: x\r\n\r\nbody\r\n"))
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				assert.Equal(t, p.unknown, errors.Is(err, ErrDeliveryUnknown), "%v", err)
				assert.ErrorIs(t, err, ErrSMTP)
				if p.unknown {
					assert.Contains(t, err.Error(), "delivery unknown")
				}
				assertClosed(t, c)
			})
		}
	}
}

// TestDeliveryUnknownWriteFails checks that a message whose data could not
// all be written is not unknown: the server stopped reading in the middle
// of it, so it never saw the end of the data.
func TestDeliveryUnknownWriteFails(t *testing.T) {
	big := []byte(strings.Repeat("a line of a message larger than the socket buffers\r\n", 1<<19))
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			at := "DATA_BODY"
			if strings.Contains(mode.name, "chunking") {
				at = "BDAT"
			}
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext[1:]...), smtptest.WithFault(smtptest.Fault{At: at}))
			c, err := Dial(srv.Host(), srv.Port(), WithTimeout(testTimeout))
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Sendmail("s@example.com", []string{"a@example.com"}, big)
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.False(t, errors.Is(err, ErrDeliveryUnknown), "%v", err)
		})
	}
}

// TestDataDeliveryUnknown checks the plain Data command: a connection lost
// after the final dot leaves the delivery unknown, one lost at DATA does
// not.
func TestDataDeliveryUnknown(t *testing.T) {
	for _, tt := range []struct {
		at      string
		unknown bool
	}{{"DOT", true}, {"DATA", false}} {
		t.Run(tt.at, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithFault(smtptest.Fault{At: tt.at}))
			c, err := Dial(srv.Host(), srv.Port(), WithTimeout(testTimeout))
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.EhloOrHeloIfNeeded())
			r, err := c.Mail("s@example.com")
			require.NoError(t, err)
			require.Equal(t, 250, r.Code)
			r, err = c.Rcpt("a@example.com")
			require.NoError(t, err)
			require.Equal(t, 250, r.Code)
			_, err = c.Data([]byte("x\r\n"))
			require.Error(t, err)
			assert.Equal(t, tt.unknown, errors.Is(err, ErrDeliveryUnknown), "%v", err)
		})
	}
}
