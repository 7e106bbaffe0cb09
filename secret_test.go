package smtplib

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of Secret: a password prints as <redacted> in every form.

// TestCredentialsNeverPrint: after Login, no fmt verb shows the password,
// whether the client is printed through its pointer or as a value, and
// neither does encoding/json.
func TestCredentialsNeverPrint(t *testing.T) {
	const pass = "pa55-w0rd-s3cret"
	srv := smtptest.NewServer(t, smtptest.WithAuth("PLAIN"), smtptest.WithUsers(map[string]string{"alice": pass}))
	c := dialTest(t, srv)
	_, err := c.Login("alice", pass)
	require.NoError(t, err)
	require.Equal(t, pass, string(c.Password), "the secret itself is still there for the mechanisms")

	// The value is taken through reflect, so that go vet sees no copy of
	// the client's mutex (printing a copied client is what it warns of).
	value := reflect.ValueOf(c).Elem().Interface()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		for name, x := range map[string]any{"pointer": c, "value": value, "field": c.Password} {
			out := fmt.Sprintf(verb, x)
			assert.NotContains(t, out, pass, "%s of the %s", verb, name)
			assert.NotContains(t, out, fmt.Sprintf("%x", pass), "%s of the %s", verb, name)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", c), "Password:<redacted>")
	b, err := json.Marshal(value)
	require.NoError(t, err)
	assert.NotContains(t, string(b), pass)
	assert.Contains(t, string(b), `"Password":"\u003credacted\u003e"`)
}

// TestSecretMethods: the Stringer, GoStringer and TextMarshaler that
// loggers call directly, without fmt, redact as well.
func TestSecretMethods(t *testing.T) {
	s := Secret("pa55")
	assert.Equal(t, "<redacted>", s.String())
	assert.Equal(t, `"<redacted>"`, s.GoString())
	b, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "<redacted>", string(b))
	assert.Equal(t, "pa55", string(s), "the value itself is the secret")
}
