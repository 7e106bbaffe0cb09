package smtplib

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

func TestReplyEnhancedCode(t *testing.T) {
	tests := []struct {
		name string
		r    Reply
		want [3]int
	}{
		{"unknown user", Reply{550, "5.1.1 <x@y>: Recipient address rejected"}, [3]int{5, 1, 1}},
		{"ok", Reply{250, "2.0.0 Ok: queued as 4F2C"}, [3]int{2, 0, 0}},
		{"temporary", Reply{451, "4.3.0 Try again"}, [3]int{4, 3, 0}},
		{"three digit parts", Reply{554, "5.123.456 x"}, [3]int{5, 123, 456}},
		{"code alone", Reply{552, "5.3.4"}, [3]int{5, 3, 4}},
		{"tab after", Reply{552, "5.3.4\ttoo big"}, [3]int{5, 3, 4}},
		{"first line only", Reply{250, "2.1.0 first\n2.1.5 second"}, [3]int{2, 1, 0}},
		{"second line ignored", Reply{550, "no code here\n5.1.1 later"}, [3]int{}},
		{"none", Reply{550, "No such user"}, [3]int{}},
		{"empty", Reply{550, ""}, [3]int{}},
		{"class disagrees", Reply{550, "4.1.1 odd"}, [3]int{}},
		{"class 3", Reply{354, "3.0.0 go ahead"}, [3]int{}},
		{"no readable code", Reply{-1, "5.1.1 x"}, [3]int{}},
		{"code out of range", Reply{650, "6.1.1 x"}, [3]int{}},
		{"two digit class", Reply{550, "55.1.1 x"}, [3]int{}},
		{"four digit subject", Reply{550, "5.1234.1 x"}, [3]int{}},
		{"four digit detail", Reply{550, "5.1.1234 x"}, [3]int{}},
		{"missing detail", Reply{550, "5.1. x"}, [3]int{}},
		{"two parts", Reply{550, "5.1 x"}, [3]int{}},
		{"glued text", Reply{550, "5.1.1x"}, [3]int{}},
		{"glued dot", Reply{550, "5.1.1.2 x"}, [3]int{}},
		{"letters", Reply{550, "a.b.c x"}, [3]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.r.EnhancedCode())
			re := &ResponseError{Code: tt.r.Code, Message: tt.r.Message}
			assert.Equal(t, tt.want, re.EnhancedCode())
		})
	}
}

func TestTemporary(t *testing.T) {
	for code, want := range map[int]bool{421: true, 450: true, 499: true, 500: false, 550: false, 250: false, -1: false, 0: false, 399: false} {
		r := Reply{Code: code, Message: "x"}
		assert.Equal(t, want, r.Temporary(), "Reply %d", code)
		re := &ResponseError{Code: code, Message: "x"}
		assert.Equal(t, want, re.Temporary(), "ResponseError %d", code)
	}
}

// Every error that embeds ResponseError answers through the embedded value,
// directly and through errors.As.
func TestEmbeddedErrorsEnhancedCode(t *testing.T) {
	re := ResponseError{Code: 452, Message: "4.5.3 Too many recipients"}
	errs := []interface {
		error
		EnhancedCode() [3]int
		Temporary() bool
	}{
		&SenderRefusedError{ResponseError: re, Sender: "a@b"},
		&DataError{re}, &ConnectError{re}, &HeloError{re}, &AuthenticationError{ResponseError: re}, &re,
	}
	for _, err := range errs {
		assert.Equal(t, [3]int{4, 5, 3}, err.EnhancedCode(), "%T", err)
		assert.True(t, err.Temporary(), "%T", err)
		var got *ResponseError
		require.True(t, errors.As(err, &got), "%T", err)
		assert.Equal(t, [3]int{4, 5, 3}, got.EnhancedCode())
	}
}

func TestRecipientsRefusedStatus(t *testing.T) {
	tests := []struct {
		name      string
		refused   map[string]Reply
		code      [3]int
		temporary bool
	}{
		{"all the same permanent", map[string]Reply{
			"a@x": {550, "5.1.1 unknown"}, "b@x": {550, "5.1.1 unknown"}}, [3]int{5, 1, 1}, false},
		{"all temporary", map[string]Reply{
			"a@x": {450, "4.2.1 busy"}, "b@x": {452, "4.5.3 too many"}}, [3]int{}, true},
		{"mixed", map[string]Reply{
			"a@x": {450, "4.2.1 busy"}, "b@x": {550, "5.1.1 unknown"}}, [3]int{}, false},
		{"421 ended the session", map[string]Reply{
			"a@x": {421, "4.3.2 shutting down"}}, [3]int{4, 3, 2}, true},
		{"none", map[string]Reply{}, [3]int{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &RecipientsRefusedError{Recipients: tt.refused}
			assert.Equal(t, tt.code, e.EnhancedCode())
			assert.Equal(t, tt.temporary, e.Temporary())
		})
	}
}

// The errors Sendmail returns carry the refusal's enhanced code and say
// whether to retry, in every transaction mode.
func TestSendmailErrorsEnhancedCode(t *testing.T) {
	tests := []struct {
		name      string
		opts      []smtptest.Option
		code      [3]int
		temporary bool
	}{
		{"sender", []smtptest.Option{smtptest.WithRefuseSender("s@example.com", "553 5.7.1 not you")}, [3]int{5, 7, 1}, false},
		{"recipient", []smtptest.Option{smtptest.WithRefuseRecipient("a@example.com", "550 5.1.1 no such user")}, [3]int{5, 1, 1}, false},
		{"recipient later", []smtptest.Option{smtptest.WithRefuseRecipient("a@example.com", "450 4.2.1 busy")}, [3]int{4, 2, 1}, true},
		{"message", []smtptest.Option{smtptest.WithReply("DOT", "552 5.3.4 too big")}, [3]int{5, 3, 4}, false},
		{"message later", []smtptest.Option{smtptest.WithReply("DOT", "451 4.3.0 try later")}, [3]int{4, 3, 0}, true},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, append([]smtptest.Option{smtptest.WithExtensions(mode.ext...)}, tt.opts...)...)
				c := dialTest(t, srv)
				_, err := c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n"))
				var status interface {
					EnhancedCode() [3]int
					Temporary() bool
				}
				require.ErrorAs(t, err, &status)
				assert.Equal(t, tt.code, status.EnhancedCode())
				assert.Equal(t, tt.temporary, status.Temporary())
			})
		}
	}
}

// A server that sends no enhanced codes gives zeros, and the reply code
// alone still says whether to retry.
func TestEnhancedCodeAbsent(t *testing.T) {
	for _, plain := range []bool{false, true} {
		opts := []smtptest.Option{smtptest.WithSize(10)}
		want := [3]int{5, 3, 4}
		if plain {
			opts = append(opts, smtptest.WithoutEnhancedStatusCodes())
			want = [3]int{}
		}
		srv := smtptest.NewServer(t, opts...)
		c := dialTest(t, srv)
		_, err := c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("more than ten bytes\r\n"))
		var sre *SenderRefusedError
		require.ErrorAs(t, err, &sre)
		assert.Equal(t, 552, sre.Code)
		assert.Equal(t, want, sre.EnhancedCode(), "without codes: %v", plain)
		assert.False(t, sre.Temporary())
	}
}

// TestEnhancedCodeReadOnce checks that an error made from a reply reads
// its enhanced code once, when it is made, and that one made by hand
// reads it at each call.
func TestEnhancedCodeReadOnce(t *testing.T) {
	made := respErr(Reply{550, "5.1.1 No such user"})
	made.Message = "no code any more"
	assert.Equal(t, [3]int{5, 1, 1}, made.EnhancedCode(), "read when the error was made")
	byHand := &ResponseError{Code: 550, Message: "5.7.1 Relaying denied"}
	assert.Equal(t, [3]int{5, 7, 1}, byHand.EnhancedCode())
	byHand.Message = "no code"
	assert.Equal(t, [3]int{}, byHand.EnhancedCode())
	var de *DataError = &DataError{respErr(Reply{452, "4.3.1 Out of space"})}
	assert.Equal(t, [3]int{4, 3, 1}, de.EnhancedCode())
	assert.ErrorIs(t, de, ErrSMTP)
}
