package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gosmtplib/smtplib"
)

func TestDescribe(t *testing.T) {
	assert.Equal(t, "EHLO: no answer within 2s (--timeout)",
		describe(&stepError{step: "EHLO", timeout: 2 * time.Second, err: &smtplib.ServerDisconnectedError{Err: os.ErrDeadlineExceeded}}))
	assert.Equal(t, `data refused: 554 bad\x1b[31m news`,
		describe(&smtplib.DataError{ResponseError: smtplib.ResponseError{Code: 554, Message: "bad\x1b[31m\nnews"}}))
	assert.Equal(t, `a\xffb`, clean("a\xffb"))
}
